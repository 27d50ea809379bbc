#!/bin/bash
# session 12, call 1, main at 9e878b9 (built here, carried): pvbench now
# fails a PearVisor path whose pv-vtest reports a failed client process at
# its stop. (1) 128 guests at once, PearVisor only, one round; (2) the whole
# pvbench with the Mesa 22.3 guest (bench/run-gpu.sh, 3 rounds).
. "$(dirname "$0")/../session11/setup.sh"
date -u +%T
timeout 200 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths pearvisor \
  --workloads clients --clients 128 --client-frames 10 --out $W/c128 > $W/c128.log 2>&1
echo "c128 rc $? $(date -u +%T)"
grep -E "128 clients: total|USS\)|pearvisor .*(ok|fail)" $W/c128/results.txt | cut -c1-160
echo "server log errors: $(grep -c 'error' $W/c128/logs/*server.log)"
rm -rf $W/c128/logs
QUICK=0 OUT=$W/full HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=/nonexistent BUDGET_S=390 bash bench/run-gpu.sh > $W/full.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
grep -E "rounds|fails" $W/full/mesa22/results.txt | head -8
echo "server log errors: $(cat $W/full/mesa22/logs/*server.log 2>/dev/null | grep -c 'error')"
cat $W/full/mesa22/logs/*server.log 2>/dev/null | grep 'error' | sort | uniq -c | sort -rn | head -5 | cut -c1-220
rm -rf $W/full/mesa22/logs
tar czf $OUT/w.tgz -C $OUT w
