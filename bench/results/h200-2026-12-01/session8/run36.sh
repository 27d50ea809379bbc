#!/bin/bash
# session 8, call A: set the machine up (loader, .dev -> /opt/dev, ffmpeg part 1 -> /opt/ffparts)
set -u
mkdir -p /opt/ffparts && cp .ffa/* /opt/ffparts/
for f in .gl/*.deb; do dpkg -x $f /; done
mkdir -p /opt/pvx; for f in .glx/*.deb; do dpkg -x $f /opt/pvx; done
echo /opt/pvx/usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/zz-pvx.conf; ldconfig
rm -rf /opt/dev && cp -a .dev /opt/dev
if ldd /opt/dev/build/bench/pvbench | grep -q "not found"; then cp /opt/dev/lib/* /usr/lib/x86_64-linux-gnu/; ldconfig; echo "carried libstdc++"; fi
ls /opt/dev/build/bench /opt/ffparts
