#!/bin/bash
# session 8, call B (right after run36.sh on the same warm machine): ffmpeg assembled, then
# pvbench with A/B rows of the host-visible memory reuse (PV_MEMORY_REUSE_MIB=0)
set -u
D=/opt/dev
ls $D/build/bench/pvbench /opt/ffparts >/dev/null || { echo "not the warm machine of run36"; exit 3; }
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $D/icd22.json $D/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
mk $D/icd25.json $D/icd25/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
cat /opt/ffparts/ffc.part.a .ffb/ffc.part.b .ffb/ffc.part.c | xz -d | tar xf - -C /opt
cp .ffb/*.so.* /opt/ffc/lib/
printf '#!/bin/sh\nLD_LIBRARY_PATH=/opt/ffc/lib exec /opt/ffc/ffmpeg "$@"\n' > /usr/bin/ffmpeg; chmod +x /usr/bin/ffmpeg
ffmpeg -hide_banner -version | head -1
rm -rf build; ln -s $D/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/gpu
PV_LOG=info OUT=$OUT/gpu HOST_ICD=$H ICD22=$D/icd22.json ICD25=$D/icd25.json BUDGET_S=${BUDGET_S:-220} \
  EXTRA_ENV="PV_MEMORY_REUSE_MIB=0" PVBENCH_ARGS="--workloads ${W:-ffmpeg,upload,vkfft} --extra-workloads ${W:-ffmpeg,upload,vkfft}" \
  bash bench/run-gpu.sh > $OUT/gpu/run.log 2>&1
echo "rc $?"
grep -h "^[a-z0-9]*: \|results in" $OUT/gpu/run.log
for d in mesa22 mesa25; do
  grep -A2 "^VkFFT\|^ffmpeg\|^upload\|^readback" $OUT/gpu/$d/results.txt | grep -v "^--"; grep -h "fails\|skipped" $OUT/gpu/$d/results.txt | head -3
  echo "$d refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $OUT/gpu/$d/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $OUT/gpu/$d/logs 2>/dev/null | wc -l)"
  grep -rhE 'firewall:|invalid Vk|lost: |rror' $OUT/gpu/$d/logs 2>/dev/null | sed 's/[0-9]\+/N/g' | sort | uniq -c | head -5
done
rm -rf $OUT/gpu/mesa22/logs $OUT/gpu/mesa25/logs
