#!/bin/bash
# session 11: (A) the GPU's time-slice policy; (B) 128 clients with timestamped
# server logs (pre-started processes killed at stop); (C) fairness at the
# default time slice, (D) and at each other time slice the driver accepts
. "$(dirname "$0")/setup.sh"
echo "== A $(date -u +%T)"
nvidia-smi --query-gpu=name,driver_version,compute_mode --format=csv,noheader
nvidia-smi compute-policy -h > $W/cp-help.txt 2>&1; grep -i -E "slice|sts" $W/cp-help.txt | head -8
nvidia-smi compute-policy -l 2>&1 | head -12
nvidia-smi -q 2>/dev/null | grep -i -E "virtuali|host vgpu|mode  " | head -5
# (B) 128 clients, PearVisor only, server log with times
echo "== B $(date -u +%T)"
PV_LOG=info timeout 240 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths pearvisor \
  --workloads clients --clients 128 --client-frames 10 --server-prefix /opt/pvx/tslog.sh --out $W/c128 > $W/c128.log 2>&1
echo "c128 rc $? $(date -u +%T)"
grep -E "128 clients" $W/c128/results.txt | cut -c1-150
S=$W/c128/logs/pearvisor-clients128-server.log
echo "pre-started killed: $(grep -c 'did not exit: killed' $S); watchdog: $(grep -c 'teardown watchdog' $S)"
for p in $(grep 'did not exit: killed' $S | sed 's/.*pid \([0-9]*\).*/\1/'); do grep -E "process $p\b|pid $p\b|\($p\)" $S | cut -c1-200; done | head -30
grep -E "pool|stopp|signal|leaving" $S | tail -12 | cut -c1-200
tail -5 $S | cut -c1-200
cp $S $W/c128-server.log; rm -rf $W/c128/logs
# (C, D) fairness, Mesa 22.3 guest, native and PearVisor, 3 rounds
fair() {
   echo "== fairness $1 $(date -u +%T)"
   timeout 150 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths native,pearvisor \
     --workloads fairness --repeat 3 --out $W/fair-$1 > $W/fair-$1.log 2>&1
   echo "rc $?"; grep -i "light\|rounds" $W/fair-$1/results.txt | cut -c1-160
   rm -rf $W/fair-$1/logs
}
fair default
for t in 1 3; do
   if nvidia-smi compute-policy --set-timeslice=$t > $W/sts$t.txt 2>&1; then
      cat $W/sts$t.txt | head -3; nvidia-smi compute-policy -l 2>&1 | head -6
      fair slice$t
   else
      echo "set-timeslice=$t refused: $(head -3 $W/sts$t.txt)"
   fi
done
nvidia-smi compute-policy --set-timeslice=0 > /dev/null 2>&1
tar czf $OUT/w.tgz -C $OUT w
echo "== end $(date -u +%T)"
