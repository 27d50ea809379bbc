#!/usr/bin/env python3
"""pearvisor: boots a Linux guest under QEMU with PearVisor as its GPU.

  pearvisor run [--kernel /boot/vmlinuz-X] [--initrd FILE] [--png FILE]
                [--width W] [--height H] [--memory 1G] [--hostmem 1G]
                [--accel auto|kvm|tcg] [--append ARGS] [--icd JSON ...]

QEMU gets -device vhost-user-gpu-pci, whose device model is PearVisor's
pv-vhost-user-gpu backend; the guest's console (fbcon on virtio_gpu) is drawn
on PearVisor's scanout and the serial console is this terminal. Without
--initrd, the guest initramfs (tests/vm/mkinitramfs.py: busybox, virtio_gpu
modules, and with --icd the Vulkan loader, venus ICD, vulkaninfo) is built.
`kill -USR1 <backend pid>` (printed at start) writes the scanout to --png.

QEMU: the project's build (scripts/build-qemu.sh, under .cache/qemu), whose
vhost-user-gpu has the host-visible region (`hostmem`) venus needs; the same
size is given to the backend. With a QEMU or backend that lack it, the
launcher runs without the region (2D and console only).

Accelerator: KVM when a guest kernel actually boots under it (tried once,
briefly, and remembered per host boot), else TCG. `/dev/kvm` opening is not
enough: some hosts' KVM (PVM) runs only specially built guest kernels.

Environment overrides: PV_QEMU (QEMU command, split like a shell would),
PV_QEMU_ARGS (extra args), PV_ACCEL (kvm or tcg: skip the probe).

Also importable: Backend and Vm drive guests for tests and the demo.
"""
import argparse
import base64
import functools
import glob
import gzip
import hashlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Filled in by meson when the launcher is configured into the build dir.
DEFAULT_BACKEND = "@BACKEND@"
DEFAULT_MKINITRAMFS = "@MKINITRAMFS@"
SOURCE_ROOT = "@SOURCE_ROOT@"

DEFAULT_MEMORY = "1G"
DEFAULT_HOSTMEM = "1G"
# QEMU's source build has no firmware of its own; Debian's seabios and
# qemu-system-data files work with it.
FIRMWARE_ARGS = ["-L", "/usr/share/seabios", "-L", "/usr/share/qemu"]


def source_root():
    if not SOURCE_ROOT.startswith("@"):
        return SOURCE_ROOT
    return os.path.abspath(os.path.join(HERE, "..", ".."))


def kvm_opens():
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


def project_qemu():
    """The QEMU that scripts/build-qemu.sh builds into .cache/qemu, or None."""
    cache = os.path.join(source_root(), ".cache", "qemu")
    for rel in ("install/bin/qemu-system-x86_64", "build/qemu-system-x86_64"):
        path = os.path.join(cache, rel)
        if os.access(path, os.X_OK):
            return path
    found = sorted(p for p in glob.glob(os.path.join(cache, "**", "qemu-system-x86_64"),
                                        recursive=True) if os.access(p, os.X_OK))
    return found[0] if found else None


def qemu_command():
    """The QEMU to run: PV_QEMU, else the project's build, else the system's."""
    if os.environ.get("PV_QEMU"):
        return shlex.split(os.environ["PV_QEMU"])
    return [project_qemu() or "qemu-system-x86_64"]


@functools.lru_cache(maxsize=None)
def device_properties(qemu):
    """Property names of QEMU's vhost-user-gpu-pci (e.g. 'hostmem')."""
    out = subprocess.run(list(qemu) + ["-device", "vhost-user-gpu-pci,help"],
                         capture_output=True, text=True, timeout=30)
    return frozenset(re.findall(r"^\s+([\w-]+)=", out.stdout, re.M))


@functools.lru_cache(maxsize=None)
def backend_options(backend):
    """Long options the backend's usage text names (e.g. '--hostmem')."""
    out = subprocess.run([backend, "--help"], capture_output=True, text=True, timeout=30)
    return frozenset(re.findall(r"--[\w-]+", out.stdout + out.stderr))


def usable_hostmem(qemu, backend, size):
    """`size` when both QEMU's vhost-user-gpu-pci and the backend take a
    host-visible region (the two must be given the same size), else None."""
    if size and "hostmem" in device_properties(tuple(qemu)) and \
            "--hostmem" in backend_options(backend):
        return size
    return None


def accel_args(accel):
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg", "-cpu", "max"]


def probe_kvm(qemu, kernel, timeout=10.0):
    """Boots `kernel` under KVM without a disk until it prints its banner.
    Returns (works, reason). The guest needs no initramfs: the banner comes
    long before the kernel looks for a root file system."""
    if not kvm_opens():
        return False, "/dev/kvm does not open"
    args = list(qemu) + FIRMWARE_ARGS + accel_args("kvm") + [
        "-m", "256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
        "-no-reboot", "-serial", "stdio", "-kernel", kernel,
        "-append", "console=ttyS0 earlyprintk=serial panic=-1"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = bytearray()
    deadline = time.time() + timeout
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        while time.time() < deadline:
            chunk = proc.stdout.read(65536)
            if chunk:
                out += chunk
            if b"Linux version" in out:
                return True, "a guest kernel boots under KVM"
            if proc.poll() is not None and not chunk:
                tail = out.decode(errors="replace").strip().splitlines()[-1:]
                return False, f"QEMU with KVM exited ({proc.returncode}): {' '.join(tail)}"
            time.sleep(0.05)
        return False, f"a guest kernel printed nothing under KVM in {timeout:.0f} s"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def choose_accel(qemu=None, kernel=None, cache_dir=None):
    """'kvm' when a guest kernel boots under KVM here, else 'tcg'; returns
    (accel, reason). The one place that decides, for the tests and `run`.
    The answer is cached per host boot, QEMU binary and kernel."""
    forced = os.environ.get("PV_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced, "PV_ACCEL"
    qemu = tuple(qemu or qemu_command())
    kernel = kernel or newest_kernel()
    if not kvm_opens():
        return "tcg", "/dev/kvm does not open"
    cache_dir = cache_dir or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "pearvisor")
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot_id = f.read().strip()
    except OSError:
        boot_id = "?"
    key = hashlib.sha256(repr((qemu, kernel, boot_id)).encode()).hexdigest()[:16]
    cached = os.path.join(cache_dir, f"accel-{key}")
    try:
        with open(cached) as f:
            accel, _, reason = f.read().strip().partition(" ")
            if accel in ("kvm", "tcg"):
                return accel, reason + " (cached)"
    except OSError:
        pass
    works, reason = probe_kvm(qemu, kernel)
    accel = "kvm" if works else "tcg"
    try:
        os.makedirs(cache_dir, exist_ok=True)
        with open(cached, "w") as f:
            f.write(f"{accel} {reason}\n")
    except OSError:
        pass
    return accel, reason


def backend_output_dir(workdir, name):
    """A directory the backend can write its PNGs to. Started as root, it
    runs as `nobody` (docs/sandbox.md), which cannot write to root's
    directories: the directory is then given to nobody."""
    out = os.path.join(workdir, f"{name}-out")
    os.makedirs(out, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("nobody")
        os.chown(out, pw.pw_uid, pw.pw_gid)
        os.chmod(out, 0o700)
    return out


class Backend:
    """One pv-vhost-user-gpu process listening on a socket."""

    def __init__(self, binary, workdir, width=1024, height=768, hostmem=None, png=None,
                 name="backend", wire_format=0, queue_priority=None, gpus=None):
        self.binary, self.workdir = binary, workdir
        self.width, self.height, self.hostmem = width, height, hostmem
        # The venus wire format the guest's driver speaks: 0 for Mesa 22.3,
        # 1 for Mesa 25. A guest kernel reads the capset once, so it is per VM.
        self.wire_format = wire_format
        # The host queue priority of the VM's devices: its share of the GPU
        # beside other VMs (None: the driver's default).
        self.queue_priority = queue_priority
        # The host GPUs the VM sees ("0", "1,3"; None: all).
        self.gpus = gpus
        self.png = png or os.path.join(backend_output_dir(workdir, name), "scanout.png")
        self.sock = os.path.join(workdir, f"{name}.sock")
        self.log = os.path.join(workdir, f"{name}.log")
        self.proc = None

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        env = dict(os.environ)
        env.setdefault("PV_LOG", "info")
        args = [self.binary, "--socket-path", self.sock, "--png", self.png,
                "--width", str(self.width), "--height", str(self.height)]
        if self.hostmem:
            args += ["--hostmem", self.hostmem]
        if self.wire_format:
            args += ["--venus-wire-format", str(self.wire_format)]
        if self.queue_priority:
            args += ["--queue-priority", self.queue_priority]
        if self.gpus:
            args += ["--gpus", self.gpus]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"backend did not start; see {self.log}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def dump_png(self, path, timeout=10):
        """Has the backend write its current scanout, then moves it to path."""
        if os.path.exists(self.png):
            os.unlink(self.png)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + timeout
        while not os.path.exists(self.png):
            if time.time() > deadline or not self.alive():
                return False
            time.sleep(0.05)
        time.sleep(0.1)  # the backend writes the file in one go; let it close
        os.replace(self.png, path)
        return True

    def dump_state(self, wait=1.0):
        """Has the backend log its device state (SIGUSR2: rings, held
        requests, fences) and returns the log lines it added, or why none
        came (a main loop that does not answer is itself the finding)."""
        if not self.alive():
            return f"backend exited with {self.proc.poll()}: no state dump"
        at = len(self.read_log())
        self.proc.send_signal(signal.SIGUSR2)
        deadline = time.time() + wait * 5
        while time.time() < deadline:
            time.sleep(wait / 5)
            added = self.read_log()[at:]
            if "display channel:" in added:  # the dump's last line
                return added
        return (self.read_log()[at:] + f"\nno state dump from the backend in {wait * 5:.0f} s: "
                "its main loop does not poll")

    def stop(self):
        """Stops the backend (SIGTERM: with --socket-path it outlives each
        QEMU, waiting for the next); returns its exit status, 0 when clean."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class GuestCommandError(RuntimeError):
    pass


def gdb_stacks(pid, timeout=90):
    """Every thread's user-space backtrace of process `pid` (gdb attaches
    for a moment), or why there is none."""
    gdb = shutil.which("gdb")
    if not gdb:
        return "no gdb"
    try:
        p = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off",
                            "-ex", "thread apply all bt 25"],
                           capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"gdb failed: {e}"
    return "\n".join(l for l in p.stdout.splitlines()
                     if l.startswith(("Thread ", "#"))) or p.stderr[-2000:]


# The guest init's watchdog dumps a command's tasks after this many seconds
# (tests/vm/mkinitramfs.py WATCHDOG_S, or pv.watchdog=N on the kernel command
# line); the host side dumps then as well.
GUEST_WATCHDOG_S = 60


def guest_watchdog_s(append):
    m = re.search(r"(?:^|\s)pv\.watchdog=([1-9]\d*)(?:\s|$)", append)
    return int(m.group(1)) if m else GUEST_WATCHDOG_S


def host_tasks(pid, what):
    """One line per thread of host process `pid`: state, wchan, syscall, and
    the kernel stack where readable (root). For a hang: is the backend's or
    QEMU's main loop blocked, and on what."""
    lines = []
    for task in sorted(glob.glob(f"/proc/{pid}/task/*"), key=lambda t: int(t.rsplit("/", 1)[1])):
        def rd(name):
            try:
                with open(os.path.join(task, name), errors="replace") as f:
                    return f.read().strip()
            except OSError:
                return "?"
        stat = rd("stat")
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        state = stat[stat.rfind(")") + 2:].split(" ", 1)[0]
        lines.append(f"{what} {task.rsplit('/', 1)[1]} {comm} state {state} wchan {rd('wchan')} "
                     f"syscall {rd('syscall').split(' ', 1)[0]}")
        if state not in ("R", "S"):
            lines += ["    " + l for l in rd("stack").splitlines()]
    return "\n".join(lines) or f"{what}: no such process {pid}"


class Vm:
    """One guest under QEMU. `backend` is a pv-vhost-user-gpu path (the Vm
    starts and stops its own backend) or a started Backend it shares."""

    def __init__(self, kernel, initrd, backend, workdir, width=1024, height=768,
                 memory=DEFAULT_MEMORY, append="", png=None, interactive=False,
                 accel=None, hostmem=DEFAULT_HOSTMEM, name="guest", wire_format=0,
                 queue_priority=None, gpus=None):
        self.kernel, self.initrd = kernel, initrd
        self.workdir = workdir
        self.memory, self.append = memory, append
        self.interactive = interactive
        self.qemu = qemu_command()
        self.accel = accel
        if isinstance(backend, Backend):
            self.backend, self.own_backend = backend, False
            self.hostmem = backend.hostmem
        else:
            self.hostmem = usable_hostmem(self.qemu, backend, hostmem)
            self.backend = Backend(backend, workdir, width, height, self.hostmem, png,
                                   wire_format=wire_format, queue_priority=queue_priority,
                                   gpus=gpus)
            self.own_backend = True
        self.serial = bytearray()
        self.stuck = None  # the id of a guest command that never answered
        self.lock = threading.Condition()
        self.qemu_proc = None
        self.serial_log = os.path.join(workdir, f"{name}-serial.log")
        self.qemu_log = os.path.join(workdir, f"{name}-qemu.log")
        # The guest's kernel log at every level, streamed by its init to a
        # second serial port (mkinitramfs.py): the console shows none of it
        # once commands run, and a hang's cause may be there (an oops).
        self.kernel_log = os.path.join(workdir, f"{name}-kernel.log")
        # QEMU's human monitor, for the state of a guest that stopped
        # answering (is its CPU halted, interrupts enabled, a timer armed?).
        self.monitor_sock = os.path.join(workdir, f"{name}-monitor.sock")

    # Compatibility with the first boot test.
    @property
    def backend_proc(self):
        return self.backend.proc

    @property
    def backend_log(self):
        return self.backend.log

    def device_arg(self):
        dev = f"vhost-user-gpu-pci,chardev=pvgpu"
        if self.hostmem:
            dev += f",hostmem={self.hostmem}"
        if "--hostmem" not in backend_options(self.backend.binary):
            # A backend without indirect descriptors and event idx: QEMU
            # offers both to the guest whatever the backend says.
            dev += ",indirect_desc=off,event_idx=off"
        return dev

    def qemu_args(self):
        mem = self.memory
        return self.qemu + FIRMWARE_ARGS + accel_args(self.accel) + [
            "-m", mem, "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            # vhost-user maps guest RAM: it must be a shared memfd.
            "-object", f"memory-backend-memfd,id=mem,size={mem},share=on",
            "-machine", "pc,memory-backend=mem",
            "-chardev", f"socket,id=pvgpu,path={self.backend.sock}",
            "-device", self.device_arg(),
            "-kernel", self.kernel, "-initrd", self.initrd,
            "-append", f"console=tty0 console=ttyS0 panic=-1 {self.append}".strip(),
            "-serial", "stdio",
            "-serial", f"file:{self.kernel_log}",
        ] + self.monitor_args() + shlex.split(os.environ.get("PV_QEMU_ARGS", ""))

    def monitor_args(self):
        # a UNIX socket path has at most 107 bytes; a longer workdir goes
        # without the monitor rather than without the VM
        if len(os.fsencode(self.monitor_sock)) > 107:
            return []
        return ["-monitor", f"unix:{self.monitor_sock},server=on,wait=off"]

    def start(self):
        if self.accel is None:
            self.accel, _ = choose_accel(self.qemu, self.kernel)
        if self.own_backend:
            self.backend.start()
        if self.interactive:
            self.qemu_proc = subprocess.Popen(self.qemu_args())
            return
        self.qemu_proc = subprocess.Popen(self.qemu_args(), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        with open(self.serial_log, "wb") as log:
            while True:
                data = self.qemu_proc.stdout.read1(65536)
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

    def wait_for(self, text, timeout, start=0):
        """Waits until `text` appeared on the serial console (at or after
        byte offset `start`); returns whether it did."""
        deadline = time.time() + timeout
        needle = text.encode()
        with self.lock:
            while self.serial.find(needle, start) < 0:
                left = deadline - time.time()
                if left <= 0 or self.qemu_proc.poll() is not None:
                    return self.serial.find(needle, start) >= 0
                self.lock.wait(min(left, 0.5))
            return True

    def send(self, line):
        self.qemu_proc.stdin.write(line.encode() + b"\n")
        self.qemu_proc.stdin.flush()

    def sh(self, cid, command, timeout):
        """Runs `command` in the guest (mkinitramfs.py's SH). Returns
        (exit status, guest seconds, {file name: bytes}); the files are the
        command's .stdout, .stderr and what it wrote in its directory."""
        if not re.fullmatch(r"[\w.-]+", cid) or "\n" in command:
            raise ValueError("bad command id or command")
        with self.lock:
            start = len(self.serial)
        t0 = time.time()
        self.send(f"SH {cid} {command}")
        done = f"PV_DONE {cid}\n"
        first = guest_watchdog_s(self.append) + 2
        if timeout > first and not self.wait_for(done, first, start):
            # the guest's watchdog dumps its side now: the backend's too
            self.backend.dump_state()
        if not self.wait_for(done, timeout - (time.time() - t0), start):
            self.stuck = cid  # the guest's command loop waits for it still
            raise GuestCommandError(f"guest command {cid} ({command}) did not finish in {timeout} s"
                                    + "\n" + self.diagnose())
        with self.lock:
            text = self.serial[start:].decode(errors="replace")
        return parse_answer(cid, text)

    def dump_png(self, path, timeout=10):
        return self.backend.dump_png(path, timeout)

    def monitor(self, commands, timeout=10):
        """Runs HMP commands on QEMU's monitor socket; returns the
        transcript (or why there is none)."""
        prompt = b"(qemu) "
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(self.monitor_sock)
                out, buf = [], b""
                for cmd in [None] + list(commands):
                    if cmd is not None:
                        s.sendall(cmd.encode() + b"\n")
                    while not buf.endswith(prompt):
                        data = s.recv(65536)
                        if not data:
                            raise OSError("monitor closed")
                        buf += data
                    if cmd is not None:
                        text = buf[:-len(prompt)].decode(errors="replace")
                        # the monitor echoes the command line first
                        text = text.split("\n", 1)[-1]
                        # vector and x87 registers tell nothing about a hang
                        text = "\n".join(l for l in text.splitlines()
                                         if not l.startswith(("YMM", "XMM", "FPR")))
                        out.append(f"(qemu) {cmd}\n" + text.rstrip())
                    buf = b""
                return "\n".join(out)
        except OSError as e:
            return f"no monitor answer: {e}"

    def diagnose(self):
        """For a guest command that never answered: the backend's device
        state and the host threads of the backend and QEMU. The guest's own
        dump (its watchdog, "PV_WD" lines) is in the serial log."""
        out = ["---- backend state (SIGUSR2) ----", self.backend.dump_state().rstrip()]
        if self.backend.alive():
            out += ["---- backend threads ----", host_tasks(self.backend.proc.pid, "backend")]
        if self.qemu_proc and self.qemu_proc.poll() is None:
            out += ["---- QEMU threads ----", host_tasks(self.qemu_proc.pid, "qemu")]
            out += ["---- QEMU monitor ----",
                    self.monitor(["info status", "info registers", "info lapic", "info pic",
                                  "info irq", "info cpus"])]
            out += ["---- QEMU threads' stacks (gdb) ----", gdb_stacks(self.qemu_proc.pid)]
        out.append(f"---- guest watchdog dump: PV_WD lines of {self.serial_log} ----")
        with self.lock:
            text = self.serial.decode(errors="replace")
        out += [l for l in text.splitlines() if l.startswith("PV_WD") or "PV_WATCHDOG" in l][-150:]
        out.append(f"---- guest kernel log (tail of {self.kernel_log}) ----")
        try:
            with open(self.kernel_log, errors="replace") as f:
                out += f.read().splitlines()[-60:]
        except OSError as e:
            out.append(f"(none: {e})")
        return "\n".join(out)

    def kill(self):
        """Kills QEMU at once (SIGKILL), as a crashing VMM would go."""
        if self.qemu_proc and self.qemu_proc.poll() is None:
            self.qemu_proc.kill()
        if self.qemu_proc:
            self.qemu_proc.wait()

    def stop(self, timeout=20):
        """Waits up to `timeout` s for QEMU to exit (the guest powering off),
        then stops it and, if it owns one, the backend (SIGTERM: it would
        otherwise wait for the next QEMU); returns the backend's exit status
        (0 when clean; None for a shared backend)."""
        if self.qemu_proc and self.qemu_proc.poll() is None:
            try:
                self.qemu_proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.qemu_proc.terminate()
                try:
                    self.qemu_proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.qemu_proc.kill()
                    self.qemu_proc.wait()
        if not self.own_backend:
            return None
        return self.backend.stop()


def parse_answer(cid, text):
    """Parses one SH answer (see mkinitramfs.py's PROTOCOL)."""
    m = re.search(rf"^PV_RC {re.escape(cid)} (\d+) ([\d.]+)\r?$", text, re.M)
    if not m:
        raise GuestCommandError(f"no PV_RC for {cid}")
    rc, secs = int(m.group(1)), float(m.group(2))
    files = {}
    pattern = rf"^PV_FILE {re.escape(cid)} (\S+)\r?\n(.*?)^PV_EOF {re.escape(cid)}\r?$"
    for fm in re.finditer(pattern, text[m.end():], re.M | re.S):
        b64 = "".join(l.strip() for l in fm.group(2).splitlines()
                      if re.fullmatch(r"[A-Za-z0-9+/=]+", l.strip()))
        try:
            files[fm.group(1)] = gzip.decompress(base64.b64decode(b64))
        except (ValueError, OSError, EOFError) as e:
            raise GuestCommandError(f"{cid}: file {fm.group(1)} damaged in transfer: {e}")
    return rc, secs, files


def build_initramfs(kernel, out, icds=(), programs=()):
    tool = DEFAULT_MKINITRAMFS
    if tool.startswith("@"):
        tool = os.path.join(source_root(), "tests", "vm", "mkinitramfs.py")
    args = [sys.executable, tool, "--kernel", kernel, "--out", out]
    for icd in icds:
        args += ["--icd", icd]
    if programs:
        args += ["--program"] + list(programs)
    subprocess.check_call(args, stdout=subprocess.DEVNULL)


def cmd_run(a):
    backend = a.backend or DEFAULT_BACKEND
    if backend.startswith("@"):
        raise SystemExit("--backend is required when running from the source tree")
    kernel = a.kernel or newest_kernel()
    workdir = tempfile.mkdtemp(prefix="pearvisor-")
    initrd = a.initrd
    if not initrd:
        initrd = os.path.join(workdir, "initramfs.cpio")
        build_initramfs(kernel, initrd, a.icd)
    accel = None if a.accel == "auto" else a.accel
    if accel is None:
        accel, why = choose_accel(qemu_command(), kernel)
        print(f"pearvisor: accelerator {accel} ({why})", file=sys.stderr)
    vm = Vm(kernel, initrd, backend, workdir, a.width, a.height, a.memory, a.append,
            png=a.png and os.path.abspath(a.png), interactive=True, accel=accel,
            hostmem=a.hostmem, wire_format=a.venus_wire_format,
            queue_priority=a.queue_priority, gpus=a.gpus)
    try:
        vm.start()
    except RuntimeError as e:
        raise SystemExit(f"pearvisor: {e}")
    pid = vm.backend.proc.pid
    print(f"pearvisor: QEMU {vm.qemu[0]}, hostmem {vm.hostmem or 'none'}; backend pid {pid}; "
          f"`kill -USR1 {pid}` writes the scanout to {vm.backend.png}; logs in {workdir}; "
          f"type SHELL for a shell, POWEROFF to stop", file=sys.stderr)
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
    r.add_argument("--memory", default=DEFAULT_MEMORY)
    r.add_argument("--hostmem", default=DEFAULT_HOSTMEM,
                   help="host-visible region for venus, given to QEMU and the backend")
    r.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    r.add_argument("--icd", action="append", default=[],
                   help="guest Vulkan ICD json for the built initramfs (repeatable)")
    r.add_argument("--venus-wire-format", type=int, choices=[0, 1], default=0,
                   help="venus wire format of the guest's driver: 0 Mesa 22.3 (default), "
                        "1 Mesa 24/25; one per VM")
    r.add_argument("--queue-priority", choices=["low", "medium", "high", "realtime"],
                   help="host queue global priority of the VM's GPU work (default: the "
                        "driver's)")
    r.add_argument("--gpus", help="host GPUs the VM sees: host device indices, e.g. 0 or 1,3 "
                                  "(default: all)")
    r.add_argument("--append", default="", help="extra kernel command line")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        return cmd_run(a)
    return 2


if __name__ == "__main__":
    sys.exit(main())
