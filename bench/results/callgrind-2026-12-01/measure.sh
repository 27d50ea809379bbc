#!/bin/sh
# How the figures in README.md were taken (issue 12: PearVisor's
# instructions per recorded command).
#
# usage: measure.sh BUILD_DIR WORK_DIR LABEL [capture]
#   capture: first record the sessions (pvbench drawpush and drawbind,
#            --quick, through pv-vtest --no-fork with PV_CAPTURE_DIR), once
#            with each guest driver, into WORK_DIR/<workload>-<driver>/,
#            and write copies without their queue submissions
#            (bench/micro/pvcap_drop.py): the replay then records every
#            command buffer as the guest did and runs no GPU work, which
#            under valgrind outlasted the firewall's 5 s wait and ended the
#            replays early.
#   Then replays each copy with BUILD_DIR's pv-fuzz-replay under callgrind,
#   collecting inside execute_stream (the whole stream loop), and writes
#   WORK_DIR/cg/LABEL-<workload>-<driver>.txt: PearVisor's instructions per
#   vkCmd* command (bench/micro/callgrind_stream_share.py, dispatch loop
#   included) and per command type (bench/micro/callgrind_per_command.py,
#   dispatch loop not included).
# WORK_DIR must be outside /tmp (pv-vtest runs with a private /tmp).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(realpath "$1")
work=$(realpath -m "$2")
label=$3
mkdir -p "$work/cg" "$work/$label"
sessions="drawpush-mesa22 drawbind-mesa22 drawpush-mesa25 drawbind-mesa25"
if [ "${4:-}" = capture ]; then
   printf '#!/bin/sh\nexec %s/src/vtest/pv-vtest --no-fork "$@"\n' "$build" >"$work/pvv.sh"
   chmod +x "$work/pvv.sh"
   for s in $sessions; do
      wl=${s%-*}
      if [ "${s#*-}" = mesa22 ]; then
         icd=$root/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json wire=0
      else
         icd=$root/.cache/mesa25-icd/virtio_icd.x86_64.json wire=1
      fi
      d=$work/$s
      rm -rf "$d" && mkdir -p "$d"
      PV_CAPTURE_DIR=$d "$build/bench/pvbench" --paths pearvisor --wire-format $wire \
         --workloads "$wl" --quick --icd "$icd" --pv-vtest "$work/pvv.sh" --out "$d/out" >"$d/log.txt"
      /usr/bin/python3 "$root/bench/micro/pvcap_drop.py" "$(ls "$d"/*.pvcap | head -n 1)" \
         "$work/$s-nosubmit.pvcap" vkQueueSubmit vkQueueSubmit2
   done
fi
# a copy: the build directory may be rebuilt meanwhile
cp "$build/fuzz/replay/pv-fuzz-replay" "$work/$label/"
for s in $sessions; do
   f=$work/$s-nosubmit.pvcap
   n=$(/usr/bin/python3 "$root/fuzz/pvcap-dump.py" --commands "$f" | grep -c ' vkCmd')
   valgrind --tool=callgrind --toggle-collect=execute_stream \
      --callgrind-out-file="$work/cg/$label-$s.out" "$work/$label/pv-fuzz-replay" --replay "$f" \
      >"$work/cg/$label-$s.log" 2>&1
   {
      /usr/bin/python3 "$root/bench/micro/callgrind_stream_share.py" --commands "$n" \
         "$work/cg/$label-$s.out"
      echo
      /usr/bin/python3 "$root/bench/micro/callgrind_per_command.py" "$work/cg/$label-$s.out" 900
   } >"$work/cg/$label-$s.txt"
   echo "$label $s: $(tail -n +1 "$work/cg/$label-$s.txt" | grep '^per vkCmd')"
done
