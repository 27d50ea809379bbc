#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package PearVisor's build, demo,
# tests and benchmark need. Does nothing when all are present.
set -euo pipefail

pkgs=(
   # build
   meson ninja-build pkg-config gcc clang libclang-rt-14-dev python3
   # the style check (tools/check-format.sh, the `format` test)
   clang-format-14
   libvulkan-dev glslang-tools libpng-dev libseccomp-dev
   # SPIR-V validation of guest shaders (src/venus/pvk_validate_spirv.c)
   spirv-tools
   # pinned Vulkan registry (scripts/fetch-vulkan-registry.sh)
   xz-utils curl
   # Mesa venus guest driver build (scripts/build-venus-icd.sh)
   python3-mako libdrm-dev bison flex zlib1g-dev libexpat1-dev libzstd-dev dpkg-dev
   # host Vulkan driver, tools and validation layers
   mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
   # the peer to compare with
   virgl-server
   # virtual machines
   qemu-system-x86 linux-image-amd64 busybox-static cpio
   # QEMU 10.0 built from source (scripts/build-qemu.sh); its firmware
   # comes from qemu-system-x86's seabios and ipxe dependencies
   git xz-utils python3-venv libglib2.0-dev libpixman-1-dev libfdt-dev
   libslirp-dev
   # the static guest program of tests/vm/qemu_blob_map_test.py
   libc6-dev
   # benchmark plots
   python3-matplotlib
   # pvbench's third-party workloads: ffmpeg's Vulkan filters; VkFFT (header
   # only, its Vulkan backend needs glslang's C interface)
   ffmpeg libvkfft-dev glslang-dev
)

missing=()
for p in "${pkgs[@]}"; do
   dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
# linux-image-amd64 is the guests' kernel: they boot with the tests' own
# initramfs (tests/vm/mkinitramfs.py). On a machine that does not boot from
# /boot (a container, a VM given its kernel by its hypervisor, as CI's),
# Debian's initramfs for it would never be used, and building it took two
# of CI's minutes; a machine with a kernel in /boot gets it as usual.
initrd=Yes
compgen -G '/boot/vmlinuz-*' >/dev/null || initrd=No
$sudo env DEBIAN_FRONTEND=noninteractive INITRD=$initrd \
   apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
