#!/usr/bin/env python3
"""Builds the initramfs that the VM tests and `pearvisor run` boot.

Always: busybox (static), the virtio_gpu module and its dependencies from
/lib/modules/<kernel>, and an init that loads them, waits for fbcon and then
follows commands read from the serial console (see PROTOCOL).

With --icd (Vulkan in the guest): the Vulkan loader, each guest ICD (its
json rewritten to point at the library's place in the guest), vulkaninfo,
the --program executables, and every shared library they need, resolved
with ldd on the host (the guest runs the host's own Debian userspace).
The first --icd is the guest's default ICD (/usr/share/vulkan/icd.d); each
one is also at /etc/pv/icd/<label>.json for VK_ICD_FILENAMES.

Usage:
  mkinitramfs.py --kernel /boot/vmlinuz-X --out initramfs.cpio
                 [--icd [LABEL=]ICD.json ...] [--program FILE...]
                 [--vulkaninfo /usr/bin/vulkaninfo]

The image is rebuilt only when its inputs changed: a digest of this script,
the arguments and every input file's path, size and mtime is kept in
OUT.key, and an OUT whose key matches is left alone.

PROTOCOL (serial console, one command per line, after "PV_READY"):

  WRITE <text>    clear the framebuffer console and write <text> 20 times;
                  answers "PV_WROTE"
  SH <id> <cmd>   run <cmd> with sh -c in a fresh directory /tmp/run/<id>
                  (stdin /dev/null); answers
                    PV_RC <id> <exit status> <seconds>
                    PV_FILE <id> <name>     for .stdout, .stderr and each file
                    <base64 of the gzipped file>       the command left there
                    PV_EOF <id>
                    PV_DONE <id>
                  A command still running after 60 s (kernel command line
                  pv.watchdog=<seconds>) gets a dump of every user
                  task's state, wchan, syscall and kernel stack (kernel
                  threads only when not sleeping), the interrupt
                  counts, virtio_gpu's debugfs fence state and the kernel
                  log's tail (lines "PV_WD <id> ..."), again after 180 s.
  BG <id> <cmd>   start <cmd> in the background (output in /tmp/bg.<id>);
                  answers "PV_BG <id>"
  SHELL           start a busybox shell on the serial console
  POWEROFF        power the VM off

Kernel messages are kept off the console after PV_READY (dmesg -n 1) so they
cannot interleave with the answers; `SH <id> dmesg` reads them. The fbcon
cursor does not blink, so the scanout changes only when something is drawn.
"""
import argparse
import hashlib
import json
import lzma
import os
import stat
import subprocess
import sys

WANTED = ["virtio_pci", "virtio_gpu"]
LIBDIR = "lib/x86_64-linux-gnu"
LOADER = "/usr/lib/x86_64-linux-gnu/libvulkan.so.1"

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/tmp LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
# The guest checks outputs, not leaks: the vk suite runs the same programs
# natively under LeakSanitizer.
export ASAN_OPTIONS=detect_leaks=0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The kernel log at every level, as it is written, to the second serial
# port (the launcher's <name>-kernel.log): the console shows none of it once
# commands run. cat stops when records it had not read yet were overwritten;
# a new one (at most 5) starts again from the oldest record kept.
if echo "PV_KMSG: kernel log follows" > /dev/ttyS1 2>/dev/null; then
   (i=0; while [ $i -lt 5 ]; do cat /dev/kmsg; i=$((i+1)); sleep 1; done) > /dev/ttyS1 2>&1 &
fi
echo "PV_INIT: kernel $(uname -r)"
for m in $(cat /modules.order); do
   insmod /lib/modules/$m || echo "PV_INIT: insmod $m failed"
done
i=0
while [ ! -e /dev/fb0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if [ ! -e /dev/fb0 ]; then
   echo "PV_INIT: no framebuffer"
   dmesg | tail -n 30
   poweroff -f
fi
# Let fbcon take over the framebuffer before reporting.
i=0
while ! dmesg | grep -q "frame buffer device" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
dmesg | grep -E "virtio_gpu|virtio-pci|frame buffer device|Console: switching" | sed 's/^/PV_DMESG: /'
echo "PV_FB: $(cat /sys/class/graphics/fb0/name) $(cat /sys/class/graphics/fb0/virtual_size)"
echo "PV_DRI: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')"
dmesg -n 1
stty -echo -onlcr 2>/dev/null
# A still console: no scanout updates while commands run (a blinking cursor
# redraws part of the frame several times a second).
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null

uptime_cs() { read -r u _ < /proc/uptime; echo "${u%.*}${u#*.}"; }

# A command still running after $WATCHDOG_S s (the harness gives up at 300):
# what every task is blocked on, and the kernel messages dmesg -n 1 keeps off
# the console. Every line starts with "PV_WD <id>", so an answer that does
# come later still parses. A marker also goes through printk (KERN_EMERG):
# should the serial tty itself be stuck, the marker shows without the dump.
WATCHDOG_S=60
for a in $(cat /proc/cmdline); do
   case "$a" in pv.watchdog=[1-9]*) WATCHDOG_S=${a#*=} ;; esac
done
# One line per task (kernel threads only when not sleeping), and the kernel
# stack of each user task ($2 = all) or of blocked ones only.
dump_tasks() {
   for t in /proc/[0-9]*/task/[0-9]*; do
      read -r stat < "$t/stat" 2>/dev/null || continue
      comm=${stat#*(}; comm=${comm%)*}
      set -- "$1" "$2" ${stat##*) }   # $3 state, $4 ppid
      case "$3:$4:$t" in
      [SI]:2:*|[SI]:*:/proc/2/task/2) continue ;;  # kthreadd and its threads
      esac
      echo "PV_WD $1 task ${t#/proc/} $comm state $3 ppid $4" \
           "wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cat "$t/syscall" 2>/dev/null)"
      case "$3" in
      R|S|I) [ "$2" = all ] || continue ;;
      esac
      sed "s|^|PV_WD $1   |" "$t/stack" 2>/dev/null
   done
}
watchdog_dump() {
   echo "<0>PV_WATCHDOG $1: no answer after $2 s; dump on the serial tty" > /dev/kmsg
   echo "PV_WD $1 begin: command running for $2 s"
   echo "PV_WD $1 uptime $(cat /proc/uptime) loadavg $(cat /proc/loadavg)"
   grep -E "^(MemTotal|MemFree|MemAvailable|Shmem|Slab):" /proc/meminfo | tr -s ' ' | \
      sed "s|^|PV_WD $1 mem |"
   # blocked (D) tasks' stacks in the kernel log; the sysrq header alone
   # reaches the console
   echo w > /proc/sysrq-trigger 2>/dev/null
   dump_tasks "$1" "$3"
   grep -E "virtio|ttyS|serial|LOC" /proc/interrupts | sed "s|^|PV_WD $1 irq |"
   for f in /sys/kernel/debug/dri/0/virtio-gpu-irq-fence \
            /sys/kernel/debug/dri/0/virtio-gpu-host-visible-mm; do
      [ -r "$f" ] && sed "s|^|PV_WD $1 ${f##*/} |" "$f"
   done
   dmesg | tail -n 150 | sed "s|^|PV_WD $1 dmesg |"
   echo "PV_WD $1 end"
}
# Background: dumps at WATCHDOG_S (stacks of every task) and again at
# 3 * WATCHDOG_S (blocked tasks only); TERM (the command finished) ends it.
watchdog() {
   trap 'kill $s 2>/dev/null; exit 0' TERM
   sleep $WATCHDOG_S & s=$!; wait $s
   watchdog_dump "$1" $WATCHDOG_S all
   sleep $((2 * WATCHDOG_S)) & s=$!; wait $s
   watchdog_dump "$1" $((3 * WATCHDOG_S)) blocked
}

run() {
   id=$1
   d=/tmp/run/$id
   rm -rf "$d"
   mkdir -p "$d"
   t0=$(uptime_cs)
   watchdog "$id" & wd=$!
   (cd "$d" && sh -c "$2" < /dev/null > "$d/.stdout" 2> "$d/.stderr")
   rc=$?
   kill $wd 2>/dev/null
   wait $wd 2>/dev/null
   t=$(( $(uptime_cs) - t0 ))
   echo "PV_RC $id $rc $((t / 100)).$(printf %02d $((t % 100)))"
   for f in "$d/.stdout" "$d/.stderr" "$d"/*; do
      [ -f "$f" ] || continue
      echo "PV_FILE $id ${f##*/}"
      gzip -c "$f" | base64
      echo "PV_EOF $id"
   done
   echo "PV_DONE $id"
}

echo "PV_READY"
while read -r cmd arg; do
   case "$cmd" in
   WRITE)
      printf '\033[2J\033[H' > /dev/tty1
      n=0
      while [ $n -lt 20 ]; do echo "$arg $n" > /dev/tty1; n=$((n+1)); done
      sleep 1
      echo "PV_WROTE"
      ;;
   SH) run "${arg%% *}" "${arg#* }" ;;
   BG)
      id=${arg%% *}
      (sh -c "${arg#* }" < /dev/null > /tmp/bg.$id 2>&1 &)
      echo "PV_BG $id"
      ;;
   SHELL) stty echo onlcr 2>/dev/null; dmesg -n 7; exec sh ;;
   POWEROFF) poweroff -f ;;
   esac
done
poweroff -f
"""


def parse_modules_dep(moddir):
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[path] = rest.split()
    return deps


def mod_name(path):
    base = os.path.basename(path)
    for ext in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return base.replace("-", "_")


def builtin(moddir):
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            return {mod_name(l.strip()) for l in f}
    except OSError:
        return set()


def load_order(moddir, wanted):
    deps = parse_modules_dep(moddir)
    by_name = {mod_name(p): p for p in deps}
    built = builtin(moddir)
    order, seen = [], set()

    def visit(path):
        if path in seen:
            return
        seen.add(path)
        for d in deps.get(path, []):
            visit(d)
        order.append(path)

    for name in wanted:
        if name in built:
            continue
        if name not in by_name:
            sys.exit(f"module {name} not found in {moddir}")
        visit(by_name[name])
    return order


def module_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".zst") or path.endswith(".gz"):
        sys.exit(f"compressed module {path}: unsupported compression")
    return data


class Cpio:
    """newc archive writer."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def add(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(
            f"{v:08x}"
            for v in (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
        )
        self.ino += 1
        self.out += hdr.encode() + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self.add(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self.add(name, stat.S_IFREG | mode, data)

    def finish(self):
        self.add("TRAILER!!!", 0)
        return bytes(self.out)


def ldd(path):
    """The shared libraries `path` needs, as resolved on the host."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ldd {path} failed: {out.stderr.strip() or out.stdout.strip()}")
    libs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            sys.exit(f"{path} needs {line.split()[0]}, which is not installed on the host")
        if "=>" in line:
            target = line.split("=>")[1].split("(")[0].strip()
            if target:
                libs.append(target)
        elif line.startswith("/"):
            libs.append(line.split()[0])  # the dynamic linker
    return libs


class Userspace:
    """Files of the guest's userspace: guest path -> host path."""

    def __init__(self):
        self.files = {}

    def add(self, guest, host):
        old = self.files.get(guest)
        if old and os.path.realpath(old) != os.path.realpath(host):
            sys.exit(f"two host files for {guest}: {old} and {host}")
        self.files[guest] = host

    def add_elf(self, guest, host):
        """Adds an executable or library and everything it links to."""
        self.add(guest, host)
        for lib in ldd(host):
            name = os.path.basename(lib)
            if name.startswith("ld-linux"):
                self.add("lib64/" + name, lib)
            else:
                self.add(f"{LIBDIR}/{name}", lib)


def parse_icd(arg, index):
    label, sep, path = arg.partition("=")
    if not sep:
        path, label = arg, f"icd{index}"
    with open(path) as f:
        doc = json.load(f)
    lib = doc["ICD"]["library_path"]
    if not os.path.isabs(lib):
        lib = os.path.join(os.path.dirname(os.path.abspath(path)), lib)
    return label, path, doc, lib


def collect(a):
    """Returns (userspace, generated files {guest path: bytes})."""
    us, gen = Userspace(), {}
    if not a.icd:
        if a.program:
            sys.exit("--program needs --icd (a Vulkan userspace)")
        return us, gen
    us.add_elf(LIBDIR + "/libvulkan.so.1", LOADER)
    us.add_elf("usr/bin/vulkaninfo", a.vulkaninfo)
    for i, arg in enumerate(a.icd):
        label, path, doc, lib = parse_icd(arg, i)
        guest_lib = f"usr/lib/pv-icd/{label}/{os.path.basename(lib)}"
        us.add_elf(guest_lib, lib)
        doc["ICD"]["library_path"] = "/" + guest_lib
        text = (json.dumps(doc, indent=4) + "\n").encode()
        gen[f"etc/pv/icd/{label}.json"] = text
        if i == 0:
            gen["usr/share/vulkan/icd.d/pv_guest_icd.json"] = text
    for p in a.program:
        if os.path.isdir(p) or not os.access(p, os.X_OK):
            continue  # lets build/tests/vk/vkt-* be passed as a glob
        us.add_elf("usr/bin/" + os.path.basename(p), p)
    gen["etc/pv/icds"] = ("\n".join(parse_icd(x, i)[0] for i, x in enumerate(a.icd)) + "\n").encode()
    return us, gen


def inputs_key(a, kernel_files, us, gen):
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    h.update(repr(sorted(vars(a).items())).encode())
    for host in sorted(set(kernel_files) | set(us.files.values()) | {a.busybox}):
        st = os.stat(host)
        h.update(f"{host} {st.st_size} {st.st_mtime_ns}\n".encode())
    for guest in sorted(gen):
        h.update(guest.encode() + gen[guest])
    return h.hexdigest()


def parent_dirs(paths):
    dirs = set()
    for p in paths:
        d = os.path.dirname(p)
        while d:
            dirs.add(d)
            d = os.path.dirname(d)
    return sorted(dirs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True, help="/boot/vmlinuz-<version>")
    ap.add_argument("--out", required=True)
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--icd", action="append", default=[],
                    help="[LABEL=]guest ICD json (repeatable; the first is the default)")
    ap.add_argument("--program", action="extend", nargs="+", default=[],
                    help="executables for /usr/bin (directories are skipped)")
    ap.add_argument("--vulkaninfo", default="/usr/bin/vulkaninfo")
    a = ap.parse_args()
    a.program = [os.path.abspath(p) for p in a.program]
    version = os.path.basename(a.kernel)[len("vmlinuz-"):]
    moddir = f"/lib/modules/{version}"
    order = load_order(moddir, WANTED)
    us, gen = collect(a)

    key = inputs_key(a, [os.path.join(moddir, p) for p in order], us, gen)
    try:
        with open(a.out + ".key") as f:
            if f.read().strip() == key and os.path.exists(a.out):
                print(f"{a.out}: up to date")
                return
    except OSError:
        pass

    c = Cpio()
    base = ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "etc", "usr", "usr/bin"]
    for d in sorted(set(base) | set(parent_dirs(list(us.files) + list(gen)))):
        c.dir(d)
    with open(a.busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    names = []
    for p in order:
        name = mod_name(p) + ".ko"
        c.file("lib/modules/" + name, module_bytes(os.path.join(moddir, p)))
        names.append(name)
    c.file("modules.order", ("\n".join(names) + "\n").encode())
    for guest in sorted(us.files):
        with open(us.files[guest], "rb") as f:
            c.file(guest, f.read(), 0o755)
    for guest in sorted(gen):
        c.file(guest, gen[guest])
    c.file("init", INIT.encode(), 0o755)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(c.finish())
    os.replace(tmp, a.out)
    with open(a.out + ".key", "w") as f:
        f.write(key + "\n")
    print(f"{a.out}: {len(names)} modules: {' '.join(names)}; "
          f"{len(us.files)} userspace files, {os.path.getsize(a.out) >> 20} MiB")


if __name__ == "__main__":
    main()
