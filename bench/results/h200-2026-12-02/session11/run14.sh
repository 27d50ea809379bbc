#!/bin/bash
# session 11: 128 clients through pv-vtest at 5516cab (stopped pool processes
# are reaped by the accept loop, not waited for), server log with times
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
mk() { printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$2" > $1; }
mk $R/.dev/icd22.json $R/.dev/icd22/libvulkan_virtio.so
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=$OUT/w; mkdir -p $W
printf '#!/bin/bash\nexec "$@" 2> >(while IFS= read -r l; do printf "%%s %%s\\n" "$EPOCHREALTIME" "$l"; done >&2)\n' > /opt/pvx/tslog.sh
chmod +x /opt/pvx/tslog.sh
for r in 1 2; do
  echo "== run $r $(date -u +%T)"
  PV_LOG=info timeout 240 build/bench/pvbench --host-icd $H --no-plot --icd $R/.dev/icd22.json --paths pearvisor \
    --workloads clients --clients 128 --client-frames 10 --server-prefix /opt/pvx/tslog.sh --out $W/c128-$r > $W/c128-$r.log 2>&1
  echo "rc $? $(date -u +%T)"
  grep -E "128 clients: total|USS\)" $W/c128-$r/results.txt | cut -c1-140
  S=$W/c128-$r/logs/pearvisor-clients128-server.log
  echo "killed at deadline: $(grep -c 'did not exit' $S); stopped while getting ready: $(grep -c 'still getting ready' $S); watchdog: $(grep -c 'teardown watchdog' $S); failed: $(grep -c 'exited with status\|killed by signal' $S); lost: $(grep -c ' lost: ' $S)"
  grep -E "getting ready|did not exit|pool of [0-9]+ again|stopping" $S | cut -c1-160 | head -12
  cp $S $W/server-$r.log; rm -rf $W/c128-$r/logs
done
tar czf $OUT/w.tgz -C $OUT w
