#!/bin/bash
# session 11: 128 clients through pv-vtest, PearVisor only, server log with
# times: run13.sh's part B again, with the build of each step carried:
# 5516cab (2 rounds), 0600b2e and 4e86048 (3 rounds each; the "burst" line
# was added for 4e86048).
. "$(dirname "$0")/setup.sh"
for r in 1 2 3; do
  echo "== run $r $(date -u +%T)"
  PV_LOG=info timeout 240 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths pearvisor \
    --workloads clients --clients 128 --client-frames 10 --server-prefix /opt/pvx/tslog.sh --out $W/c128-$r > $W/c128-$r.log 2>&1
  echo "rc $? $(date -u +%T)"
  grep -E "128 clients: total|USS\)" $W/c128-$r/results.txt | cut -c1-140
  S=$W/c128-$r/logs/pearvisor-clients128-server.log
  echo "watchdog lines: $(grep "teardown watchdog" $S | cut -c1-250)"; echo "burst: first accept $(grep -m1 "served by" $S | cut -d" " -f1), connected lines $(grep -c "connected" $S), 1st/64th/last $(grep "connected" $S | cut -d" " -f1 | sort -n | sed -n "1p;64p;\$p" | tr "\n" " "); unserved stopped: $(grep -c "served it: stopped" $S)"; echo "killed at deadline: $(grep -c 'did not exit' $S); stopped while getting ready: $(grep -c 'still getting ready' $S); watchdog: $(grep -c 'teardown watchdog' $S); failed: $(grep -c 'exited with status\|killed by signal' $S); lost: $(grep -c ' lost: ' $S)"
  grep -E "getting ready|did not exit|pool of [0-9]+ again|stopping" $S | cut -c1-160 | head -12
  cp $S $W/server-$r.log; rm -rf $W/c128-$r/logs
done
tar czf $OUT/w.tgz -C $OUT w
