#!/bin/bash
# session 8: many clients, ring-thread polling A/B (PV_RING_SPIN_US=0 / 100 rows interleaved)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
if ldd .dev/build/src/vtest/pv-vtest | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; echo "carried libstdc++"; fi
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
ulimit -n 65536
C=${C:-128}; REP=${REP:-2}
t0=$(date +%s)
PV_LOG=info timeout 540 ./build/bench/pvbench --host-icd $H --icd $R/.dev/icd22.json --paths native,pearvisor \
  --workloads clients --clients $C --client-frames ${FR:-10} --repeat $REP \
  --extra-guest-env PV_RING_SPIN_US=0 --extra-guest-env PV_RING_SPIN_US=100 --extra-workloads clients \
  --no-plot --out $OUT/clients > $OUT/clients.log 2>&1
echo "rc $? in $(( $(date +%s) - t0 )) s"
grep -A40 "^metric" $OUT/clients/results.txt | grep -v "^ *$" | head -60
grep -h "fails" $OUT/clients/results.txt | head
grep -rh ' lost: \|killed' $OUT/clients/logs 2>/dev/null | sed 's/[0-9]\+/N/g' | sort | uniq -c | head
rm -rf $OUT/clients/logs
