#!/bin/bash
# session 10: the whole pvbench, Mesa 25 guest (bench/run-gpu.sh, 3 rounds)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=$OUT/w; mkdir -p $W
QUICK=0 OUT=$W/full HOST_ICD=$H ICD22=/nonexistent ICD25=$R/.dev/icd25.json BUDGET_S=420 bash bench/run-gpu.sh > $W/full.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
grep -E "rounds" $W/full/mesa25/results.txt | head -2
echo "refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $W/full/mesa25/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $W/full/mesa25/logs 2>/dev/null | wc -l) kills: $(grep -rh 'teardown watchdog' $W/full/mesa25/logs 2>/dev/null | wc -l)"
grep -o "serial limit [0-9.]*, [0-9.]*% of it" $W/full/mesa25/results.txt
rm -rf $W/full/mesa25/logs
tar czf $OUT/w.tgz -C $OUT w
