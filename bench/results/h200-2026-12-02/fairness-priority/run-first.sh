#!/bin/bash
# session 9: fairness through PearVisor with the server's queue priority
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; id -u; nproc
ldd build/bench/pvbench build/src/vtest/pv-vtest .dev/icd25/libvulkan_virtio.so .dev/icd22/libvulkan_virtio.so | grep "not found"
printf '#!/bin/sh\nexec "$@" --queue-priority realtime\n' > /opt/pvx/rt.sh
printf '#!/bin/sh\nexec "$@" --queue-priority realtime --no-sandbox\n' > /opt/pvx/rt-nosb.sh
chmod +x /opt/pvx/rt.sh /opt/pvx/rt-nosb.sh
mkdir -p /opt/pvh
PV_LOG=info build/src/vtest/pv-vtest --socket none --socket-wire-format-1 /opt/pvh/heavy.sock > $OUT/heavy-server.log 2>&1 &
HS=$!
sleep 3
I25=$R/.dev/icd25.json; I22=$R/.dev/icd22.json
B="build/bench/pvbench --host-icd $H --pv-vtest $R/build/src/vtest/pv-vtest --workloads fairness --no-plot"
one() { # name [VAR=value ...] -- pvbench args
   local name=$1; shift; local envs=()
   while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
   env PV_LOG=info "${envs[@]}" timeout 120 $B "$@" --out $OUT/$name > $OUT/$name.log 2>&1
   echo "$name: rc $? $(awk '/^light client/ {print $(NF-4)}' $OUT/$name/results.txt 2>/dev/null | tr '\n' ' ') $(grep -h 'queue priority' $OUT/$name/logs/*server.log 2>/dev/null | sed 's/.*\] //' | sort | uniq -c | tr '\n' ' ')"
}
for r in 1 2 3; do
   one r$r-native --  --paths native
   one r$r-native-rt PVBENCH_FAIR_PRIORITY=realtime,none -- --paths native
   one r$r-pv22 -- --paths pearvisor --icd $I22 --wire-format 0
   one r$r-pv25 -- --paths pearvisor --icd $I25 --wire-format 1
   one r$r-pv25-split PVBENCH_FAIR_HEAVY_SOCKET=/opt/pvh/heavy.sock -- --paths pearvisor --icd $I25 --wire-format 1
   one r$r-pv25-split-rt PVBENCH_FAIR_HEAVY_SOCKET=/opt/pvh/heavy.sock -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt.sh
   one r$r-pv25-split-rt-nosb PVBENCH_FAIR_HEAVY_SOCKET=/opt/pvh/heavy.sock -- --paths pearvisor --icd $I25 --wire-format 1 --server-prefix /opt/pvx/rt-nosb.sh
done
kill $HS; wait $HS
echo "heavy server contexts: $(grep -c 'connected$' $OUT/heavy-server.log)"
grep -h "heavy client: vtest socket" $OUT/r1-pv25-split/logs/* | head -2
for d in $OUT/r*/; do rm -rf $d/logs/*anchor* ; done
du -sh $OUT
