#!/bin/bash
# session 12, call 2: the whole pvbench with the Mesa 25 guest (run20.sh's
# binaries).
. "$(dirname "$0")/../session11/setup.sh"
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
QUICK=0 OUT=$W/full HOST_ICD=$H ICD22=/nonexistent ICD25=$R/.dev/icd25.json BUDGET_S=420 bash bench/run-gpu.sh > $W/full.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
grep -E "rounds|fails" $W/full/mesa25/results.txt | head -8
echo "server log errors: $(cat $W/full/mesa25/logs/*server.log 2>/dev/null | grep -c 'error')"
cat $W/full/mesa25/logs/*server.log 2>/dev/null | grep 'error' | sort | uniq -c | sort -rn | head -5 | cut -c1-220
rm -rf $W/full/mesa25/logs
tar czf $OUT/w.tgz -C $OUT w
