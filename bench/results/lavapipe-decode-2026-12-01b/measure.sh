#!/bin/sh
# How the figures in README.md were taken (issue 12 item 3).
#
# usage: measure.sh BUILD_DIR WORK_DIR LABEL [capture]
#   capture: first record the sessions (pvbench drawpush, drawbind, mlchain
#            --quick through pv-vtest --no-fork with PV_CAPTURE_DIR), once
#            with each guest driver, into WORK_DIR/<workload>-<driver>/.
#   Then replays each capture with BUILD_DIR's pv-fuzz-replay under
#   callgrind (counting inside vn_dispatch_command only) and splits the
#   instructions per vkCmd* (bench/micro/callgrind_per_command.py) into
#   WORK_DIR/cg/LABEL-<workload>-<driver>.txt.
# WORK_DIR must be outside /tmp (pv-vtest runs with a private /tmp).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(realpath "$1")
work=$(realpath -m "$2")
label=$3
mkdir -p "$work/cg" "$work/$label"
if [ "${4:-}" = capture ]; then
   printf '#!/bin/sh\nexec %s/src/vtest/pv-vtest --no-fork "$@"\n' "$build" >"$work/pvv.sh"
   chmod +x "$work/pvv.sh"
   for driver in mesa22 mesa25; do
      if [ $driver = mesa22 ]; then
         icd=$root/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json wire=0
      else
         icd=$root/.cache/mesa25-icd/virtio_icd.x86_64.json wire=1
      fi
      for wl in drawpush drawbind mlchain; do
         d=$work/$wl-$driver
         rm -rf "$d" && mkdir -p "$d"
         PV_CAPTURE_DIR=$d "$build/bench/pvbench" --paths pearvisor --wire-format $wire \
            --workloads $wl --quick --icd "$icd" --pv-vtest "$work/pvv.sh" --out "$d/out" >"$d/log.txt"
      done
   done
fi
# a copy: the build directory may be rebuilt meanwhile
cp "$build/fuzz/replay/pv-fuzz-replay" "$build/bench/micro/bench_venus_decode" "$work/$label/"
for s in drawpush-mesa22 drawbind-mesa22 mlchain-mesa22 drawpush-mesa25 drawbind-mesa25 mlchain-mesa25; do
   f=$(ls "$work/$s"/*.pvcap | head -n 1)
   valgrind --tool=callgrind --toggle-collect=vn_dispatch_command \
      --callgrind-out-file="$work/cg/$label-$s.out" "$work/$label/pv-fuzz-replay" --replay "$f" \
      >"$work/cg/$label-$s.log" 2>&1 || true # the replay may end with the context lost (README)
   /usr/bin/python3 "$root/bench/micro/callgrind_per_command.py" "$work/cg/$label-$s.out" 900 \
      >"$work/cg/$label-$s.txt"
done
# the decoder alone: instructions over 5 rounds of each stream
for st in mixed-ptr mixed-seq draws-ptr; do
   valgrind --tool=callgrind --toggle-collect=vn_dispatch_command \
      --callgrind-out-file="$work/cg/$label-micro-$st.out" "$work/$label/bench_venus_decode" 5 $st \
      >"$work/cg/$label-micro-$st.log" 2>&1
done
