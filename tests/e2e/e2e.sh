#!/bin/sh
# End-to-end tests of pv-vtest with Mesa's venus driver, each through
# scripts/run-with-pv-vtest.sh (a private /tmp and server per test).
#
# usage: e2e.sh TEST PV_VTEST VENUS_ICD RAW_CLIENT
#   vulkaninfo   vulkaninfo --summary lists "Virtio-GPU Venus (llvmpipe ...)", under validation
#   two-clients  two vulkaninfo at once through one server
#   disconnect   clients killed mid-stream, raw clients vanishing mid-message;
#                the server then still serves vulkaninfo
#   malformed    malformed and random streams from a raw socket client; the
#                server then still serves vulkaninfo
#   shutdown     SIGTERM while three clients are mid-stream: the server must
#                stop cleanly (run-with-pv-vtest.sh fails on a hang or crash)
#   crash        a client's server process crashes (SIGSEGV): its client is
#                dropped, the server serves the next one and reports the
#                crash in its exit status (3)
#   wrong-socket a second server serves the formats the other way round
#                (wire format 1 on /tmp/.virgl_test, 0 on VTEST_SOCKET_NAME):
#                the driver, whichever it is, fails cleanly and that server
#                logs which wire format it served and how to select the other
#   two-clients-threads, shutdown-threads
#                the same with every client on a thread of one server
#                process (pv-vtest --no-fork) instead of a process each
# VENUS_ICD may be Mesa 22.3's or Mesa 25's driver (run-with-pv-vtest.sh
# serves both wire formats). Exit 77 (skipped) when vulkaninfo or the venus
# ICD is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
test=$1 server=$2 icd=$3 raw=$4
run="$root/scripts/run-with-pv-vtest.sh"

command -v vulkaninfo >/dev/null || { echo "vulkaninfo not installed: skipped"; exit 77; }
[ -e "$icd" ] || { echo "$icd missing: skipped"; exit 77; }
export PV_VTEST=$server

# Inner commands run in the private namespace: files go to its private /tmp.
venus_ok='vulkaninfo --summary >/tmp/vi.out 2>/tmp/vi.err; rc=$?;
   if ! grep -q "Virtio-GPU Venus (llvmpipe" /tmp/vi.out; then
      cat /tmp/vi.out /tmp/vi.err >&2; echo "vulkaninfo (rc $rc) did not list the venus device" >&2; exit 1; fi'

case $test in
*-threads)
   export PV_VTEST_ARGS=--no-fork
   test=${test%-threads}
   ;;
esac

case $test in
vulkaninfo)
   exec "$run" --validate --icd "$icd" -- sh -c "$venus_ok; grep -E 'deviceName|driverName' /tmp/vi.out"
   ;;
two-clients)
   exec "$run" --icd "$icd" -- sh -c '
      vulkaninfo --summary >/tmp/a.out 2>&1 & a=$!
      vulkaninfo --summary >/tmp/b.out 2>&1 & b=$!
      wait $a; ra=$?; wait $b; rb=$?
      for f in a b; do
         grep -q "Virtio-GPU Venus (llvmpipe" /tmp/$f.out || { cat /tmp/$f.out >&2; echo "client $f failed" >&2; exit 1; }
      done
      echo "both clients listed the venus device (rc $ra, $rb)"'
   ;;
disconnect)
   exec "$run" --icd "$icd" -- sh -c "
      for t in 0.05 0.2 0.5 1; do timeout -s KILL \$t vulkaninfo >/dev/null 2>&1; done
      '$raw' disconnect || exit 1
      $venus_ok; echo 'served after killed clients and mid-message disconnects'"
   ;;
malformed)
   exec "$run" --icd "$icd" -- sh -c "
      '$raw' malformed || exit 1
      for seed in 1 2 3 4 5 6 7 8; do '$raw' fuzz 2000 \$seed || exit 1; done
      $venus_ok; echo 'served after malformed and random streams'"
   ;;
crash)
   # The newest child of our own server is the held client's process (other
   # servers, of other test runs on this machine, are not ours to kill).
   PV_VTEST_EXPECT_STATUS=3 exec "$run" --icd "$icd" -- sh -c "
      '$raw' hold >/tmp/hold.out & h=\$!
      i=0; until grep -q held /tmp/hold.out; do
         i=\$((i + 1)); [ \$i -lt 200 ] || { echo 'no handshake' >&2; exit 1; }; sleep 0.05; done
      pid=\$(pgrep -n -P \$PV_VTEST_PID) || { echo 'no client process' >&2; exit 1; }
      kill -SEGV \$pid
      wait \$h || { echo 'the held client was not dropped cleanly' >&2; exit 1; }
      $venus_ok; echo 'client process crashed; its client was dropped, the next one served'"
   ;;
shutdown)
   # Mesa's venus client spins forever once its server is gone: the
   # timeout reaps the clients this test leaves behind on purpose.
   for t in 0.3 0.7 1.2; do
      "$run" --icd "$icd" -- sh -c "
         for i in 1 2 3; do timeout -s KILL 10 vulkaninfo >/dev/null 2>&1 & done
         sleep $t" || exit 1
   done
   echo "stopped cleanly with clients mid-stream"
   ;;
wrong-socket)
   exec "$run" --icd "$icd" -- sh -c "
      rm -f /tmp/.virgl_test
      '$server' --socket /tmp/.pv-wire0 --socket-wire-format-1 /tmp/.virgl_test \
         >/tmp/second.log 2>&1 & p=\$!
      i=0; until [ -S /tmp/.virgl_test ] && [ -S /tmp/.pv-wire0 ]; do
         i=\$((i + 1)); [ \$i -lt 200 ] || { echo 'second server did not start' >&2; exit 1; }; sleep 0.05; done
      VTEST_SOCKET_NAME=/tmp/.pv-wire0 timeout 60 vulkaninfo --summary >/tmp/vi.out 2>&1; rc=\$?
      kill -TERM \$p; wait \$p
      cat /tmp/second.log
      if grep -q 'Virtio-GPU Venus' /tmp/vi.out; then echo 'served by the wrong wire format?' >&2; exit 1; fi
      grep -q 'disconnected right after receiving the venus capset with wire format' /tmp/second.log ||
         { cat /tmp/vi.out >&2; echo 'no log line about the wire format' >&2; exit 1; }
      echo \"vulkaninfo failed (rc \$rc) and the server named the wire format\""
   ;;
*)
   echo "e2e.sh: unknown test $test" >&2
   exit 2
   ;;
esac
