#!/bin/bash
# session 9: do idle realtime devices of other processes slow a realtime client natively?
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export VK_ICD_FILENAMES=$H
B="build/bench/pvbench --host-icd $H --workloads fairness --no-plot --paths native"
one() { # name [VAR=value ...] -- pvbench args
   local name=$1; shift; local envs=()
   while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
   env "${envs[@]}" timeout 120 $B "$@" --out $OUT/$name > $OUT/$name.log 2>&1
   echo "$name: rc $? median alone/loaded/ratio $(awk '/^light client/ {print $(NF-3)}' $OUT/$name/results.txt 2>/dev/null | tr '\n' ' ') p90 alone $(awk '/^light client/ {print $(NF-2)}' $OUT/$name/results.txt 2>/dev/null | head -1)"
}
idle() { # count class
   for i in $(seq 1 $1); do build/bench/pv-idle-device $2 > $OUT/idle-$i.out 2>&1 & done
   for i in $(seq 1 50); do [ $(cat $OUT/idle-*.out 2>/dev/null | grep -c ready) -ge $1 ] && break; sleep 0.2; done
   echo "  idle $2 devices ready: $(cat $OUT/idle-*.out | grep -c ready) of $1 $(grep -hv ready $OUT/idle-*.out | head -1)"
}
stop_idle() { pkill -f pv-idle-device; sleep 1; rm -f $OUT/idle-*.out; }
for r in 1 2 3; do
   one r$r-rt PVBENCH_FAIR_PRIORITY=realtime,none --
   idle 3 realtime; one r$r-rt-idle3rt PVBENCH_FAIR_PRIORITY=realtime,none --; stop_idle
   idle 3 none; one r$r-rt-idle3none PVBENCH_FAIR_PRIORITY=realtime,none --; stop_idle
   idle 3 none; one r$r-default-idle3none --; stop_idle
done
mkdir -p $OUT/keep; for d in $OUT/r*/; do n=$(basename $d); cp $d/results.txt $OUT/keep/$n.txt; done
rm -rf $OUT/r*/ $OUT/r*.log
