#!/bin/bash
# session 10: (1) 128 clients ending at once: teardown watchdog kills with the scaled deadline;
# (2) the whole pvbench, Mesa 22.3 guest (bench/run-gpu.sh, 3 rounds)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=$OUT/w; mkdir -p $W
date -u +%T
timeout 150 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths pearvisor \
  --workloads clients --clients 128 --client-frames 10 --out $W/c128 > $W/c128.log 2>&1
echo "c128 rc $? $(date -u +%T)"
grep -E "128 clients" $W/c128/results.txt | cut -c1-150
L=$W/c128/logs
echo "watchdog kills: $(grep -rh 'killed (teardown watchdog)' $L | wc -l); pre-started killed: $(grep -rh 'did not exit: killed' $L | wc -l); failed: $(grep -rh 'exited with status\|killed by signal' $L | wc -l)"
grep -rh 'killed (teardown watchdog)' $L | head -3 | cut -c1-220
grep -rh 'done .* ms after the end' $L | awk '{print $(NF-6)}' | sort -n | tail -3
ls $L | head; du -sh $L
QUICK=0 OUT=$W/full HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=/nonexistent BUDGET_S=390 bash bench/run-gpu.sh > $W/full.log 2>&1
echo "run-gpu rc $? $(date -u +%T)"
grep -E "rounds" $W/full/mesa22/results.txt | head -2
echo "refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $W/full/mesa22/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $W/full/mesa22/logs 2>/dev/null | wc -l) kills: $(grep -rh 'teardown watchdog' $W/full/mesa22/logs 2>/dev/null | wc -l)"
rm -rf $W/full/mesa22/logs; mv $L $W/c128-logs-gone 2>/dev/null; rm -rf $W/c128-logs-gone
tar czf $OUT/w.tgz -C $OUT w
