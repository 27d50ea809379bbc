#!/bin/bash
# session 12, call 3: the command-heavy passes alone, 7 interleaved rounds
# per guest driver, no extra rows (run20.sh's binaries): how far the
# medians move between runs on this shared machine.
. "$(dirname "$0")/../session11/setup.sh"
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
QUICK=0 OUT=$W/heavy HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=250 EXTRA_ENV=" " \
  PVBENCH_ARGS="--workloads draws,drawpush,drawbind,mlchain --repeat 7 --no-plot" bash bench/run-gpu.sh > $W/heavy.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
for d in mesa22 mesa25; do
  echo "== $d: $(grep -E 'rounds' $W/heavy/$d/results.txt | head -1)"
  grep -E "record\+submit\+wait" -A1 $W/heavy/$d/results.txt | grep -E "pearvisor|native" | cut -c1-220
  echo "server log errors: $(cat $W/heavy/$d/logs/*server.log 2>/dev/null | grep -c 'error')"
  rm -rf $W/heavy/$d/logs
done
tar czf $OUT/w.tgz -C $OUT w
