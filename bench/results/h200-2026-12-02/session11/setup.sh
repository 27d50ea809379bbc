# Sourced by every script here, run on the device from the checkout's
# root with .dev/ (binaries, the guest ICD, libraries) and .gl/ (Debian's
# libglvnd and Vulkan loader packages) carried: unpacks and registers
# them, writes the Mesa 22.3 ICD json, and sets R (checkout), H (the
# NVIDIA ICD), W (output folder) and /opt/pvx/tslog.sh (a --server-prefix
# wrapper that stamps each server log line with the time).
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=$OUT/w; mkdir -p $W
printf '#!/bin/bash\nexec "$@" 2> >(while IFS= read -r l; do printf "%%s %%s\\n" "$EPOCHREALTIME" "$l"; done >&2)\n' > /opt/pvx/tslog.sh
chmod +x /opt/pvx/tslog.sh
