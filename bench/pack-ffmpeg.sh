#!/bin/sh
# Packs this machine's /usr/bin/ffmpeg and the shared libraries it loads
# (all but the C library, libstdc++, libgcc_s and the Vulkan loader, which
# the GPU machine has) into DIR/ffmpeg.tar.xz, split into DIR/part-aa, -ab,
# ... of at most SIZE each (default 30M), for a device machine without
# network whose carry limit is below the ~77 MB it takes (Debian 12's
# ffmpeg 5.1). On the device, from the directory holding every part:
#   cat part-* | xz -d | tar xf - -C /opt
#   printf '#!/bin/sh\nLD_LIBRARY_PATH=/opt/ffmpeg/lib exec /opt/ffmpeg/ffmpeg "$@"\n' \
#      > /usr/bin/ffmpeg && chmod +x /usr/bin/ffmpeg
# (what session 8 did, bench/results/h200-2026-12-01/session8/run37.sh).
#
# usage: bench/pack-ffmpeg.sh DIR [SIZE]
set -eu
out=$1
size=${2:-30M}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/ffmpeg/lib" "$out"
cp /usr/bin/ffmpeg "$stage/ffmpeg/"
ldd /usr/bin/ffmpeg | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
   case $(basename "$lib") in
   libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libvulkan.so.* | \
      libstdc++.so.* | libgcc_s.so.*) ;;
   *) cp -L "$lib" "$stage/ffmpeg/lib/" ;;
   esac
done
tar cf - -C "$stage" ffmpeg | xz -T0 -6 >"$out/ffmpeg.tar.xz"
(cd "$out" && split -b "$size" ffmpeg.tar.xz part- && rm ffmpeg.tar.xz)
ls -l "$out"
