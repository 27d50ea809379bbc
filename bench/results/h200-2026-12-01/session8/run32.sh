#!/bin/bash
# session 8: native fairness with queue global priorities (light,heavy)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; id -u
VK_ICD_FILENAMES=$H vulkaninfo 2>/dev/null | grep -i -A3 "global_priority\|GlobalPriority" | head -40
for round in 1 2 3; do
for p in none,none medium,medium high,medium medium,low high,low realtime,medium realtime,low low,medium; do
  PVBENCH_FAIR_PRIORITY=$p ./build/bench/pvbench --paths native --host-icd $H --workloads fairness --no-plot --out $OUT/r$round-$p > $OUT/r$round-$p.log 2>&1
  echo "round $round $p: $(grep -h 'fails:' $OUT/r$round-$p.log | head -1) $(grep -h '^light client' $OUT/r$round-$p.log | awk '{print $(NF-3)}' | tr '\n' ' ')"
done; done
