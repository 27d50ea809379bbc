#!/bin/sh
# End-to-end tests of pv-vtest with Mesa's venus driver, each through
# scripts/run-with-pv-vtest.sh (a private /tmp and server per test).
#
# usage: e2e.sh TEST PV_VTEST VENUS_ICD RAW_CLIENT [CREATE_DEVICE]
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
#   watchdog     every client process hangs after its client left (test
#                hook): each is killed after --teardown-timeout 2 s and its
#                slot (--max-clients 1) serves the next client; SIGTERM with
#                a client connected stops the server within the bound
#   watchdog-many  four clients leave at once (held connections, closed
#                together) and their processes all hang in their teardown
#                (test hook): the watchdog gives each the teardown timeout
#                (1 s) plus 250 ms per other teardown in progress (host
#                drivers destroy devices one at a time), then kills all
#                four; the next client is served
#   watchdog-start  three connections whose processes never finish
#                starting (test hook) stay open while a fourth client is
#                served, leaves and hangs in its teardown: it is killed after
#                the teardown timeout (1 s) plus 250 ms for each of the
#                three processes still starting (host drivers make devices
#                one at a time too). Then the three leave: their processes,
#                which read nothing of a guest, are stopped at once (not
#                failed clients); the next client is served
#   watchdog-cpu  the server, its client processes and a CPU hog share one
#                CPU (taskset); a client's process spins after its client
#                left (test hook): it waits for the CPU about half the time,
#                so the watchdog adds that wait to its 1 s allowance
#                (credit logged, at least 300 ms) and still kills it, within
#                four allowances; the next client is served
#   reconnect    one process connects 5 times in a row while each earlier
#                connection's process hangs in its teardown (test hook):
#                with --max-clients-per-pid 2 every connection is served
#                (per-peer limits count open connections, not teardowns)
#   idle         128 connections that send nothing (64 per socket, from one
#                process) while vulkaninfo runs: it is served; the server
#                refuses what passes --max-clients-per-pid at once and
#                closes the rest after --handshake-timeout 3 s
#   sandbox      every client process attempts execve after its client left
#                (test hook): the sandbox stops that process only, the
#                server logs the call and serves the next client
#   pool         pre-started client processes (--prestart 2 per socket): the
#                idle ones are sandboxed before any client exists; a client
#                is served by one started before it connected; every process
#                serves one client; the pool refills; a forbidden system call
#                (test hook, after its client left) stops that process only,
#                while another client stays served; the stop is bounded
#   pool-grow    three clients connect at once to a pool of one (--prestart 1):
#                the later ones take processes not ready yet, so the pool
#                grows, to --prestart-max 3 at most; after --prestart-idle 1
#                second without a client it is back to one; a guest is served
#   pool-retire  the pool grows to three, then shrinks back to one after
#                --prestart-idle 3 s; the two stopped processes hang instead
#                of exiting (test hook): a client that connects meanwhile is
#                served at once (the server does not wait for them), and
#                they are killed at their deadline (--teardown-timeout 3
#                plus 250 ms for the other one)
#   stuck-queue  a guest leaves its queue waiting on a timeline semaphore
#                value nothing will signal and exits (valid Vulkan): its
#                client process, whose teardown waits for a device that
#                never goes idle, is killed by the watchdog, and the next
#                client is served
#   premade      guests that create an instance and a device one after the
#                other (CREATE_DEVICE): from the second on, each adopts the
#                instance and device its pre-started process made ahead from
#                the guest before's create infos; one with another device
#                extension gets a device of its own, and works; so does the
#                next, and later ones adopt again
#   priority     --queue-priority high reaches every client's devices, those
#                made ahead by pre-started processes included (adopted): on
#                lavapipe, which has no global priority extension, each is
#                logged and made at the driver's default, and works; an
#                unknown class is refused at start
#   gpus         a host with two GPUs (lavapipe listed twice): the guest sees
#                both by default, only the second with --gpus 1 (devices
#                and device groups alike), and creates a device on it
#   limits       blobs over --memory-budget (RAM, shared by all client processes)
#                and over --max-context-memory are refused and logged
#   two-clients-threads, shutdown-threads, stuck-queue-threads
#                the same with every client on a thread of one server
#                process (pv-vtest --no-fork) instead of a process each
#                (stuck-queue: the client thread's teardown gives up on the
#                device after --teardown-timeout and abandons it; the server
#                serves the next client and stops cleanly)
# VENUS_ICD may be Mesa 22.3's or Mesa 25's driver (run-with-pv-vtest.sh
# serves both wire formats). Exit 77 (skipped) when vulkaninfo or the venus
# ICD is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
test=$1 server=$2 icd=$3 raw=$4 create_device=${5:-}
run="$root/scripts/run-with-pv-vtest.sh"

command -v vulkaninfo >/dev/null || { echo "vulkaninfo not installed: skipped"; exit 77; }
[ -e "$icd" ] || { echo "$icd missing: skipped"; exit 77; }
export PV_VTEST=$server

# True (and the log shown) when a server log has an error line or a
# sanitizer report.
errors_logged() {
   grep -qE ': error: |AddressSanitizer|runtime error' "$1" || return 1
   cat "$1"
   echo 'errors logged' >&2
}

# Inner commands run in the private namespace: files go to its private /tmp.
venus_ok='vulkaninfo --summary >/tmp/vi.out 2>/tmp/vi.err; rc=$?;
   if ! grep -q "Virtio-GPU Venus (llvmpipe" /tmp/vi.out; then
      cat /tmp/vi.out /tmp/vi.err >&2; echo "vulkaninfo (rc $rc) did not list the venus device" >&2; exit 1; fi'

# Three connections held at once (their pids in $pids), handshakes done.
hold_three="fail() { echo \"\$*\" >&2; exit 1; }
   pids=
   for i in 1 2 3; do '$raw' hold >/tmp/hold\$i.out & pids=\"\$pids \$!\"; done
   for i in 1 2 3; do
      n=0; until grep -q held /tmp/hold\$i.out; do
         n=\$((n + 1)); [ \$n -lt 200 ] || fail \"client \$i: no handshake\"; sleep 0.05; done
   done"

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
   # The child of our own server that names itself after a client is the
   # held client's process (the others wait for a client; other servers,
   # of other test runs on this machine, are not ours to kill).
   PV_VTEST_EXPECT_STATUS=3 exec "$run" --icd "$icd" -- sh -c "
      '$raw' hold >/tmp/hold.out & h=\$!
      i=0; until grep -q held /tmp/hold.out; do
         i=\$((i + 1)); [ \$i -lt 200 ] || { echo 'no handshake' >&2; exit 1; }; sleep 0.05; done
      pid=\$(pgrep -P \$PV_VTEST_PID '^pv-client') || { echo 'no client process' >&2; exit 1; }
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
watchdog)
   log=$(mktemp); start=$(date +%s)
   PV_VTEST_TEST_HOOK=hang-teardown PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--teardown-timeout 2 --max-clients 1" "$run" --log "$log" --icd "$icd" -- sh -c "
      '$raw' ping || { echo 'first client not served' >&2; exit 1; }
      sleep 3
      '$raw' ping || { echo 'the slot of the hung client was not freed' >&2; exit 1; }
      sleep 3
      '$raw' hold >/tmp/hold.out & h=\$!
      i=0; until grep -q held /tmp/hold.out; do
         i=\$((i + 1)); [ \$i -lt 200 ] || { echo 'no handshake' >&2; exit 1; }; sleep 0.05; done
      echo 'client held; stopping the server'"
   rc=$? end=$(date +%s)
   cat "$log"
   n=$(grep -c 'killed (teardown watchdog)' "$log")
   rm -f "$log"
   [ $rc -eq 0 ] || exit 1
   [ "$n" -ge 3 ] || { echo "expected 3 watchdog kills, saw $n" >&2; exit 1; }
   # 6 s of sleep, a 2 s teardown at the stop, start-up: well under the 20 s
   # that run-with-pv-vtest.sh gives a stopping server
   [ $((end - start)) -lt 18 ] || { echo "took $((end - start)) s" >&2; exit 1; }
   echo "hung client processes killed ($n), slot reused, stopped in $((end - start)) s in all"
   ;;
watchdog-many)
   log=$(mktemp)
   # four connections held, then closed at once: four teardowns together
   PV_VTEST_TEST_HOOK=hang-teardown PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--teardown-timeout 1" "$run" --log "$log" --icd "$icd" -- sh -c "
      pids=''
      for i in 1 2 3 4; do '$raw' hold >/tmp/hold\$i.out & pids=\"\$pids \$!\"; done
      i=0; until [ \"\$(cat /tmp/hold?.out | grep -c held)\" -ge 4 ]; do
         i=\$((i + 1)); [ \$i -lt 400 ] || { echo 'no handshakes' >&2; exit 1; }; sleep 0.05; done
      kill \$pids; wait
      i=0; until [ \"\$(grep -c 'killed (teardown watchdog)' '$log')\" -ge 4 ]; do
         i=\$((i + 1)); [ \$i -lt 200 ] || break; sleep 0.05; done
      '$raw' ping || { echo 'no client served after the kills' >&2; exit 1; }"
   rc=$?
   cat "$log"
   kills=$(grep 'killed (teardown watchdog)' "$log")
   rm -f "$log"
   [ $rc -eq 0 ] || exit 1
   n=$(printf '%s\n' "$kills" | grep -c 'teardown watchdog')
   [ "$n" -ge 4 ] || { echo "expected 4 watchdog kills, saw $n" >&2; exit 1; }
   # the first kill comes while all four still tear down: 1000 + 3 * 250 ms
   first=$(printf '%s\n' "$kills" | head -n 1 | sed -n 's/.*(allowed \([0-9]*\) ms, \([0-9]*\) teardowns.*/\1 \2/p')
   [ "$first" = "1750 4" ] || { echo "first kill: allowed/teardowns '$first', expected '1750 4'" >&2; exit 1; }
   echo "four hung client processes killed together after 1750 ms, the next client served"
   ;;
watchdog-cpu)
   log=$(mktemp)
   command -v taskset >/dev/null || { echo "skip: no taskset"; exit 77; }
   [ -r /proc/self/schedstat ] || { echo "skip: the kernel reports no run-queue waits"; exit 77; }
   PV_VTEST_TEST_HOOK=spin-teardown PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--teardown-timeout 1" taskset -c 0 "$run" --log "$log" --icd "$icd" -- sh -c "
      fail() { echo \"\$*\" >&2; exit 1; }
      (while :; do :; done) & hog=\$!
      '$raw' ping || fail 'client 1 not served'
      n=0; until grep -q 'killed (teardown watchdog)' '$log'; do
         n=\$((n + 1)); [ \$n -lt 200 ] || break; sleep 0.05; done
      kill \$hog
      '$raw' ping || fail 'no client served after the kill'"
   rc=$?
   cat "$log"
   kill=$(grep -m 1 'killed (teardown watchdog)' "$log")
   rm -f "$log"
   [ $rc -eq 0 ] || exit 1
   [ -n "$kill" ] || { echo "the spinning client process was not killed" >&2; exit 1; }
   took=$(printf '%s\n' "$kill" | sed -n 's/.*within \([0-9]*\) ms of the end.*/\1/p')
   credit=$(printf '%s\n' "$kill" | sed -n 's/.*and \([0-9]*\) ms more as it waited for a CPU.*/\1/p')
   [ "${credit:-0}" -ge 300 ] || { echo "credit for waiting for a CPU: '$credit' ms, expected >= 300" >&2; exit 1; }
   [ "${took:-99999}" -le 4200 ] || { echo "killed after $took ms, beyond four allowances" >&2; exit 1; }
   echo "spinning client process killed after $took ms, $credit ms of it credited for waiting for a CPU"
   ;;
watchdog-start)
   log=$(mktemp)
   PV_LOG=info PV_VTEST_TEST_HOOK=hang-start:3,hang-teardown PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--teardown-timeout 1" "$run" --log "$log" --icd "$icd" -- sh -c "
      fail() { echo \"\$*\" >&2; exit 1; }
      kills() {
         n=0; until [ \"\$(grep -c 'killed (teardown watchdog)' '$log')\" -ge \$1 ]; do
            n=\$((n + 1)); [ \$n -lt 200 ] || fail \"fewer than \$1 watchdog kills\"; sleep 0.05; done
      }
      '$raw' idle 3 >/tmp/idle3.out 2>&1 & a=\$!
      n=0; until grep -q 'connections open' /tmp/idle3.out; do
         n=\$((n + 1)); [ \$n -lt 200 ] || fail 'no connections'; sleep 0.05; done
      '$raw' ping || fail 'client 4 not served'
      kills 1
      kill \$a; wait
      n=0; until [ \"\$(grep -c 'served it: stopped' '$log')\" -ge 3 ]; do
         n=\$((n + 1)); [ \$n -lt 200 ] || fail 'the starting processes were not stopped'; sleep 0.05; done
      '$raw' ping || fail 'no client served after them'
      kills 2"
   rc=$?
   grep 'killed (teardown watchdog)\|served it: stopped' "$log"
   first=$(grep 'killed (teardown watchdog)' "$log" | head -n 1 |
      sed -n 's/.*(allowed \([0-9]*\) ms, \([0-9]*\) teardowns and \([0-9]*\) process starts.*/\1 \2 \3/p')
   [ "$first" = "1750 1 3" ] ||
      { cat "$log"; echo "first kill: allowed/teardowns/starts '$first', expected '1750 1 3'" >&2; rc=1; }
   n=$(grep -c 'killed (teardown watchdog)' "$log")
   [ "$n" -eq 2 ] || { cat "$log"; echo "$n watchdog kills, expected 2 (clients 4 and 5)" >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
reconnect)
   log=$(mktemp)
   PV_VTEST_TEST_HOOK=hang-teardown PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--teardown-timeout 2 --max-clients-per-pid 2" "$run" --log "$log" --icd "$icd" -- sh -c "
      '$raw' again 5 || { echo 'a connection of the same process was refused' >&2; exit 1; }
      echo 'five connections one after another, served while the earlier ones tore down'"
   rc=$?
   grep -q 'refused' "$log" && { cat "$log"; echo 'a connection was refused' >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
idle)
   log=$(mktemp)
   PV_VTEST_ARGS="--handshake-timeout 3" "$run" --log "$log" --icd "$icd" -- sh -c "
      '$raw' idle 64 >/tmp/idle0.out 2>&1 & a=\$!
      '$raw' --socket /tmp/.pv-venus-wire1 idle 64 >/tmp/idle1.out 2>&1 & b=\$!
      i=0; until grep -q 'connections open' /tmp/idle0.out && grep -q 'connections open' /tmp/idle1.out; do
         i=\$((i + 1)); [ \$i -lt 400 ] || { cat /tmp/idle*.out >&2; echo 'idle clients did not connect' >&2; exit 1; }; sleep 0.05; done
      $venus_ok
      wait \$a || { cat /tmp/idle0.out >&2; exit 1; }
      wait \$b || { cat /tmp/idle1.out >&2; exit 1; }
      cat /tmp/idle0.out /tmp/idle1.out
      echo 'served while 128 idle connections were open'"
   rc=$?
   grep -E 'refused|handshake timeout' "$log" | sort | uniq -c | sort -rn | head -n 6
   grep -q 'max-clients-per-pid' "$log" && grep -q 'handshake timeout' "$log" ||
      { cat "$log"; echo 'refusals or timeouts not logged' >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
premade)
   # A process receives the recipe once the guest before has its device,
   # then makes its own (slowly under ASan): the pauses give it the time.
   log=$(mktemp)
   PV_LOG=info PV_VTEST_ARGS="--prestart 2" "$run" --log "$log" --icd "$icd" -- sh -c "
      fail() { echo \"\$*\" >&2; exit 1; }
      for i in 1 2 3; do '$create_device' || fail \"guest \$i failed\"; sleep 2; done
      '$create_device' --ext VK_KHR_maintenance1 || fail 'the guest with another extension failed'
      sleep 2
      for i in 5 6 7; do '$create_device' || fail \"guest \$i failed\"; sleep 2; done
      echo 'seven guests created their devices'"
   rc=$?
   grep -E 'made ahead|pre-made|recipe' "$log" | sed 's/^.*\] //; s/[0-9][0-9]*/N/g' | sort | uniq -c
   took=$(grep -c 'vkCreateDevice: took the device made ahead' "$log")
   other=$(grep -c 'the guest asked for another one' "$log")
   # guests 2, 3 and 7 at least (4 and 5 each follow another recipe; 6 may)
   [ "$took" -ge 3 ] || { cat "$log"; echo "expected >= 3 adopted devices, saw $took" >&2; rc=1; }
   [ "$other" -ge 1 ] || { cat "$log"; echo 'no pre-made device was refused' >&2; rc=1; }
   # each guest's vkDestroyDevice and vkDestroyInstance: left to its teardown
   deferred=$(grep -c 'destroyed by the guest: host destroy deferred' "$log")
   [ "$deferred" -ge 14 ] || { cat "$log"; echo "expected >= 14 deferred destroys, saw $deferred" >&2; rc=1; }
   errors_logged "$log" && rc=1
   rm -f "$log"
   [ $rc -eq 0 ] && echo "devices adopted: $took; refused (another create info): $other; deferred destroys: $deferred"
   exit $rc
   ;;
priority)
   "$server" --queue-priority urgent --socket none --socket-wire-format-1 /nonexistent/s \
      >/dev/null 2>&1
   [ $? -eq 2 ] || { echo 'an unknown --queue-priority class was not refused' >&2; exit 1; }
   log=$(mktemp)
   PV_LOG=info PV_VTEST_ARGS="--prestart 1 --queue-priority high" "$run" --log "$log" \
      --icd "$icd" -- sh -c "
      fail() { echo \"\$*\" >&2; exit 1; }
      for i in 1 2 3; do '$create_device' || fail \"guest \$i failed\"; sleep 2; done
      echo 'three guests created their devices'"
   rc=$?
   took=$(grep -c 'vkCreateDevice: took the device made ahead' "$log")
   # pre-made and guest devices alike: one line per device made
   made=$(grep -c 'queue priority 512: the host device has no global priority extension' "$log")
   [ "$took" -ge 1 ] || { cat "$log"; echo 'no device made ahead was adopted' >&2; rc=1; }
   [ "$made" -ge 3 ] || { cat "$log"; echo "expected >= 3 devices logged at priority 512, saw $made" >&2; rc=1; }
   errors_logged "$log" && rc=1
   rm -f "$log"
   [ $rc -eq 0 ] && echo "devices adopted: $took; devices made at the driver's default (no extension): $made"
   exit $rc
   ;;
gpus)
   lvp=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
   [ -r "$lvp" ] || { echo "$lvp missing: skipped"; exit 77; }
   # a second ICD file for the same driver: two host GPUs; outside /tmp
   # (the server's is private) and readable by the sandboxed clients
   dir=$(mktemp -d /var/tmp/pv-gpus.XXXXXX) && chmod 755 "$dir" && cp "$lvp" "$dir/second.json" &&
      chmod 644 "$dir/second.json" || exit 1
   rc=0
   for want in all:2:2 1:1:1 0,1:2:2; do
      gpus=${want%%:*} rest=${want#*:}
      args=; [ "$gpus" = all ] || args="--gpus $gpus"
      out=$(VK_ICD_FILENAMES="$lvp:$dir/second.json" PV_VTEST_ARGS="$args" "$run" --icd "$icd" -- sh -c "
         vulkaninfo 2>/dev/null >/tmp/vi.out
         echo devices \$(vulkaninfo --summary 2>/dev/null | grep -c 'Virtio-GPU Venus (llvmpipe')
         echo groups \$(grep -c '^Group [0-9]*:' /tmp/vi.out)
         '$create_device' && echo device-created")
      devices=$(echo "$out" | sed -n 's/^devices //p') groups=$(echo "$out" | sed -n 's/^groups //p')
      echo "--gpus $gpus: $devices devices, $groups device groups$(echo "$out" | grep -q device-created && echo ', a device created')"
      [ "$devices" = "${rest%%:*}" ] && [ "$groups" = "${rest#*:}" ] && echo "$out" | grep -q device-created ||
         { echo "$out"; echo "--gpus $gpus: want ${rest%%:*} devices and ${rest#*:} groups" >&2; rc=1; }
   done
   rm -rf "$dir"
   exit $rc
   ;;
sandbox)
   log=$(mktemp)
   PV_VTEST_TEST_HOOK=execve PV_VTEST_EXPECT_STATUS=3 "$run" --log "$log" --icd "$icd" -- sh -c "
      '$raw' ping || exit 1
      $venus_ok; echo 'served after a client process made a forbidden system call'"
   rc=$?
   grep -E 'forbidden system call|stopped by its sandbox|sandbox' "$log" | head -n 6
   grep -q 'forbidden system call 59 (execve)' "$log" && grep -q 'stopped by its sandbox' "$log" ||
      { cat "$log"; echo 'the sandbox did not stop the execve' >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
pool)
   log=$(mktemp); start=$(date +%s)
   PV_LOG=info PV_VTEST_TEST_HOOK=execve PV_VTEST_EXPECT_STATUS=3 \
   PV_VTEST_ARGS="--prestart 2 --teardown-timeout 2" "$run" --log "$log" --icd "$icd" -- sh -c "
      fail() { echo \"\$*\" >&2; exit 1; }
      idle() { pgrep -P \$PV_VTEST_PID -x pv-vtest | sort; }
      wait_idle() {
         i=0; until [ \$(idle | grep -c .) -ge 4 ]; do
            i=\$((i + 1)); [ \$i -lt 200 ] || fail 'the pool did not fill (4 processes)'; sleep 0.05; done; }
      wait_idle
      before=\$(idle)
      # each enters its sandbox right after it starts (slowly under ASan)
      for p in \$before; do
         i=0; until grep -q '^Seccomp:[[:space:]]*2' /proc/\$p/status; do
            i=\$((i + 1)); [ \$i -lt 200 ] || fail \"idle process \$p has no seccomp filter\"; sleep 0.05; done
      done
      '$raw' hold >/tmp/hold.out & h=\$!
      i=0; until grep -q held /tmp/hold.out; do
         i=\$((i + 1)); [ \$i -lt 200 ] || fail 'no handshake'; sleep 0.05; done
      served=\$(pgrep -P \$PV_VTEST_PID '^pv-client') || fail 'no process serves the held client'
      echo \"\$before\" | grep -qx \"\$served\" || fail \"client served by \$served, not by a pre-started one (\$before)\"
      wait_idle
      idle | grep -qx \"\$served\" && fail 'the serving process is still in the pool'
      echo \"held client served by pre-started process \$served; pool refilled: \$(idle | tr '\\n' ' ')\"
      '$raw' ping || fail 'second client not served'
      sleep 0.5
      kill -0 \$served 2>/dev/null || fail 'the held client lost its process'
      kill -0 \$h 2>/dev/null || fail 'the held client was dropped'
      $venus_ok
      echo 'second client served by another process, whose forbidden call stopped it alone; stopping with a held client'"
   rc=$? end=$(date +%s)
   grep -E 'served by|pre-started|forbidden system call|stopped by its sandbox' "$log" | head -n 12
   ids=$(grep -c 'served by pre-started process' "$log")
   pids=$(sed -n 's/.*served by pre-started process \([0-9]*\).*/\1/p' "$log" | sort -u | grep -c .)
   [ "$ids" -ge 2 ] && [ "$ids" -eq "$pids" ] ||
      { cat "$log"; echo "pre-started processes served $ids clients with $pids distinct processes" >&2; rc=1; }
   grep -q 'stopped by its sandbox' "$log" || { cat "$log"; echo 'the sandbox did not stop the execve' >&2; rc=1; }
   rm -f "$log"
   # start-up, a 2 s teardown at the stop: well under run-with-pv-vtest.sh's 20 s
   [ $((end - start)) -lt 15 ] || { echo "took $((end - start)) s" >&2; rc=1; }
   exit $rc
   ;;
pool-grow)
   log=$(mktemp)
   PV_LOG=info PV_VTEST_ARGS="--prestart 1 --prestart-max 3 --prestart-idle 1" \
   "$run" --log "$log" --icd "$icd" -- sh -c "
      $hold_three
      kill \$pids; sleep 2.5
      $venus_ok; echo 'three clients at once, then a guest'"
   rc=$?
   grep -E 'pool of|not ready yet' "$log" | sed 's/^.*\] //'
   grep -q 'not ready yet' "$log" || { cat "$log"; echo 'no client took a process not ready yet' >&2; rc=1; }
   grep -q 'get ready: pool of 2' "$log" || { cat "$log"; echo 'the pool did not grow' >&2; rc=1; }
   grep -q 'pool of 4' "$log" && { cat "$log"; echo 'the pool grew past --prestart-max' >&2; rc=1; }
   grep -q 'pool of 1 again' "$log" || { cat "$log"; echo 'the pool did not shrink' >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
pool-retire)
   log=$(mktemp)
   PV_LOG=info PV_VTEST_TEST_HOOK=hang-retired \
   PV_VTEST_ARGS="--prestart 1 --prestart-max 3 --prestart-idle 3 --teardown-timeout 3" \
   "$run" --log "$log" --icd "$icd" -- sh -c "
      $hold_three
      kill \$pids
      n=0; until grep -q 'pool of 1 again' '$log'; do
         n=\$((n + 1)); [ \$n -lt 200 ] || fail 'the pool did not shrink'; sleep 0.05; done
      '$raw' ping || fail 'no client served while the stopped processes hang'
      n=0; until [ \"\$(grep -c 'did not exit within\|still getting ready: stopped' '$log')\" -ge 2 ]; do
         n=\$((n + 1)); [ \$n -lt 200 ] || fail 'the stopped processes were not killed'; sleep 0.05; done
      $venus_ok; echo 'a client served while two stopped pre-started processes hung'"
   rc=$?
   grep -E 'pool of|did not exit|getting ready|served by' "$log" | sed 's/^.*\] //'
   # served: the three held clients and the ping, all before the first kill
   before=$(sed '/did not exit within/q' "$log" | grep -c 'served by')
   [ "$before" -ge 4 ] || { cat "$log"; echo "$before clients served before the first kill, expected 4" >&2; rc=1; }
   grep -q 'did not exit within 3[0-9][0-9][0-9] ms of its stop: killed' "$log" ||
      { cat "$log"; echo 'no stopped process killed at its deadline' >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
stuck-queue)
   # client threads (--no-fork) cannot be killed: the renderer's teardown
   # gives up on the device after the timeout and abandons it
   status=3 expect='killed (teardown watchdog)'
   case ${PV_VTEST_ARGS:-} in
   *--no-fork*) status=0 expect='abandoned 1 device' ;;
   esac
   log=$(mktemp)
   PV_VTEST_EXPECT_STATUS=$status PV_VTEST_ARGS="${PV_VTEST_ARGS:-} --teardown-timeout 2" \
   "$run" --log "$log" --icd "$icd" -- sh -c "
      timeout 60 '$(dirname "$raw")/stuck_queue' || { echo 'stuck_queue failed' >&2; exit 1; }
      sleep 3
      $venus_ok; echo 'served after a client whose queue never drains'"
   rc=$?
   grep -E 'watchdog|failed|did not finish|still running|abandoned|deadline' "$log"
   grep -q "$expect" "$log" || { cat "$log"; echo "no '$expect' in the log" >&2; rc=1; }
   rm -f "$log"
   exit $rc
   ;;
limits)
   log=$(mktemp)
   PV_VTEST_ARGS="--memory-budget 1M" "$run" --log "$log" --icd "$icd" -- "$raw" budget 786432 524288 &&
   PV_VTEST_ARGS="--max-context-memory 1M" "$run" --log "$log.2" --icd "$icd" -- sh -c "
      if '$raw' budget 2097152 4096; then echo 'a 2 MiB blob passed a 1 MiB cap' >&2; exit 1; fi
      echo 'a blob over the per-context cap: dropped'"
   rc=$?
   cat "$log.2" >>"$log"
   grep -E 'refused' "$log" | head -n 6
   grep -q 'RAM budget of all clients 1048576' "$log" && grep -q 'per-context memory cap 1048576' "$log" ||
      { cat "$log"; echo 'refusals not logged with their cap' >&2; rc=1; }
   rm -f "$log" "$log.2"
   exit $rc
   ;;
wrong-socket)
   exec "$run" --icd "$icd" -- sh -c "
      rm -f /tmp/.virgl_test
      # the host's environment, not the guest's (whose VK_ICD_FILENAMES
      # names the venus driver: as the host driver it would be loaded by
      # the pre-started client processes, and its socket() refused)
      env -u VK_ICD_FILENAMES -u VN_DEBUG -u VTEST_SOCKET_NAME \
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
