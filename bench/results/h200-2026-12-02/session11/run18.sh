#!/bin/bash
# session 11: 128 clients arriving at once, native and pv-vtest at 4e86048, one round: pvbench's wall time per path and total FPS
. "$(dirname "$0")/setup.sh"
echo "== $(date -u +%T)"
PV_LOG=info timeout 420 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths native,pearvisor \
  --workloads clients --clients 128 --client-frames 10 --out $W/c128 > $W/c128.log 2>&1
echo "rc $? $(date -u +%T)"
grep clients128 $W/c128.log
grep -A1 -E "128 clients: (total|host private)" $W/c128/results.txt | cut -c1-40,74-200
S=$W/c128/logs/pearvisor-clients128-server.log
echo "watchdog: $(grep -c 'teardown watchdog' $S); killed at deadline: $(grep -c 'did not exit' $S); unserved stopped: $(grep -c 'served it: stopped' $S); failed: $(grep -c 'exited with status\|killed by signal' $S)"
rm -rf $W/c128/logs
tar czf $OUT/w.tgz -C $OUT w
