#!/usr/bin/env python3
"""Builds the small initramfs the VM boot test and `pearvisor run` boot:
busybox (static) + the virtio_gpu module and its dependencies from
/lib/modules/<kernel>, and an init that loads them, waits for fbcon and then
follows simple commands read from the serial console:

  WRITE <text>   clear the framebuffer console and write <text> on it
  SHELL          start a busybox shell on the serial console
  POWEROFF       power the VM off

Usage: mkinitramfs.py --kernel /boot/vmlinuz-X --out initramfs.cpio
"""
import argparse
import lzma
import os
import stat
import sys

WANTED = ["virtio_pci", "virtio_gpu"]

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
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
   SHELL) exec sh ;;
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True, help="/boot/vmlinuz-<version>")
    ap.add_argument("--out", required=True)
    ap.add_argument("--busybox", default="/bin/busybox")
    a = ap.parse_args()
    version = os.path.basename(a.kernel)[len("vmlinuz-"):]
    moddir = f"/lib/modules/{version}"
    order = load_order(moddir, WANTED)

    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"):
        c.dir(d)
    with open(a.busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    names = []
    for p in order:
        name = mod_name(p) + ".ko"
        c.file("lib/modules/" + name, module_bytes(os.path.join(moddir, p)))
        names.append(name)
    c.file("modules.order", ("\n".join(names) + "\n").encode())
    c.file("init", INIT.encode(), 0o755)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(c.finish())
    os.replace(tmp, a.out)
    print(f"{a.out}: {len(names)} modules: {' '.join(names)}")


if __name__ == "__main__":
    main()
