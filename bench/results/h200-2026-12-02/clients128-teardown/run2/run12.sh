#!/bin/bash
# session 10: 128 clients, native and PearVisor, 2 interleaved rounds: total FPS and teardown watchdog kills
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=$OUT/w; mkdir -p $W
date -u +%T
timeout 480 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths native,pearvisor \
  --workloads clients --clients 128 --client-frames 10 --repeat 2 --out $W/c128 > $W/c128.log 2>&1
echo "c128 rc $? $(date -u +%T)"
grep -E "128 clients|rounds" $W/c128/results.txt | cut -c1-150
L=$W/c128/logs
echo "watchdog kills: $(grep -rh 'killed (teardown watchdog)' $L | wc -l); pre-started killed: $(grep -rh 'did not exit: killed' $L | wc -l); failed: $(grep -rh 'exited with status\|killed by signal' $L | wc -l); lost: $(grep -rh ' lost: ' $L | wc -l)"
grep -rh 'killed (teardown watchdog)\|did not exit' $L | head -4 | cut -c1-220
ls -la $L | head
rm -rf $L
tar czf $OUT/w.tgz -C $OUT w
