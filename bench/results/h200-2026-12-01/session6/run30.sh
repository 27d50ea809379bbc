#!/bin/bash
# session 6: A/B of pv-vtest 2156fcf (old) against 3af739b (new), interleaved, same pvbench
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
if ldd .dev/pv-vtest-new | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; echo "carried libstdc++"; fi
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
for round in 1 2; do
  for v in new old; do
    cp .dev/pv-vtest-$v .dev/build/src/vtest/pv-vtest
    mkdir -p $OUT/ab/$v$round
    OUT=$OUT/ab/$v$round HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=100 \
      PVBENCH_ARGS="--workloads draws,drawpush,drawbind,mlchain --extra-workloads none" \
      bash bench/run-gpu.sh > $OUT/ab/$v$round/run.log 2>&1
    echo "$v$round rc $?"
    rm -rf $OUT/ab/$v$round/mesa22/logs $OUT/ab/$v$round/mesa25/logs
  done
done
