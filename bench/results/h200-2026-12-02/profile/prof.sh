#!/bin/bash
# session 10: where the host's time goes in drawpush/drawbind (perf, Mesa 22.3 defaults), PV vs native
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/.dev/perf/lib exec %s/.dev/perf/perf "$@"\n' $R $R > /opt/pvx/perf; chmod +x /opt/pvx/perf
P=/opt/pvx/perf
$P stat -e cycles,instructions,task-clock true 2>&1 | grep -E "cycles|instructions|not supported" | head -5
EV=cpu-clock; if $P stat -e cycles true 2>&1 | grep -q "not supported\|<not"; then EV=cpu-clock; else EV=cycles; fi
echo "event: $EV"
mkdir -p /pvperf; chmod 777 /pvperf
W=$OUT/w; mkdir -p $W
B="timeout 200 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --workloads drawpush,drawbind --repeat 3"
$B --paths pearvisor --pv-vtest $R/build/src/vtest/pv-vtest --server-prefix "$P record -e $EV -F 15000 -o /pvperf/pv-%w.data --" --out $W/pv > $W/pv.log 2>&1
echo "pv rc $?"
$P record -e $EV -F 15000 -o /pvperf/native.data -- $B --paths native --out $W/native > $W/native.log 2>&1
echo "native rc $?"
ls -la /pvperf
for f in /pvperf/*.data; do
  n=$(basename $f .data)
  echo "===== $n: comm,dso"
  $P report -i $f --no-children --sort comm,dso -g none --stdio 2>/dev/null | grep -v "^#" | grep % | head -25
  echo "===== $n: top symbols"
  $P report -i $f --no-children --sort comm,dso,sym -g none --stdio 2>/dev/null | grep -v "^#" | grep % | head -70 | cut -c1-160
done > $W/report.txt
for f in /pvperf/pv-drawbind.data /pvperf/native.data; do timeout 60 $P annotate -i $f --stdio 2>/dev/null | head -3000 > $W/$(basename $f .data)-annotate.txt; done
grep -h "after recording\|recording alone\|record+submit" $W/pv/results.txt $W/native/results.txt | cut -c1-150
head -c 60000 $W/report.txt
rm -rf $W/pv/logs $W/native/logs; tar czf $OUT/w.tgz -C $OUT w
