#!/bin/bash
# session 9: final binaries on the H200: run-gpu.sh QUICK=1 (both guest drivers), then --gpus 0 / --gpus 1
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/quick
QUICK=1 OUT=$OUT/quick HOST_ICD=$H ICD22=$R/.dev/icd22.json ICD25=$R/.dev/icd25.json BUDGET_S=150 \
  PVBENCH_ARGS="--workloads create,submit,clear,frames,drawpush,mlchain,compute,pipeline,clients" bash bench/run-gpu.sh > $OUT/quick/run.log 2>&1
echo "run-gpu rc $?"
for d in mesa22 mesa25; do
  echo "== $d"; grep -E "^[a-z0-9 ,+()/-]+ +(native|pearvisor) " $OUT/quick/$d/results.txt | awk '{print}' | cut -c1-150 | head -40
  grep -h "fails" $OUT/quick/$d/results.txt | head -3
  echo "$d refusals: $(grep -rhE 'firewall:|invalid Vk[A-Za-z0-9]* value' $OUT/quick/$d/logs 2>/dev/null | wc -l) lost: $(grep -rh ' lost: ' $OUT/quick/$d/logs 2>/dev/null | wc -l)"
done
B="build/bench/pvbench --host-icd $H --pv-vtest $R/build/src/vtest/pv-vtest --workloads create --quick --no-plot --paths pearvisor --icd $R/.dev/icd22.json"
for g in 0 1; do
  printf '#!/bin/sh\nexec "$@" --gpus %s\n' $g > /opt/pvx/g$g.sh; chmod +x /opt/pvx/g$g.sh
  timeout 120 $B --server-prefix /opt/pvx/g$g.sh --out $OUT/gpus$g > $OUT/gpus$g.log 2>&1
  echo "--gpus $g: rc $? $(grep -h 'pearvisor ' $OUT/gpus$g/results.txt | head -2 | cut -c1-120 | tr '\n' '|') $(grep -h 'fails' $OUT/gpus$g/results.txt | head -1)"
done
rm -rf $OUT/quick/mesa22/logs $OUT/quick/mesa25/logs $OUT/gpus*/logs
