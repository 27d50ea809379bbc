#!/bin/bash
# session 13: does batching the driver's vkCmd* calls on the decoding
# thread help? Binaries from branch exp13-inline (the recorder experiment
# of session 7, 82f28df, plus PV_RECORDER=inline: the records are replayed
# on the decoding thread a batch at a time, PV_RECORDER_BATCH records,
# default 32). Rows: the recorder thread (that branch's default),
# PV_RECORDER=0 (main's behaviour: each call as it is decoded), inline
# with batches of 32 and of 256. 5 interleaved rounds per guest driver.
# Run after run31.sh in the same call (setup.sh done there).
R=$(pwd); H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; W=$OUT/w
rm -f build; ln -s .dev/rec/build build
QUICK=0 OUT=$W/rec HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=250 \
  EXTRA_ENV="PV_RECORDER=0 PV_RECORDER=inline PV_RECORDER=inline,PV_RECORDER_BATCH=256" \
  PVBENCH_ARGS="--workloads drawpush,drawbind --extra-workloads drawpush,drawbind --repeat 5 --no-plot" \
  bash bench/run-gpu.sh > $W/rec.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
for d in mesa22 mesa25; do
  echo "== $d: $(grep -E 'rounds' $W/rec/$d/results.txt | head -1)"
  grep -E "after recording" -A1 $W/rec/$d/results.txt | grep -E "pearvisor|native" | cut -c1-200
  echo "server log errors: $(cat $W/rec/$d/logs/*server.log 2>/dev/null | grep -c 'error')"
  rm -rf $W/rec/$d/logs
done
rm -f build; ln -s .dev/build build
tar czf $OUT/w.tgz -C $OUT w
