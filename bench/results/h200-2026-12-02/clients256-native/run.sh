#!/bin/bash
# session 9: why do 256 native Vulkan processes fail vkCreateDevice on the H200?
set -u
R=$(pwd)
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx/lib && cp .dev/lib/* /opt/pvx/lib/ && echo /opt/pvx/lib > /etc/ld.so.conf.d/zz-pvx.conf && ldconfig
rm -rf build; ln -s .dev/build build
H=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
echo "threads-max $(cat /proc/sys/kernel/threads-max) pid_max $(cat /proc/sys/kernel/pid_max) max_map_count $(cat /proc/sys/vm/max_map_count)"
ulimit -a | grep -i -E "proc|open|lock|stack"
cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids.current 2>/dev/null; cat /proc/self/cgroup
ls /dev/nvidia*; cat /proc/driver/nvidia/params 2>/dev/null | head -40
dmesg 2>/dev/null | tail -3
( for i in $(seq 1 200); do echo "$(date +%s) threads $(ls /proc/*/task 2>/dev/null | grep -c '^[0-9]') procs $(ls -d /proc/[0-9]* | wc -l) gpumem $(nvidia-smi --query-gpu=memory.used --format=csv,noheader 2>/dev/null)"; sleep 2; done ) > $OUT/mon.txt 2>&1 &
M=$!
timeout 300 build/bench/pvbench --host-icd $H --paths native --workloads clients --clients 256 --client-frames 5 --no-plot --out $OUT/n256 > $OUT/n256.log 2>&1
echo "pvbench rc $?"
kill $M
tail -25 $OUT/n256.log
grep -rh "fail\|error" $OUT/n256/logs 2>/dev/null | sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn | head -10
dmesg 2>/dev/null | grep -i -E "nvrm|nvidia|xid|oom|fail" | tail -40
sort -k3 -n -t' ' $OUT/mon.txt | tail -3
rm -rf $OUT/n256/logs
