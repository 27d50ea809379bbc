#!/bin/bash
# session 13, call 1: where the host's time goes in the command-heavy
# passes. Binaries from branch exp13 (5b3fc30, not for main): extra rows
# whose server makes the passes' vkCmd* driver calls no-ops
# (PV_EXP_SKIP_RECORD=1: decode, lookups and checks alone; the guest skips
# the output check, PVBENCH_EXP_NOCHECK=1) and rows whose host device is
# made without robustness2's nullDescriptor (PV_EXP_NULL_DESCRIPTOR=0).
# 5 interleaved rounds per guest driver.
. "$(dirname "$0")/../session11/setup.sh"
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
QUICK=0 OUT=$W/exp HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=250 \
  EXTRA_ENV="PV_EXP_SKIP_RECORD=1,PVBENCH_EXP_NOCHECK=1 PV_EXP_NULL_DESCRIPTOR=0" \
  PVBENCH_ARGS="--workloads drawpush,drawbind --extra-workloads drawpush,drawbind --repeat 5 --no-plot" \
  bash bench/run-gpu.sh > $W/exp.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
for d in mesa22 mesa25; do
  echo "== $d: $(grep -E 'rounds' $W/exp/$d/results.txt | head -1)"
  grep -E "recording alone|after recording" -A1 $W/exp/$d/results.txt | grep -E "pearvisor|native" | cut -c1-200
  echo "server log errors: $(cat $W/exp/$d/logs/*server.log 2>/dev/null | grep -c 'error')"
  rm -rf $W/exp/$d/logs
done
tar czf $OUT/w.tgz -C $OUT w
