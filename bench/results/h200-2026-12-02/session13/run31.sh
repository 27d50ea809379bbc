#!/bin/bash
# session 13, call 2: the host's time per command buffer in the
# command-heavy passes, from PV_TRACE_DIR timelines (branch exp13 at
# bbeb5a6: stream copies traced, PV_EXP_TAG names the files). Rows: the
# default, a second default row ("again-": how far two identical rows
# differ), and one whose server makes the passes' vkCmd*
# driver calls no-ops ("skip-": decode, lookups and checks alone).
# 5 interleaved rounds per guest driver.
. "$(dirname "$0")/../session11/setup.sh"
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
for d in mesa22 mesa25; do mkdir -p /opt/pvx/tr-$d; chmod 777 /opt/pvx/tr-$d; done
for d in mesa22 mesa25; do
  if [ $d = mesa22 ]; then icds="ICD22=$R/.dev/icd22.json ICD25=/nonexistent"; else icds="ICD22=/nonexistent ICD25=$R/.dev/icd25.json"; fi
  env $icds PV_TRACE_DIR=/opt/pvx/tr-$d QUICK=0 OUT=$W/exp-$d HOST_ICD=$H BUDGET_S=250 \
    EXTRA_ENV="PV_EXP_TAG=again- PV_EXP_SKIP_RECORD=1,PVBENCH_EXP_NOCHECK=1,PV_EXP_TAG=skip-" \
    PVBENCH_ARGS="--workloads drawpush,drawbind --extra-workloads drawpush,drawbind --repeat 5 --no-plot" \
    bash bench/run-gpu.sh > $W/exp-$d.log 2>&1
  echo "run-gpu $d rc $? $(date -u +%T)"
  echo "== $d: $(grep -E 'rounds' $W/exp-$d/$d/results.txt | head -1)"
  grep -E "recording alone|after recording" -A1 $W/exp-$d/$d/results.txt | grep -E "pearvisor|native" | cut -c1-200
  echo "server log errors: $(cat $W/exp-$d/$d/logs/*server.log 2>/dev/null | grep -c 'error')"
  rm -rf $W/exp-$d/$d/logs
  echo "trace files: $(ls /opt/pvx/tr-$d | wc -l)"
  sh "$(dirname "$0")/cmdbuf_times.sh" /opt/pvx/tr-$d
  tar czf $W/trace-$d.tgz -C /opt/pvx tr-$d
done
tar czf $OUT/w.tgz -C $OUT w
