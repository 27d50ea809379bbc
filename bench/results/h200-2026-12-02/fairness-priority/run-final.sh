#!/bin/bash
# session 9, call 2: what the sandbox stops at realtime; realtime vs default without the sandbox
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
printf '#!/bin/sh\nexec "$@" --queue-priority realtime\n' > /opt/pvx/rt.sh
printf '#!/bin/sh\nexec "$@" --queue-priority realtime --no-sandbox\n' > /opt/pvx/rt-nosb.sh
printf '#!/bin/sh\nexec "$@" --no-sandbox\n' > /opt/pvx/nosb.sh
chmod +x /opt/pvx/*.sh
mkdir -p /opt/pvh
PV_LOG=info build/src/vtest/pv-vtest --socket none --socket-wire-format-1 /opt/pvh/heavy.sock > $OUT/heavy-server.log 2>&1 &
HS=$!
sleep 3
I25=$R/.dev/icd25.json
B="build/bench/pvbench --host-icd $H --pv-vtest $R/build/src/vtest/pv-vtest --workloads fairness --no-plot"
one() { # name [VAR=value ...] -- pvbench args
   local name=$1; shift; local envs=()
   while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
   env PV_LOG=info "${envs[@]}" timeout 120 $B "$@" --out $OUT/$name > $OUT/$name.log 2>&1
   echo "$name: rc $? median alone/loaded/ratio $(awk '/^light client/ {print $(NF-3)}' $OUT/$name/results.txt 2>/dev/null | tr '\n' ' ') p90 alone $(awk '/^light client/ {print $(NF-2)}' $OUT/$name/results.txt 2>/dev/null | head -1) $(grep -h 'queue priority' $OUT/$name/logs/*server.log 2>/dev/null | sed 's/.*\] //' | sort | uniq -c | tr '\n' ' ')"
}
S=PVBENCH_FAIR_HEAVY_SOCKET=/opt/pvh/heavy.sock
printf '#!/bin/sh\nexec "$@" --queue-priority realtime --no-sandbox --prestart 0 --no-premade\n' > /opt/pvx/rt-nosb-np.sh
printf '#!/bin/sh\nexec "$@" --queue-priority realtime --no-sandbox --no-premade\n' > /opt/pvx/rt-nosb-nopm.sh
chmod +x /opt/pvx/*.sh
for r in 1 2 3; do
   one r$r-native -- --paths native
   one r$r-native-rt PVBENCH_FAIR_PRIORITY=realtime,none -- --paths native
   one r$r-split $S -- --paths pearvisor --icd $I25 --wire-format 1
   one r$r-split-rt $S -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt.sh
   one r$r-split-rt-nosb $S -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt-nosb.sh
   one r$r-split-rt-nosb-nopm $S -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt-nosb-nopm.sh
   one r$r-split-rt-nosb-np $S -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt-nosb-np.sh
done
grep -h "forbidden\|stopped by" $OUT/r*/logs/*server.log | head -3
kill $HS; wait $HS
mkdir -p $OUT/keep; for d in $OUT/r*/; do n=$(basename $d); cp $d/results.txt $OUT/keep/$n.txt; done
rm -rf $OUT/r*/ $OUT/r*.log
