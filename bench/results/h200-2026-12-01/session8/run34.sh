#!/bin/bash
# session 8, call 1: VkFFT workload, native vs PearVisor, both guest drivers, 3 rounds; stash ffmpeg part 1
set -u
R=$(pwd)
mkdir -p /opt/ffparts && cp .ffa/* /opt/ffparts/ 2>/dev/null
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
if ldd .dev/build/bench/pvbench | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; echo "carried libstdc++"; fi
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/gpu
PV_LOG=info OUT=$OUT/gpu HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=${BUDGET_S:-200} \
  PVBENCH_ARGS="--workloads ${W:-vkfft}" bash bench/run-gpu.sh > $OUT/gpu/run.log 2>&1
echo "rc $?"
grep -h "^[a-z0-9]*: \|results in" $OUT/gpu/run.log
for d in mesa22 mesa25; do
  grep -A2 "^VkFFT\|^ffmpeg" $OUT/gpu/$d/results.txt; grep -h "fails\|skipped" $OUT/gpu/$d/results.txt | head -3
  echo "$d refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $OUT/gpu/$d/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $OUT/gpu/$d/logs 2>/dev/null | wc -l)"
  grep -rhE 'firewall:|invalid Vk|lost: ' $OUT/gpu/$d/logs 2>/dev/null | sed 's/[0-9]\+/N/g' | sort | uniq -c | head -5
done
rm -rf $OUT/gpu/mesa22/logs $OUT/gpu/mesa25/logs
ls -la /opt/ffparts
