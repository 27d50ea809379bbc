#!/usr/bin/env python3
"""pearvisor: boots a Linux guest under QEMU with PearVisor as its GPU.

  pearvisor run [--kernel /boot/vmlinuz-X] [--initrd FILE] [--png FILE]
                [--width W] [--height H] [--memory 512M] [--append ARGS]

QEMU gets -device vhost-user-gpu-pci, whose device model is PearVisor's
pv-vhost-user-gpu backend; the guest's console (fbcon on virtio_gpu) is drawn
on PearVisor's scanout and the serial console is this terminal. Without
--initrd, the test initramfs (busybox + virtio_gpu modules) is built.
`kill -USR1 <backend pid>` (printed at start) writes the scanout to --png.

QEMU 7.2's vhost-user devices need KVM (ioeventfds); on a machine without a
usable /dev/kvm `run` fails with a clear message. Environment overrides:
PV_QEMU (QEMU command, split like a shell would), PV_QEMU_ARGS (extra args).

Also importable: class Vm drives one guest for tests.
"""
import argparse
import glob
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Filled in by meson when the launcher is configured into the build dir.
DEFAULT_BACKEND = "@BACKEND@"
DEFAULT_MKINITRAMFS = "@MKINITRAMFS@"


def kvm_available():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def newest_kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    if not kernels:
        raise SystemExit("no kernel in /boot (install linux-image-amd64)")
    return kernels[-1]


def qemu_command():
    return shlex.split(os.environ.get("PV_QEMU", "qemu-system-x86_64"))


class Vm:
    """One guest: the PearVisor backend process plus QEMU."""

    def __init__(self, kernel, initrd, backend, workdir, width=1024, height=768,
                 memory="512M", append="", png=None, interactive=False):
        self.kernel, self.initrd, self.backend = kernel, initrd, backend
        self.workdir = workdir
        self.width, self.height, self.memory = width, height, memory
        self.append = append
        self.png = png or os.path.join(workdir, "scanout.png")
        self.interactive = interactive
        self.sock = os.path.join(workdir, "vhost-user-gpu.sock")
        self.serial = bytearray()
        self.lock = threading.Condition()
        self.backend_proc = self.qemu_proc = None
        self.backend_log = os.path.join(workdir, "backend.log")
        self.serial_log = os.path.join(workdir, "serial.log")

    def qemu_args(self):
        mem = self.memory
        args = qemu_command() + [
            "-accel", "kvm", "-m", mem, "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            # vhost-user maps guest RAM: it must be a shared memfd.
            "-object", f"memory-backend-memfd,id=mem,size={mem},share=on",
            "-machine", "pc,memory-backend=mem",
            "-chardev", f"socket,id=pvgpu,path={self.sock}",
            "-device", "vhost-user-gpu-pci,chardev=pvgpu",
            "-kernel", self.kernel, "-initrd", self.initrd,
            "-append", f"console=tty0 console=ttyS0 panic=-1 {self.append}".strip(),
            "-serial", "stdio",
        ]
        return args + shlex.split(os.environ.get("PV_QEMU_ARGS", ""))

    def start(self):
        if not kvm_available():
            raise RuntimeError("QEMU 7.2's vhost-user-gpu needs KVM, and /dev/kvm does not open")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        env = dict(os.environ)
        env.setdefault("PV_LOG", "info")
        with open(self.backend_log, "wb") as log:
            self.backend_proc = subprocess.Popen(
                [self.backend, "--socket-path", self.sock, "--png", self.png,
                 "--width", str(self.width), "--height", str(self.height)],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            if self.backend_proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"backend did not start; see {self.backend_log}")
            time.sleep(0.05)
        if self.interactive:
            self.qemu_proc = subprocess.Popen(self.qemu_args())
            return
        self.qemu_proc = subprocess.Popen(self.qemu_args(), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        with open(self.serial_log, "wb") as log:
            while True:
                data = self.qemu_proc.stdout.read1(4096)
                if not data:
                    break
                log.write(data)
                log.flush()
                with self.lock:
                    self.serial += data
                    self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def output(self):
        with self.lock:
            return self.serial.decode(errors="replace")

    def wait_for(self, text, timeout):
        """Waits until `text` appeared on the serial console."""
        deadline = time.time() + timeout
        needle = text.encode()
        with self.lock:
            while needle not in self.serial:
                left = deadline - time.time()
                if left <= 0 or self.qemu_proc.poll() is not None:
                    return needle in self.serial
                self.lock.wait(min(left, 0.5))
            return True

    def send(self, line):
        self.qemu_proc.stdin.write(line.encode() + b"\n")
        self.qemu_proc.stdin.flush()

    def dump_png(self, path, timeout=10):
        """Has the backend write its current scanout, then moves it to path."""
        if os.path.exists(self.png):
            os.unlink(self.png)
        self.backend_proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + timeout
        while not os.path.exists(self.png):
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        os.replace(self.png, path)
        return True

    def stop(self, timeout=20):
        """Waits up to `timeout` s for QEMU to exit (the guest powering off),
        then stops it and the backend (SIGTERM; it would otherwise wait for
        the next QEMU); returns the backend's exit status (0 when clean)."""
        if self.qemu_proc and self.qemu_proc.poll() is None:
            try:
                self.qemu_proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.qemu_proc.terminate()
                self.qemu_proc.wait(10)
        if self.backend_proc is None:
            return None
        # The backend outlives a QEMU (it waits for the next one): stop it.
        if self.backend_proc.poll() is None:
            self.backend_proc.terminate()
        try:
            return self.backend_proc.wait(10)
        except subprocess.TimeoutExpired:
            self.backend_proc.kill()
            return self.backend_proc.wait()


def build_initramfs(kernel, out):
    tool = DEFAULT_MKINITRAMFS
    if tool.startswith("@"):
        tool = os.path.join(HERE, "..", "..", "tests", "vm", "mkinitramfs.py")
    subprocess.check_call([sys.executable, tool, "--kernel", kernel, "--out", out],
                          stdout=subprocess.DEVNULL)


def cmd_run(a):
    backend = a.backend or DEFAULT_BACKEND
    if backend.startswith("@"):
        raise SystemExit("--backend is required when running from the source tree")
    kernel = a.kernel or newest_kernel()
    workdir = tempfile.mkdtemp(prefix="pearvisor-")
    initrd = a.initrd
    if not initrd:
        initrd = os.path.join(workdir, "initramfs.cpio")
        build_initramfs(kernel, initrd)
    vm = Vm(kernel, initrd, backend, workdir, a.width, a.height, a.memory, a.append,
            png=a.png and os.path.abspath(a.png), interactive=True)
    try:
        vm.start()
    except RuntimeError as e:
        raise SystemExit(f"pearvisor: {e}")
    print(f"pearvisor: backend pid {vm.backend_proc.pid}; `kill -USR1 {vm.backend_proc.pid}` "
          f"writes the scanout to {vm.png}; logs in {workdir}", file=sys.stderr)
    try:
        rc = vm.qemu_proc.wait()
    except KeyboardInterrupt:
        vm.qemu_proc.terminate()
        rc = vm.qemu_proc.wait()
    vm.stop()
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pearvisor")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot a Linux guest with PearVisor as its GPU")
    r.add_argument("--kernel")
    r.add_argument("--initrd")
    r.add_argument("--backend", help="pv-vhost-user-gpu binary")
    r.add_argument("--png", help="where SIGUSR1 to the backend writes the scanout")
    r.add_argument("--width", type=int, default=1024)
    r.add_argument("--height", type=int, default=768)
    r.add_argument("--memory", default="512M")
    r.add_argument("--append", default="", help="extra kernel command line")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        return cmd_run(a)
    return 2


if __name__ == "__main__":
    sys.exit(main())
