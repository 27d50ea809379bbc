#!/usr/bin/env bash
# pvbench on a GPU machine without network: native vs PearVisor with both
# guest drivers (Mesa 22.3, wire format 0; Mesa 25, wire format 1), the
# guest's defaults plus rows tuned with VN_DRAW_CMD_BATCH_LIMIT=1000,
# --repeat 3 interleaved rounds. Results go to $OUT (or bench/results/gpu-<date>):
#   env.txt                  date, kernel, GPU, driver, host ICD, packages
#   mesa22/ mesa25/          pvbench's results.txt/.json/.png and logs/
#   mesa22.log mesa25.log    pvbench's console output
#
# Needs what `make build` and `make icd icd25` made here (build/, .cache/),
# carried over: nothing is built or downloaded. Run from the repository root,
# as root (pvbench gives each server a private /tmp).
#
# Environment (all optional):
#   OUT=DIR          results directory
#   HOST_ICD=FILE    host Vulkan ICD json (default: the NVIDIA one found)
#   ICD22=FILE ICD25=FILE  the guest drivers' ICD json (default: where
#                    `make icd icd25` put them under .cache/)
#   DEBS=DIR         Debian packages to install first (dpkg -i DIR/*.deb),
#                    e.g. ffmpeg for the ffmpeg workload
#   QUICK=1          --quick, one round: checks the set-up in about a minute
#   BUDGET_S=N       time limit per guest driver (default 220 s; the whole
#                    script stays under ~8 minutes)
#   PVBENCH_ARGS     more pvbench options, e.g. "--workloads draws,drawpush"
#   EXTRA_ENV        the extra rows' settings, space-separated lists (default
#                    VN_DRAW_CMD_BATCH_LIMIT=1000; PV_* ones go to pv-vtest,
#                    e.g. PV_RING_SPIN_US=0 for an A/B of a server setting)
set -uo pipefail

root=$(pwd)
[ -x build/bench/pvbench ] || { echo "run-gpu.sh: build/bench/pvbench missing (make build)" >&2; exit 2; }
[ -x build/src/vtest/pv-vtest ] || { echo "run-gpu.sh: build/src/vtest/pv-vtest missing" >&2; exit 2; }

out=${OUT:-bench/results/gpu-$(date -u +%Y-%m-%d)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -n "${DEBS:-}" ] && ls "$DEBS"/*.deb >/dev/null 2>&1; then
   dpkg -i "$DEBS"/*.deb >"$out/debs.log" 2>&1 || echo "run-gpu.sh: dpkg -i failed, see $out/debs.log" >&2
fi

host_icd=${HOST_ICD:-}
if [ -z "$host_icd" ]; then
   for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
            /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
      [ -r "$f" ] && { host_icd=$f; break; }
   done
fi
[ -n "$host_icd" ] || { echo "run-gpu.sh: no NVIDIA ICD json found; set HOST_ICD" >&2; exit 2; }

{
   echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
   echo "kernel: $(uname -r)"
   echo "cpus: $(nproc)"
   echo "host ICD: $host_icd"
   echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
   command -v nvidia-smi >/dev/null &&
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
   echo "ffmpeg: $(command -v ffmpeg || echo 'not installed (the ffmpeg workload reports skipped)')"
} >"$out/env.txt" 2>&1

budget=${BUDGET_S:-220}
# shellcheck disable=SC2054 # "native,pearvisor" is one argument
common=(--host-icd "$host_icd" --pv-vtest "$root/build/src/vtest/pv-vtest"
        --plot-script "$root/bench/plot.py" --paths native,pearvisor)
for extra in ${EXTRA_ENV:-VN_DRAW_CMD_BATCH_LIMIT=1000}; do
   common+=(--extra-guest-env "$extra")
done
if [ "${QUICK:-0}" = 1 ]; then
   common+=(--quick)
else
   common+=(--repeat 3)
fi
# shellcheck disable=SC2206 # word splitting of PVBENCH_ARGS is intended
common+=(${PVBENCH_ARGS:-})

status=0
run_driver() { # name icd wire-format
   local name=$1 icd=$2 wire=$3
   if [ ! -r "$icd" ]; then
      echo "$name: guest driver $icd missing, skipped" | tee "$out/$name.log"
      status=1
      return
   fi
   echo "== $name ($icd), up to ${budget} s"
   timeout --signal=INT --kill-after=20 "$budget" \
      build/bench/pvbench "${common[@]}" --icd "$(realpath "$icd")" --wire-format "$wire" \
      --out "$out/$name" >"$out/$name.log" 2>&1
   local rc=$?
   case $rc in
      0) echo "$name: done" ;;
      124|130|137) echo "$name: over ${budget} s, stopped (no results.json; lower the load" \
                        "with PVBENCH_ARGS=\"--workloads ...\")"; status=1 ;;
      *) echo "$name: pvbench exit $rc (see $out/$name.log)"; status=1 ;;
   esac
   tail -n 60 "$out/$name.log"
}

run_driver mesa22 "${ICD22:-.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json}" 0
run_driver mesa25 "${ICD25:-.cache/mesa25-icd/virtio_icd.x86_64.json}" 1
echo "results in $out"
exit $status
