#!/usr/bin/env bash
# Packs what the VM boot test needs into one self-contained folder, for a
# machine with a working /dev/kvm but without QEMU, a Debian kernel or
# busybox: QEMU (with its modules, firmware and shared libraries, run through
# the bundled ld.so), the kernel, a prebuilt initramfs, pv-vhost-user-gpu
# (likewise wrapped), the launcher and the test. Run there:
#   <bundle>/run-test.sh
# Usage: tests/vm/make-bundle.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$1
out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$(ls /boot/vmlinuz-* | sort | tail -n1)
rm -rf "$out"
mkdir -p "$out/lib" "$out/modules" "$out/share"

copy_libs() {
   ldd "$1" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r l; do
      cp -Ln "$l" "$out/lib/" 2>/dev/null || true
   done
}
# the project's QEMU (scripts/build-qemu.sh: no modules), else the system's
qemu=$(PYTHONPATH="$build/src/launcher" /usr/bin/python3 -c \
       'import pearvisor; print(pearvisor.project_qemu() or "")')
if [ -z "$qemu" ]; then
   qemu=/usr/bin/qemu-system-x86_64
   for m in hw-display-virtio-gpu hw-display-virtio-gpu-pci; do
      cp -L "/usr/lib/x86_64-linux-gnu/qemu/$m.so" "$out/modules/"
      copy_libs "/usr/lib/x86_64-linux-gnu/qemu/$m.so"
   done
fi
cp -L "$qemu" "$out/qemu-system-x86_64.bin"
copy_libs "$qemu"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
         /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin; do
   cp -L "$f" "$out/share/"
done
cp -L "$build/src/vhost-user-gpu/pv-vhost-user-gpu" "$out/pv-vhost-user-gpu.bin"
copy_libs "$build/src/vhost-user-gpu/pv-vhost-user-gpu"
cp -L "$kernel" "$out/vmlinuz"
/usr/bin/python3 "$src/tests/vm/mkinitramfs.py" --kernel "$kernel" --out "$out/initramfs.cpio" >/dev/null
cp "$build/src/launcher/pearvisor.py" "$src/tests/vm/vm_boot_test.py" "$src/tests/vm/vmtest.py" \
   "$src/tests/vm/mkinitramfs.py" "$out/"

cat > "$out/qemu-system-x86_64" <<'W'
#!/bin/sh
d=$(dirname "$(readlink -f "$0")")
export QEMU_MODULE_DIR="$d/modules"
exec "$d/lib/ld-linux-x86-64.so.2" --library-path "$d/lib" "$d/qemu-system-x86_64.bin" -L "$d/share" "$@"
W
cat > "$out/pv-vhost-user-gpu" <<'W'
#!/bin/sh
d=$(dirname "$(readlink -f "$0")")
exec "$d/lib/ld-linux-x86-64.so.2" --library-path "$d/lib" "$d/pv-vhost-user-gpu.bin" "$@"
W
cat > "$out/run-test.sh" <<'W'
#!/bin/sh
d=$(dirname "$(readlink -f "$0")")
export PV_QEMU="$d/qemu-system-x86_64"
exec python3 "$d/vm_boot_test.py" --backend "$d/pv-vhost-user-gpu" --launcher-dir "$d" \
   --mkinitramfs "$d/mkinitramfs.py" --kernel "$d/vmlinuz" --initrd "$d/initramfs.cpio" \
   --workdir "${1:-$d/work}"
W
chmod +x "$out/qemu-system-x86_64" "$out/pv-vhost-user-gpu" "$out/run-test.sh"
du -sh "$out"
