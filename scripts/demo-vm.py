#!/usr/bin/env python3
"""The VM demo (make demo-vm): a Linux guest under QEMU whose GPU is
PearVisor. From inside the guest: `vulkaninfo --summary` (Mesa's venus
driver, whose device is the host's GPU), then a tests/vk program renders a
frame on the host GPU through the guest's virtio_gpu; the frame comes out
over the serial console and is saved as PNG, next to the guest's console
as PearVisor's scanout shows it.

usage: scripts/demo-vm.py BUILD_DIR ICD_JSON [--out DIR] [--program vkt-draws]
"""
import argparse
import os
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
from vmtest import LVP_ICD, host_device_name, run_native, write_png_rgba  # noqa: E402

# program -> (width, height) of its RGBA8 render target (tests/vk/*.c)
FRAMES = {"vkt-draws": (128, 128), "vkt-texture": (64, 64), "vkt-vertex-index": (96, 96),
          "vkt-clear": (64, 64)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("icd", help="guest venus ICD json")
    ap.add_argument("--out", help="default: BUILD/demo-vm")
    ap.add_argument("--program", default="vkt-draws", choices=sorted(FRAMES))
    ap.add_argument("--host-icd", default=LVP_ICD)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    out = os.path.abspath(a.out or os.path.join(build, "demo-vm"))
    os.makedirs(out, exist_ok=True)
    sys.path.insert(0, os.path.join(build, "src", "virtio-gpu"))
    import pearvisor  # noqa: E402  (configured by meson)

    prog = os.path.join(build, "tests", "vk", a.program)
    kernel = pearvisor.newest_kernel()
    initrd = os.path.join(out, "guest.cpio")
    pearvisor.build_initramfs(kernel, initrd, [f"venus={a.icd}"], [prog])
    accel, why = pearvisor.choose_accel(pearvisor.qemu_command(), kernel)
    os.environ["VK_ICD_FILENAMES"] = a.host_icd  # the backend's host driver
    print(f"== Host GPU (native vulkaninfo): {host_device_name(a.host_icd)}")
    vm = pearvisor.Vm(kernel, initrd, pearvisor.DEFAULT_BACKEND, out, accel=accel)
    t0 = time.time()
    vm.start()
    print(f"== Booting {os.path.basename(kernel)} under {accel} ({why}); QEMU {vm.qemu[0]}, "
          f"host-visible region {vm.hostmem or 'none'}")
    try:
        if not vm.wait_for("PV_READY", 300):
            print(vm.output()[-3000:])
            raise SystemExit("the guest did not come up; logs in " + out)
        print(f"   guest up after {time.time() - t0:.1f} s")
        console = os.path.join(out, "guest-console.png")
        time.sleep(0.5)
        vm.dump_png(console)

        print("\n== Inside the guest: vulkaninfo --summary")
        rc, secs, files = vm.sh("vulkaninfo", "vulkaninfo --summary", 300)
        sys.stdout.write(files.get(".stdout", b"").decode(errors="replace"))
        if rc != 0:
            sys.stdout.write(files.get(".stderr", b"").decode(errors="replace"))
            raise SystemExit(f"vulkaninfo failed in the guest ({rc})")
        print(f"   ({secs:.1f} s in the guest)")

        print(f"\n== Inside the guest: {a.program} renders on the host GPU")
        rc, secs, files = vm.sh("frame", f"{a.program} frame.rgba", 300)
        for line in files.get(".stderr", b"").decode(errors="replace").splitlines():
            print("   guest: " + line)
        if rc != 0 or "frame.rgba" not in files:
            raise SystemExit(f"{a.program} failed in the guest ({rc})")
        w, h = FRAMES[a.program]
        frame = os.path.join(out, "guest-frame.png")
        write_png_rgba(frame, w, h, files["frame.rgba"], scale=4)
        native_path = os.path.join(out, "native-frame.rgba")
        nrc, _ = run_native(prog, native_path, a.host_icd)
        same = nrc == 0 and open(native_path, "rb").read() == files["frame.rgba"]
        print(f"   frame {w}x{h} -> {frame} (shown 4x); "
              f"{'identical to' if same else 'DIFFERENT from'} the same program run natively")
        print(f"   guest console as PearVisor's scanout shows it: {console}")
        vm.send("POWEROFF")
    finally:
        vm.stop(timeout=20)
    print(f"\n== Done in {time.time() - t0:.1f} s; logs and PNGs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
