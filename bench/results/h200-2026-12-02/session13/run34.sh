#!/bin/bash
# session 13, call 3: does the host-allocation handle type that the
# renderer adds to every buffer and image (so that host-visible memory
# imported from its memfd can back them) slow the driver down? Branch
# exp13 at eef0f43: rows whose server leaves it off buffers
# (PV_EXP_NO_EXT_BUFFER=1: binding imported memory to them breaks
# VUID-VkBindBufferMemoryInfo-memory-02727; what the driver does then is
# part of the answer), off images (PV_EXP_NO_EXT_IMAGE=1), or both.
# 5 interleaved rounds, Mesa 22.3 guest.
. "$(dirname "$0")/../session11/setup.sh"
QUICK=0 OUT=$W/ext HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=/nonexistent BUDGET_S=200 \
  EXTRA_ENV="PV_EXP_NO_EXT_BUFFER=1 PV_EXP_NO_EXT_IMAGE=1 PV_EXP_NO_EXT_BUFFER=1,PV_EXP_NO_EXT_IMAGE=1" \
  PVBENCH_ARGS="--workloads drawpush,drawbind --extra-workloads drawpush,drawbind --repeat 5 --no-plot" \
  bash bench/run-gpu.sh > $W/ext.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
d=mesa22
echo "== $d: $(grep -E 'rounds' $W/ext/$d/results.txt | head -1)"
grep -E "recording alone|after recording" -A1 $W/ext/$d/results.txt | grep -E "pearvisor|native|fails" | cut -c1-200
grep -A3 "^failures" $W/ext/$d/results.txt
echo "server log errors: $(cat $W/ext/$d/logs/*server.log 2>/dev/null | grep -c 'error')"
cat $W/ext/$d/logs/*server.log 2>/dev/null | grep -E 'error|lost' | sort | uniq -c | sort -rn | head -5
rm -rf $W/ext/$d/logs
tar czf $OUT/w.tgz -C $OUT w
