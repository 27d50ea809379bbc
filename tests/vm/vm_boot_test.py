#!/usr/bin/env python3
"""VM boot test: a Debian kernel boots under QEMU with PearVisor's
pv-vhost-user-gpu as its GPU; the guest's virtio_gpu driver probes, fbcon
comes up on PearVisor's scanout, a known string is written on the console,
and the scanout dumped as PNG must have changed and have the expected size
and format. The PNGs stay in <workdir>/artifacts.

The guest runs under KVM when a guest kernel boots with it here, else under
TCG (pearvisor.choose_accel), on the project's QEMU (scripts/build-qemu.sh).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from vmtest import lit_bytes, read_png


WATCHDOG_S = 2


def check_hang_diagnostics(vm):
    """A guest command that outlives the init's watchdog: the guest dumps
    its tasks and kernel log ("PV_WD" lines), its kernel log at every level
    is streamed to the second serial port, QEMU's monitor answers, the
    harness has the backend log its state (SIGUSR2), and the command's
    answer still parses."""
    t0 = time.time()
    rc, _, files = vm.sh("slow", f"sleep {WATCHDOG_S + 3}; echo slept", 60)
    out = vm.output()
    wd = [l for l in out.splitlines() if l.startswith("PV_WD slow")]
    print(f"command past the watchdog: exit {rc}, {time.time() - t0:.1f} s, {len(wd)} dump lines")
    want = ["PV_WD slow begin", "PV_WD slow end", " sleep state S", "PV_WD slow dmesg "]
    missing = [w for w in want if not any(w in l for l in wd)]
    if rc != 0 or files.get(".stdout") != b"slept\n" or missing:
        print(f"FAIL: guest watchdog dump lacks {missing}, or the answer is wrong: {files}")
        print("\n".join(wd[:40]))
        return False
    try:
        with open(vm.kernel_log, errors="replace") as f:
            klog = f.read()
    except OSError:
        klog = ""
    if "Linux version" not in klog or "PV_WATCHDOG slow" not in klog:
        print(f"FAIL: the guest kernel log ({vm.kernel_log}) lacks the boot or the watchdog's "
              "marker:\n" + klog[-2000:])
        return False
    status = vm.monitor(["info status"])
    if "VM status: running" not in status:
        print(f"FAIL: QEMU's monitor ({vm.monitor_sock}) does not say the VM runs:\n{status}")
        return False
    log = vm.backend.read_log()
    if "state dump (SIGUSR2)" not in log or "queue 0: num " not in log:
        print("FAIL: no backend state dump (SIGUSR2) in its log:\n" + log[-2000:])
        return False
    print("guest watchdog dump and backend state dump present")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True)
    ap.add_argument("--launcher-dir", required=True)
    ap.add_argument("--mkinitramfs", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kernel")
    ap.add_argument("--initrd", help="prebuilt initramfs (default: built from /lib/modules)")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    a = ap.parse_args()
    sys.path.insert(0, a.launcher_dir)
    import pearvisor  # noqa: E402  (the launcher, configured by meson)

    shutil.rmtree(a.workdir, ignore_errors=True)
    art = os.path.join(a.workdir, "artifacts")
    os.makedirs(art)
    kernel = a.kernel or pearvisor.newest_kernel()
    t0 = time.time()
    initrd = a.initrd
    if not initrd:
        initrd = os.path.join(a.workdir, "initramfs.cpio")
        subprocess.check_call([sys.executable, a.mkinitramfs, "--kernel", kernel, "--out", initrd])
    # a short watchdog: the hang diagnostics are checked below
    vm = pearvisor.Vm(kernel, initrd, a.backend, a.workdir, a.width, a.height,
                      append=f"pv.watchdog={WATCHDOG_S}")
    vm.start()
    ok = False
    try:
        print(f"QEMU {vm.qemu[0]}, accelerator {vm.accel}")
        if not vm.wait_for("Linux version", 60):
            print(f"FAIL: the guest kernel printed nothing in 60 s under {vm.accel}")
            return 1
        if not vm.wait_for("PV_READY", 180):
            print("FAIL: guest did not reach fbcon on the virtio-gpu framebuffer")
            return 1
        out = vm.output()
        for needle in ("Initialized virtio_gpu", "frame buffer device"):
            if needle not in out:
                print(f"FAIL: '{needle}' missing from the guest's kernel log")
                return 1
        print(f"guest up with fbcon after {time.time() - t0:.1f} s")
        before = os.path.join(art, "scanout-before.png")
        after = os.path.join(art, "scanout-after.png")
        time.sleep(1)
        if not vm.dump_png(before):
            print("FAIL: no PNG from the backend")
            return 1
        vm.send("WRITE PEARVISOR-CONSOLE-TEST")
        if not vm.wait_for("PV_WROTE", 60):
            print("FAIL: guest did not write the console string")
            return 1
        time.sleep(1)
        if not vm.dump_png(after):
            print("FAIL: no second PNG from the backend")
            return 1
        wb, hb, db, cb, rb = read_png(before)
        wa, ha, da, ca, ra = read_png(after)
        print(f"before: {wb}x{hb} depth {db} type {cb}; after: {wa}x{ha} depth {da} type {ca}")
        if (wa, ha, da, ca) != (a.width, a.height, 8, 2) or (wb, hb) != (wa, ha):
            print(f"FAIL: expected {a.width}x{a.height} 8-bit RGB")
            return 1
        if ra == rb:
            print("FAIL: the frame did not change after writing on the console")
            return 1
        lit = lit_bytes(ra, wa, ha)
        print(f"frame changed; {lit} lit bytes after writing; artifacts in {art}")
        if lit == 0:
            print("FAIL: the frame after writing is black")
            return 1
        if not check_hang_diagnostics(vm):
            return 1
        vm.send("POWEROFF")
        ok = True
        return 0
    finally:
        status = vm.stop(timeout=20 if ok else 0)
        if not ok:
            print("---- serial (tail) ----")
            print(vm.output()[-3000:])
            print("---- backend log (tail) ----")
            with open(vm.backend_log, errors="replace") as f:
                print(f.read()[-3000:])
        elif status != 0:
            print(f"FAIL: backend exited with {status}")
            sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
