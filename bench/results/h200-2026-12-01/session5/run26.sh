#!/bin/bash
# session 5: where the host's time goes in the drawbind pass (perf, Mesa 22.3 defaults)
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mkdir -p /opt/perfx; for f in .perf/*.deb; do dpkg -x $f /opt/perfx; done
if ldd .dev/build/src/vtest/pv-vtest | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; fi
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; export VK_ICD_FILENAMES=$H
W=$OUT/w; mkdir -p $W /pvperf; chmod 777 /pvperf
P=$R/.dev/perfw.sh
B="timeout 150 .dev/build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --workloads drawbind --repeat 3"
$B --paths pearvisor --pv-vtest $R/.dev/build/src/vtest/pv-vtest --server-prefix "$P record -e cpu-clock -F 20000 -g -o /pvperf/pv-%w.data --" --out $W/perfpv > $W/perfpv.log 2>&1
echo "perf pv rc $?"
$P record -e cpu-clock -F 20000 -g -o /pvperf/native.data -- $B --paths native --out $W/perfnative > $W/perfnative.log 2>&1
echo "perf native rc $?"
for f in /pvperf/*.data; do
  n=$(basename $f .data)
  $P report -i $f --no-children --sort comm,dso -g none 2>/dev/null | grep -v "^#" | grep % | head -30 > $W/$n-dso.txt
  $P report -i $f --no-children --sort dso,sym -g none 2>/dev/null | grep -v "^#" | grep % | head -100 > $W/$n-sym.txt
  $P report -i $f --children --sort sym -g none 2>/dev/null | grep -v "^#" | grep % | head -80 > $W/$n-children.txt
  $P report -i $f --no-children --sort comm,dso,sym -g none 2>/dev/null | grep -v "^#" | grep "pv-client" | head -120 > $W/$n-client-sym.txt
done
ls -la /pvperf
for f in /pvperf/pv-drawbind-r3.data /pvperf/native.data; do
  n=$(basename $f .data)
  $P report -i $f --no-children --comms "pv-client 2,pvbench,vkt-drawbind" --symbols osDevReadReg032,rwsem_spin_on_owner,__schedule -g caller,0.5,callee,function,percent --stdio 2>/dev/null | grep -v "^$" | head -150 > $W/$n-graph.txt
  $P report -i $f --no-children --sort comm -g none --stdio 2>/dev/null | grep % | head -20 > $W/$n-comm.txt
done
head -100 $W/pv-drawbind-r3-graph.txt
cat $W/native-comm.txt
grep -h "after recording\|recording alone\|record+submit" $W/*.log | cut -c1-150
rm -rf $W/perfnative/logs $W/perfpv/logs; tar czf $OUT/w.tgz -C $OUT w
