#!/bin/sh
# Captures real Mesa venus sessions for the replay fuzzer: runs tests/vk
# programs through pv-vtest with PV_CAPTURE_DIR set (src/venus/pvk_capture.h),
# once with each guest driver (Mesa 22.3: wire format 0; Mesa 25: format 1),
# and names each capture <program>-<driver>.pvcap.
#
# usage: fuzz/capture-sessions.sh BUILD_DIR OUT_DIR [PROGRAM...]
#   PROGRAM: a tests/vk program name (default: clear draws compute copy)
#   env MESA22_ICD / MESA25_ICD: the guest drivers (default: .cache/...)
# pv-vtest runs with --no-fork: the capture is written by the server
# process itself, outside the client sandbox. OUT_DIR must be outside /tmp
# (run-with-pv-vtest.sh gives the server a private /tmp).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR OUT_DIR [PROGRAM...]" >&2; exit 2; }
build=$(realpath "$1")
out=$(realpath -m "$2")
shift 2
[ $# -gt 0 ] || set -- clear draws compute copy
mesa22=${MESA22_ICD:-$root/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json}
mesa25=${MESA25_ICD:-$root/.cache/mesa25-icd/virtio_icd.x86_64.json}
case $out/ in
/tmp/*) echo "capture-sessions: OUT_DIR must be outside /tmp (pv-vtest runs with a private /tmp)" >&2; exit 2 ;;
esac
mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

for prog in "$@"; do
   for driver in mesa22 mesa25; do
      eval icd=\$$driver
      dir=$work/$prog-$driver
      mkdir -p "$dir"
      PV_CAPTURE_DIR=$dir PV_VTEST_ARGS=--no-fork \
         "$root/scripts/run-with-pv-vtest.sh" --icd "$icd" "$build" -- \
         "$build/tests/vk/vkt-$prog" "$work/$prog-$driver.out" >"$work/$prog-$driver.log" 2>&1 ||
         { echo "capture-sessions: $prog ($driver) failed:" >&2; cat "$work/$prog-$driver.log" >&2; exit 1; }
      n=0
      for f in "$dir"/*.pvcap; do
         [ -s "$f" ] || continue
         name=$prog-$driver
         [ $n -eq 0 ] || name=$name-$n
         mv "$f" "$out/$name.pvcap"
         echo "$out/$name.pvcap: $(wc -c <"$out/$name.pvcap") bytes"
         n=$((n + 1))
      done
      [ $n -gt 0 ] || { echo "capture-sessions: $prog ($driver): no capture written" >&2; exit 1; }
   done
done
