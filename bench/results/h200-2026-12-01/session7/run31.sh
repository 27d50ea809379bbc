#!/bin/bash
# session 7: main with the recorder thread; A/B rows PV_RECORDER=0 interleaved in the same pvbench run
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
W=${W:-draws,drawpush,drawbind,mlchain}
lscpu | grep -E "Model name|Socket|Thread|NUMA node[0-9]|^CPU\(s\)"; cat /sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null
mkdir -p $OUT/gpu
PV_LOG=info OUT=$OUT/gpu HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=${BUDGET_S:-250} \
  EXTRA_ENV="PV_RECORDER=0" PVBENCH_ARGS="--workloads $W --extra-workloads $W" \
  bash bench/run-gpu.sh > $OUT/gpu/run.log 2>&1
echo "rc $?"
grep -h "^[a-z0-9]*: \|results in" $OUT/gpu/run.log
for d in mesa22 mesa25; do
  echo "$d refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $OUT/gpu/$d/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $OUT/gpu/$d/logs 2>/dev/null | wc -l)"
  for f in $OUT/gpu/$d/logs/*server.log; do echo "  $(basename $f): $(grep -h 'recorder thread' $f | sed "s/.*), //" | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"; done
done
grep -rh 'lost: ' $OUT/gpu/mesa2*/logs 2>/dev/null | sort | uniq -c | head -5
rm -rf $OUT/gpu/mesa22/logs $OUT/gpu/mesa25/logs
