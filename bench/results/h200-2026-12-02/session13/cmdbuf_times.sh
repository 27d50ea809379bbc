#!/bin/sh
# cmdbuf_times.sh TRACE_DIR: from PV_TRACE_DIR files of branch exp13's
# pv-vtest, the host's time per command buffer of the command-heavy passes.
# A command buffer is a run of streams over 64 KiB less than 300 us apart
# (Mesa sends one at vkEndCommandBuffer as 3-6 such streams); its time is
# the sum of its streams' (decode, checks, the driver's recording), and
# "copy" the sum of the copies of those streams out of the guest's shared
# memory (the "?" entries exp13 adds). Files are grouped by their tag (the
# part before "context-"), command buffers by size: drawbind's are over
# 1.5 MiB. The first 8 command buffers of each file (the warm-up and the
# first passes, while Mesa's shared-memory pool is new) are left out.
# Prints tag, pass, count, and the medians in ms (each column its own).
for f in "$1"/*context-*.txt; do
   tag=$(basename "$f" | sed 's/context-.*//')
   awk -v tag="${tag:-default}" '
      $3 > 65536 && $4 == "?" {
         if (n && $1 - end > 300) { flush() }
         pending = $2 - $1; next
      }
      $4 == "stream" && $3 > 65536 {
         if (n && $1 - end > 300 + pending) { flush() }
         t += $2 - $1; c += pending; pending = 0; b += $3; end = $2; n++
      }
      function flush() {
         if (++groups > 8) print tag, (b > 1.5 * 1048576 ? "drawbind" : "drawpush"), t / 1000, c / 1000
         t = 0; c = 0; b = 0; n = 0
      }
      END { if (n) flush() }' "$f"
done >"${TMPDIR:-/tmp}/cmdbuf_times.$$"
# the median of one column (3: streams, 4: copies) per tag and pass
median() {
   sort -k1,1 -k2,2 -k"$1,$1"n "${TMPDIR:-/tmp}/cmdbuf_times.$$" | awk -v col="$1" '
      { k = $1 " " $2; v[k, ++c[k]] = $col }
      END { for (k in c) printf "%s %d %.3f\n", k, c[k], v[k, int((c[k] + 1) / 2)] }' | sort
}
median 3 >"${TMPDIR:-/tmp}/cmdbuf_times.$$.s"
median 4 | paste -d' ' "${TMPDIR:-/tmp}/cmdbuf_times.$$.s" - |
   awk '{ printf "%-8s %-9s n=%-4d streams median %s ms, copies median %s ms\n", $1, $2, $3, $4, $8 }'
rm -f "${TMPDIR:-/tmp}/cmdbuf_times.$$" "${TMPDIR:-/tmp}/cmdbuf_times.$$.s"
