#!/bin/bash
# session 11: context creation (back to back and paced), native vs pv-vtest at 4e86048, Mesa 22.3, 3 rounds
. "$(dirname "$0")/setup.sh"
echo "== $(date -u +%T)"
PV_LOG=info timeout 400 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths native,pearvisor \
  --workloads create,createpaced --repeat 3 --out $W/create > $W/create.log 2>&1
echo "rc $? $(date -u +%T)"
grep -A1 "^instance" $W/create/results.txt | cut -c1-60,100-220
S=$(ls $W/create/logs/*create-server.log 2>/dev/null | head -1)
for f in $W/create/logs/*server.log; do echo "$(basename $f): served ready $(grep -c 'ready)' $f), not ready $(grep -c 'not ready yet' $f), started for it $(grep -c 'started for it' $f), pool max $(grep -o 'pool of [0-9]*' $f | sort -t' ' -k3 -n | tail -1), watchdog $(grep -c 'teardown watchdog' $f)"; done
rm -rf $W/create/logs
tar czf $OUT/w.tgz -C $OUT w
