#!/bin/bash
# session 5: system calls of the drawbind pass, PearVisor (server and client processes) vs native
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
mkdir -p /opt/perfx; for f in .perf/*.deb .strace/*.deb; do dpkg -x $f /opt/perfx; done
ST="env LD_LIBRARY_PATH=/opt/perfx/usr/lib/x86_64-linux-gnu:/opt/perfx/lib/x86_64-linux-gnu /opt/perfx/usr/bin/strace"
if ldd .dev/build/src/vtest/pv-vtest | grep -q "not found"; then cp .dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; fi
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/lib/x86_64-linux-gnu/libvulkan_virtio.so
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p $OUT/s /pvst; chmod 777 /pvst
B="timeout 200 .dev/build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --workloads drawbind --repeat 1"
$B --paths pearvisor --pv-vtest $R/.dev/build/src/vtest/pv-vtest --server-prefix "$R/.dev/stracew.sh" --out $OUT/s/pv > $OUT/s/pv.log 2>&1; echo "pv rc $?"
$ST -f -qq -tt -X raw -e trace=ioctl,mmap,munmap,futex -o /pvst/native.trace $B --paths native --out $OUT/s/native > $OUT/s/native.log 2>&1; echo "native rc $?"
$B --paths native --out $OUT/s/native2 > $OUT/s/native2.log 2>&1
for t in NONE; do continue
  echo "== $t: $(wc -l < $t) lines"
  awk '{print $1}' $t | sort | uniq -c | sort -rn | head -5
  for p in $(awk '{print $1}' $t | sort | uniq -c | sort -rn | head -2 | awk '{print $2}'); do
    echo "-- pid $p"; grep "^$p " $t | sed 's/(\([^,]*\), \(0x[0-9a-f]*\).*/ \2/' | awk '{print $2, $3}' | sort | uniq -c | sort -rn | head -12
  done
done
grep -h "set+VB" $OUT/s/*.log | cut -c1-150
gzip -c /pvst/pv.trace > $OUT/s/pv.trace.gz; gzip -c /pvst/native.trace > $OUT/s/native.trace.gz
rm -rf $OUT/s/pv/logs $OUT/s/native*/logs; cd $OUT && tar czf s.tgz s
