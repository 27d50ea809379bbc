#!/bin/sh
exec env LD_LIBRARY_PATH=/opt/perfx/usr/lib/x86_64-linux-gnu:/opt/perfx/lib/x86_64-linux-gnu /opt/perfx/usr/bin/strace -f -qq -tt -X raw -e trace=ioctl,mmap,munmap,futex -o /pvst/pv.trace "$@" --no-sandbox
