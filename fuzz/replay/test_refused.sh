#!/bin/sh
# Inputs that once crashed lavapipe through PearVisor (fuzz/known-crashes/):
# each must now be refused by the firewall (a "firewall:" line, or the
# decoder's enum value check: "invalid VkX value in ..."; the context lost)
# and replay to the end without a crash. Inputs after --survives are
# made harmless rather than refused (e.g. descriptor sets filled at
# allocation): they must replay to the end without a crash and with no
# "firewall:" line. Inputs after --abandons keep the GPU busy past the
# teardown deadline: refused, and their device abandoned (its memory stays
# allocated until the process exits, by design, so leaks are not checked).
#   test_refused.sh PV_FUZZ_REPLAY INPUT.pvcap... [--survives INPUT.pvcap...]
#                   [--abandons INPUT.pvcap...]
set -u
refusal='firewall: .*|invalid Vk[A-Za-z0-9]* value in .*'
replay=$1
shift
status=0
survives=0
abandons=0
for input in "$@"; do
   if [ "$input" = "--survives" ]; then
      survives=1
      continue
   fi
   if [ "$input" = "--abandons" ]; then
      survives=0
      abandons=1
      continue
   fi
   if [ $abandons -eq 1 ]; then
      out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
            "$replay" --replay "$input" 2>&1)
   else
      out=$("$replay" --replay "$input" 2>&1)
   fi
   rc=$?
   name=$(basename "$input")
   if [ $rc -ne 0 ]; then
      echo "FAIL $name: replay exit $rc"
      echo "$out" | tail -n 20
      status=1
   elif [ $survives -eq 1 ] && ! echo "$out" | grep -q "replayed to the end"; then
      echo "FAIL $name: did not replay to the end"
      echo "$out" | tail -n 20
      status=1
   elif [ $survives -eq 1 ]; then
      if echo "$out" | grep -Eq "$refusal"; then
         echo "FAIL $name: refused, expected to survive: $(echo "$out" | grep -m1 -Eo "$refusal")"
         status=1
      else
         echo "ok $name: replayed to the end, nothing refused"
      fi
   elif [ $abandons -eq 1 ] && ! echo "$out" | grep -q "teardown abandoned"; then
      echo "FAIL $name: its device was not abandoned at teardown"
      echo "$out" | tail -n 20
      status=1
   elif ! echo "$out" | grep -Eq "$refusal"; then
      echo "FAIL $name: not refused by the firewall"
      echo "$out" | tail -n 20
      status=1
   else
      echo "ok $name: $(echo "$out" | grep -m1 -Eo "$refusal")"
   fi
done
exit $status
