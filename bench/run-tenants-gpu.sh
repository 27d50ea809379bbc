#!/bin/bash
# Issue 12 items 5 and 6 on the GPU machine: host memory per context (with
# its per-mapping breakdown) and 16, 64 and 256 concurrent clients, native
# and through pv-vtest. Run from the repository root as root, with build/
# and the guest drivers carried over (as for bench/run-gpu.sh):
#
#   OUT=/path/to/out HOST_ICD=... ICD22=... ICD25=... bench/run-tenants-gpu.sh
#
# Writes $OUT/tenants/{clients22,clients25,c256-pv,c256-native,fair}/ (pvbench
# results), breakdown22.md / breakdown25.md (bench/diag/client_memory.py)
# and console logs; each step is bounded by `timeout`, about 8 minutes in all.
set -u
R=$(pwd)
OUT=${OUT:?set OUT}/tenants
HOST_ICD=${HOST_ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
ICD22=${ICD22:-$R/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json}
ICD25=${ICD25:-$R/.cache/mesa25-icd/virtio_icd.x86_64.json}
PVB=$R/build/bench/pvbench
# CLIENT_FRAME=64x64: a small frame for the clients rows (a CPU driver)
FRAME=()
[ -n "${CLIENT_FRAME:-}" ] && FRAME=(--client-frame "$CLIENT_FRAME")
mkdir -p "$OUT"
{ date -u; uname -r; nvidia-smi -L 2>/dev/null; git -C "$R" log --oneline -1 2>/dev/null;
  ulimit -n; ulimit -Hn; cat /proc/sys/kernel/threads-max; free -m; } > "$OUT/env.txt" 2>&1

run() { # name budget_s pvbench-args...
	local name=$1 budget=$2
	shift 2
	timeout "$budget" "$PVB" --host-icd "$HOST_ICD" --no-plot --out "$OUT/$name" "${FRAME[@]}" "$@" \
		> "$OUT/$name.log" 2>&1
	echo "$name: rc $? ($(grep -c ' ok$' "$OUT/$name.log") ok rows)"
}

# 1. memory and total FPS at 1, 16, 64 clients (1080p clear loop), 3 rounds
run clients22 150 --paths native,pearvisor --workloads clients --clients 1,16,64 --repeat 3 \
	--icd "$ICD22"
run clients25 100 --paths native,pearvisor --workloads clients --clients 16,64 --repeat 2 \
	--icd "$ICD25" --wire-format 1
# 2. 256 clients: PearVisor first (the 12-01 run never reached it after
#    native's 87 s), then native, each on its own
run c256-pv 120 --paths pearvisor --workloads clients --clients 256 --icd "$ICD22"
run c256-native 120 --paths native --workloads clients --clients 256 --icd "$ICD22"
# EXTRA=1: 256 ring threads each polling up to PV_RING_SPIN_US on 16 cores
# may take the CPU the guests need; the same row with a 20 us spin
if [ -n "${EXTRA:-}" ]; then
	run c256-pv-spin20 120 --paths pearvisor --workloads clients --clients 64,256 --icd "$ICD22" \
		--server-prefix "env PV_RING_SPIN_US=20"
fi
# 3. a light client beside a heavy one (the fairness workload), 3 rounds
run fair 90 --paths native,pearvisor --workloads fairness --repeat 3 --icd "$ICD22"
# 4. what one context's host process holds, by mapping (native process vs
#    the pv-vtest client process serving the guest, and an idle pre-started one)
for d in 22 25; do
	icd=$ICD22 wf=0
	[ $d = 25 ] && icd=$ICD25 wf=1
	timeout 60 /usr/bin/python3 "$R/bench/diag/client_memory.py" --build "$R/build" \
		--host-icd "$HOST_ICD" --icd "$icd" --wire-format $wf \
		> "$OUT/breakdown$d.md" 2> "$OUT/breakdown$d.err"
	echo "breakdown$d: rc $?"
done
# server logs of failed rows only (the rest is large)
for d in "$OUT"/*/; do
	grep -q "fails" "${d%/}.log" 2>/dev/null || rm -rf "$d/logs"
done
grep -h -A1 "memory per context\|total FPS\|frame time" "$OUT"/*/results.txt 2>/dev/null |
	grep -v '^--' | sed 's/  */ /g' | head -80
grep -h "fails" "$OUT"/*.log 2>/dev/null | head
