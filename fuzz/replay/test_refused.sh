#!/bin/sh
# Inputs that once crashed lavapipe through PearVisor (fuzz/known-crashes/):
# each must now be refused by the firewall (a "firewall:" line, the context
# lost) and replay to the end without a crash.
#   test_refused.sh PV_FUZZ_REPLAY INPUT.pvcap...
set -u
replay=$1
shift
status=0
for input in "$@"; do
   out=$("$replay" --replay "$input" 2>&1)
   rc=$?
   name=$(basename "$input")
   if [ $rc -ne 0 ]; then
      echo "FAIL $name: replay exit $rc"
      echo "$out" | tail -n 20
      status=1
   elif ! echo "$out" | grep -q "firewall:"; then
      echo "FAIL $name: not refused by the firewall"
      echo "$out" | tail -n 20
      status=1
   else
      echo "ok $name: $(echo "$out" | grep -m1 -o 'firewall: .*')"
   fi
done
exit $status
