#!/usr/bin/python3
"""Host time per command buffer from PV_TRACE_DIR files (src/venus/pvk_trace.h):
a context's streams of 16 KiB or more that follow each other within 2 ms
are one command buffer (Mesa sends one at vkEndCommandBuffer as a few
streams); only groups within 2% of the median size count (whole command
buffers). Run where trace-{before,after}/{drawpush,drawbind}/ are."""
import glob
import statistics
for w in ('drawpush', 'drawbind'):
    for v in ('before', 'after'):
        cbs = []
        for f in sorted(glob.glob('trace-%s/%s/*.txt' % (v, w))):
            cur = None
            for line in open(f):
                if line.startswith('#'):
                    continue
                s, e, n, kind = line.split()
                s, e, n = float(s), float(e), int(n)
                if kind != 'stream' or n < 16384:
                    cur = None
                    continue
                if cur is not None and s - cur['end'] < 2000:
                    cur['us'] += e - s; cur['bytes'] += n; cur['end'] = e
                else:
                    cur = {'us': e - s, 'bytes': n, 'end': e}
                    cbs.append(cur)
        big0 = [c for c in cbs if c['bytes'] > 100000]
        med = statistics.median(c['bytes'] for c in big0)
        big = [c for c in big0 if abs(c['bytes'] - med) < 0.02 * med]  # whole command buffers only
        us = sorted(c['us'] for c in big)
        kib = statistics.median(c['bytes'] for c in big) / 1024
        print('%-9s %-7s cbs %3d  KiB/cb %6.0f  host ms/cb: min %.3f median %.3f p90 %.3f' % (
            w, v, len(big), kib, us[0] / 1000, statistics.median(us) / 1000, us[int(len(us) * 0.9)] / 1000))
