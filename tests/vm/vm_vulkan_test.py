#!/usr/bin/env python3
"""Vulkan inside a VM, end to end: guest program -> guest Mesa venus ->
guest kernel virtio_gpu -> QEMU vhost-user-gpu -> pv-vhost-user-gpu ->
PearVisor's renderer -> the host's Vulkan driver.

One guest boot (KVM when a guest boots with it here, else TCG) runs:
  1. console on PearVisor's scanout: the PNG has the expected size and ink;
  2. per guest ICD: `vulkaninfo --summary` names
     "Virtio-GPU Venus (<host device>)", the host device read from the
     host's own vulkaninfo;
  3. per guest ICD and tests/vk program: the output file written in the
     guest is byte-identical to the same program's output run natively on
     the host driver (moved out over the serial console);
then
  4. a Vulkan program is started in the guest, QEMU is killed (SIGKILL) while
     it runs, and a second guest on the same backend process must pass a
     Vulkan program (the backend is left ready for the next guest).

Prints TAP (meson protocol 'tap'); times of the boot and of each check go to
the log. Outputs that differ are kept in <workdir>/artifacts.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from vmtest import LVP_ICD, Tap, device_name, host_device_name, lit_bytes, read_png, run_native

VENUS_PREFIX = "Virtio-GPU Venus"


def prog_name(path):
    return os.path.basename(path)


def boot(vm, tap, what, timeout):
    t0 = time.time()
    vm.start()
    ready = vm.wait_for("PV_READY", timeout)
    secs = time.time() - t0
    detail = f"{secs:.1f} s to PV_READY under {vm.accel} (QEMU {vm.qemu[0]}, hostmem {vm.hostmem})"
    if not ready:
        detail += "\n---- serial (tail) ----\n" + vm.output()[-3000:]
    tap.ok(ready, what, detail)
    return ready


def check_console(vm, tap, art, width, height):
    png = os.path.join(art, "console.png")
    if not vm.dump_png(png):
        return tap.ok(False, "console on PearVisor's scanout", "no PNG from the backend")
    w, h, depth, ctype, raw = read_png(png)
    lit = lit_bytes(raw, w, h)
    good = (w, h, depth, ctype) == (width, height, 8, 2) and lit > 0
    return tap.ok(good, "console on PearVisor's scanout",
                  f"{w}x{h} depth {depth} type {ctype}, {lit} lit bytes ({png})")


def guest_env(label, prog=None):
    env = f"VK_ICD_FILENAMES=/etc/pv/icd/{label}.json"
    # Mesa 25.0's vkSignalSemaphore sends the signal to the host first and
    # then writes the semaphore's feedback slot (vn_SignalSemaphore in
    # src/virtio/vulkan/vn_queue.c). When the host runs the work that waited
    # for the signal before the guest's write lands, the feedback write of a
    # later value is overwritten and the guest waits forever. Under TCG the
    # guest is slow enough for that to happen (2 of 9 boots, in
    # vkt-timeline); the race is the guest driver's, so that program runs
    # without semaphore feedback there (docs/vulkan-in-vm.md).
    if label.startswith("mesa25") and prog == "vkt-timeline":
        env = "VN_PERF=no_semaphore_feedback " + env
    return env


def check_vulkaninfo(vm, tap, label, host_name, timeout):
    t0 = time.time()
    try:
        rc, gsecs, files = vm.sh(f"vi-{label}", f"{guest_env(label)} vulkaninfo --summary", timeout)
    except Exception as e:  # noqa: BLE001  (a timeout or a damaged answer)
        return tap.ok(False, f"[{label}] vulkaninfo in the guest", str(e))
    out = files.get(".stdout", b"").decode(errors="replace")
    err = files.get(".stderr", b"").decode(errors="replace")
    want = f"{VENUS_PREFIX} ({host_name})"
    got = device_name(out)
    detail = f"exit {rc}, {gsecs:.2f} s in the guest, {time.time() - t0:.2f} s round trip\n"
    detail += f"deviceName = {got!r}, expected {want!r}"
    if got != want:
        detail += "\n" + out[-2000:] + "\n" + err[-2000:]
        try:  # Mesa's own account of what it missed
            _, _, dbg = vm.sh(f"vi-dbg-{label}", f"VN_DEBUG=init {guest_env(label)} vulkaninfo "
                              "--summary", timeout)
            detail += "\nwith VN_DEBUG=init:\n" + dbg.get(".stderr", b"").decode(
                errors="replace")[-2000:]
        except Exception as e:  # noqa: BLE001
            detail += f"\n(VN_DEBUG=init run failed: {e})"
    return tap.ok(rc == 0 and got == want, f"[{label}] vulkaninfo in the guest names {want}", detail)


def check_program(vm, tap, label, prog, native_out, art, timeout):
    name = prog_name(prog)
    what = f"[{label}] {name} in the guest = native"
    if native_out is None:
        return tap.ok(False, what, "the native run failed")
    t0 = time.time()
    try:
        rc, gsecs, files = vm.sh(f"{name}-{label}", f"{guest_env(label, name)} {name} out", timeout)
    except Exception as e:  # noqa: BLE001
        return tap.ok(False, what, str(e))
    got = files.get("out")
    err = files.get(".stderr", b"").decode(errors="replace")
    detail = (f"exit {rc}, {gsecs:.2f} s in the guest, {time.time() - t0:.2f} s round trip, "
              f"{len(got) if got is not None else 'no'} bytes vs {len(native_out)} native")
    same = rc == 0 and got == native_out
    if not same:
        keep = os.path.join(art, f"{name}-{label}")
        os.makedirs(keep, exist_ok=True)
        with open(os.path.join(keep, "native.out"), "wb") as f:
            f.write(native_out)
        if got is not None:
            with open(os.path.join(keep, "guest.out"), "wb") as f:
                f.write(got)
        detail += f"\nkept in {keep}\n" + err[-2000:]
    else:
        detail += "\n" + "\n".join(l for l in err.splitlines() if l.startswith("vkt:"))
    return tap.ok(same, what, detail)


def native_outputs(programs, host_icd, art, tap):
    outs = {}
    t0 = time.time()
    for prog in programs:
        path = os.path.join(art, prog_name(prog) + ".native.out")
        rc, err = run_native(prog, path, host_icd)
        if rc != 0:
            tap.note(f"{prog_name(prog)}: native run exited with {rc}\n{err[-1500:]}")
            outs[prog] = None
        else:
            with open(path, "rb") as f:
                outs[prog] = f.read()
    tap.note(f"native runs of {len(programs)} programs: {time.time() - t0:.1f} s")
    return outs


def kill_mid_stream(pearvisor, a, tap, backend, initrd, label, loop_prog, check_prog, native):
    """Guest 1 runs a Vulkan program in a loop and is killed; guest 2 on the
    same backend must run `check_prog` with the native output."""
    vm = pearvisor.Vm(a.kernel, initrd, backend, a.workdir, a.width, a.height,
                      accel=a.accel, name="killed")
    try:
        if not boot(vm, tap, "guest to be killed boots", a.boot_timeout):
            return
        loop = prog_name(loop_prog)
        vm.send(f"BG kill {guest_env(label)} sh -c 'i=0; while true; do i=$((i+1)); "
                f"echo PV_TICK $i > /dev/console; {loop} /tmp/loop.out; done'")
        # the first run done, the next one started: kill inside a stream
        ticked = vm.wait_for("PV_TICK 1", a.cmd_timeout)
        log_at = len(backend.read_log())
        time.sleep(a.kill_delay)
        vm.kill()
        runs = vm.output().count("PV_TICK")
        tap.note(f"killed QEMU {a.kill_delay} s after the first {loop} run ended, during run "
                 f"{runs} of a back-to-back loop; backend log since:\n"
                 + backend.read_log()[log_at:][-1500:])
        tap.ok(ticked and backend.alive(), "backend alive after its guest was killed mid-stream",
               "" if backend.alive() else f"backend exited with {backend.proc.poll()}")
    finally:
        vm.kill()
    if not backend.alive():
        tap.ok(False, "a second guest on the same backend runs Vulkan", "the backend is gone")
        return
    vm2 = pearvisor.Vm(a.kernel, initrd, backend, a.workdir, a.width, a.height,
                       accel=a.accel, name="second")
    try:
        if boot(vm2, tap, "second guest boots on the same backend", a.boot_timeout):
            check_program(vm2, tap, label, check_prog, native, os.path.join(a.workdir, "artifacts"),
                          a.cmd_timeout)
            vm2.send("POWEROFF")
    finally:
        vm2.stop(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True)
    ap.add_argument("--launcher-dir", required=True)
    ap.add_argument("--mkinitramfs", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--initrd-cache", help="initramfs path (rebuilt only when inputs change)")
    ap.add_argument("--icd", action="append", default=[], help="[LABEL=]guest ICD json")
    ap.add_argument("--host-icd", default=LVP_ICD, help="host Vulkan driver for the backend "
                    "and the native runs")
    ap.add_argument("--kernel")
    ap.add_argument("--accel", help="kvm or tcg (default: pearvisor.choose_accel)")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--boot-timeout", type=float, default=180)
    ap.add_argument("--cmd-timeout", type=float, default=300)
    ap.add_argument("--kill-delay", type=float, default=1.0)
    ap.add_argument("--wire-format", type=int, choices=[0, 1], default=0,
                    help="venus wire format the backend serves (0: Mesa 22.3, 1: Mesa 25)")
    ap.add_argument("--no-kill", action="store_true", help="skip the killed-guest check")
    ap.add_argument("programs", nargs="+", help="tests/vk programs (directories are skipped)")
    a = ap.parse_args()
    sys.path.insert(0, a.launcher_dir)
    import pearvisor  # noqa: E402  (the launcher, configured by meson)

    tap = Tap()
    t_start = time.time()
    programs = [p for p in a.programs if not os.path.isdir(p) and os.access(p, os.X_OK)]
    icds = a.icd
    if not icds:
        tap.ok(False, "a guest ICD is given (--icd)")
        return tap.finish()
    if not os.environ.get("PV_QEMU") and not pearvisor.project_qemu():
        tap.ok(False, "the project's QEMU is built",
               "no QEMU under .cache/qemu: run scripts/build-qemu.sh (make test does)")
        return tap.finish()
    shutil.rmtree(a.workdir, ignore_errors=True)
    art = os.path.join(a.workdir, "artifacts")
    os.makedirs(art)
    a.kernel = a.kernel or pearvisor.newest_kernel()
    if not a.accel:
        a.accel, why = pearvisor.choose_accel(pearvisor.qemu_command(), a.kernel)
        tap.note(f"accelerator: {a.accel} ({why})")
    labels = [i.partition("=")[0] if "=" in i else f"icd{n}" for n, i in enumerate(icds)]

    t0 = time.time()
    initrd = a.initrd_cache or os.path.join(a.workdir, "guest.cpio")
    built = subprocess.run([sys.executable, a.mkinitramfs, "--kernel", a.kernel, "--out", initrd]
                           + sum((["--icd", i] for i in icds), []) + ["--program"] + programs,
                           capture_output=True, text=True)
    tap.note(built.stdout + built.stderr)
    if built.returncode != 0:
        tap.ok(False, "the guest initramfs is built")
        return tap.finish()
    tap.note(f"initramfs: {time.time() - t0:.1f} s, {os.path.getsize(initrd) >> 20} MiB")

    os.environ["VK_ICD_FILENAMES"] = a.host_icd  # the backend's host driver
    host_name = host_device_name(a.host_icd)
    tap.note(f"host device: {host_name}")
    natives = native_outputs(programs, a.host_icd, art, tap)

    hostmem = pearvisor.usable_hostmem(pearvisor.qemu_command(), a.backend,
                                       pearvisor.DEFAULT_HOSTMEM)
    backend = pearvisor.Backend(a.backend, a.workdir, a.width, a.height, hostmem,
                                wire_format=a.wire_format)
    vm = pearvisor.Vm(a.kernel, initrd, backend, a.workdir, a.width, a.height, accel=a.accel)
    backend.start()
    ok_boot = False
    try:
        ok_boot = boot(vm, tap, "guest boots to PV_READY", a.boot_timeout)
        if ok_boot:
            time.sleep(0.5)
            check_console(vm, tap, art, a.width, a.height)
            for label in labels:
                t1 = time.time()
                if not check_vulkaninfo(vm, tap, label, host_name, a.cmd_timeout):
                    tap.note("no venus device: skipping this ICD's programs")
                    continue
                for prog in programs:
                    if vm.stuck:  # each later command would wait its whole timeout
                        break
                    check_program(vm, tap, label, prog, natives[prog], art, a.cmd_timeout)
                if vm.stuck:
                    tap.note(f"guest command {vm.stuck} never answered: the guest's remaining "
                             "checks are not run")
                    break
                tap.note(f"[{label}] vulkaninfo + {len(programs)} programs: {time.time() - t1:.1f} s")
            vm.send("POWEROFF")
    finally:
        vm.stop(timeout=20 if ok_boot else 0)
        tap.note(f"first guest: {time.time() - t_start:.1f} s since the test started")
        if tap.failed:
            tap.note("---- first guest serial (tail) ----\n" + vm.output()[-3000:])
    try:
        if not a.no_kill and backend.alive():
            by_name = {prog_name(p): p for p in programs}
            loop_prog = by_name.get("vkt-draws", programs[0])
            check_prog = by_name.get("vkt-clear", programs[0])
            kill_mid_stream(pearvisor, a, tap, backend, initrd, labels[0], loop_prog, check_prog,
                            natives[check_prog])
        elif not a.no_kill:
            tap.ok(False, "backend alive after the first guest powered off",
                   f"backend exited with {backend.proc.poll()}")
    finally:
        status = backend.stop()
        tap.ok(status == 0, "the backend exits cleanly at the end", f"exit status {status}")
        tap.note(f"total {time.time() - t_start:.1f} s")
        if tap.failed:
            tap.note("---- backend log (tail) ----\n" + backend.read_log()[-4000:])
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
