#!/bin/bash
# session 6: main 3af739b (enum checks, dispatch loop, in-place arrays, two-way cache, lavapipe batch split)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
if ldd .dev/build/src/vtest/pv-vtest | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; echo "carried libstdc++"; fi
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/gpu

PV_LOG=info OUT=$OUT/gpu HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=235 \
  PVBENCH_ARGS="--workloads create,submit,drawpush,drawbind,mlchain,draws --extra-workloads drawpush,drawbind" \
  bash bench/run-gpu.sh > $OUT/gpu/run.log 2>&1
echo "rc $?"
grep -h "^[a-z0-9]*: \|results in" $OUT/gpu/run.log
for d in mesa22 mesa25; do echo "$d adoptions: $(grep -rh 'made ahead' $OUT/gpu/$d/logs 2>/dev/null | grep -c took) refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $OUT/gpu/$d/logs 2>/dev/null | wc -l) not-ready takes: $(grep -rh 'not ready yet' $OUT/gpu/$d/logs 2>/dev/null | wc -l) ready takes: $(grep -rh 'before, ready' $OUT/gpu/$d/logs 2>/dev/null | wc -l)"; grep -rh 'pool of' $OUT/gpu/$d/logs 2>/dev/null | sed 's/.*\] //' | sort | uniq -c; done
grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value|lost' $OUT/gpu/mesa2*/logs 2>/dev/null | sort | uniq -c | head -5; grep -rh 'VUID\|Validation\|not done' $OUT/gpu/mesa2*/logs $OUT/gpu/*.log 2>/dev/null | head -3
grep -rh 'refused\|error' $OUT/gpu/mesa2*/logs 2>/dev/null | sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn | head -8; rm -rf $OUT/gpu/mesa22/logs $OUT/gpu/mesa25/logs; cd $OUT && tar czf gpu.tgz gpu
