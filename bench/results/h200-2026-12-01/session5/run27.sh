#!/bin/bash
# session 5: the command-heavy passes with and without pre-started client processes
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
if ldd .dev/build/src/vtest/pv-vtest | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; fi
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
mk $R/.dev/icd25.json $R/.dev/icd25/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/r
for round in 1 2; do
for v in default noprestart nopremade; do
  pre=""; [ $v = noprestart ] && pre="--server-prefix $R/.dev/noprestart.sh"; [ $v = nopremade ] && pre="--server-prefix $R/.dev/nopremade.sh"
  for d in 22 25; do
    w=0; [ $d = 25 ] && w=1
    timeout 120 .dev/build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd$d.json --wire-format $w --workloads drawpush,drawbind,mlchain,draws --repeat 3 --paths native,pearvisor --pv-vtest $R/.dev/build/src/vtest/pv-vtest $pre --out $OUT/r/$v-$d-$round > $OUT/r/$v-$d-$round.log 2>&1
    echo "$v mesa$d round $round rc $?"
    rm -rf $OUT/r/$v-$d-$round/logs
  done
done
done
cd $OUT && tar czf r.tgz r
