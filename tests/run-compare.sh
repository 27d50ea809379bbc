#!/bin/sh
# Runs one Vulkan test program (tests/vk/) natively on lavapipe and through
# PearVisor, and compares the two output files bit for bit.
#
# usage: run-compare.sh [--native-only] [--no-validate] [--icd VENUS_JSON]
#                       [--pv-script PATH] [--build DIR] [--workdir DIR] PROGRAM...
#
#  --native-only  run only the native side (a smoke test of the program)
#  --no-validate  no validation layer on PearVisor's host side (for timing)
#  --icd          Mesa venus ICD json (default: .cache/venus-icd/...)
#  --pv-script    scripts/run-with-pv-vtest.sh (starts pv-vtest privately)
#  --build        build dir holding src/vtest/pv-vtest (default: the script's)
#  --workdir      where outputs go (default: a temporary directory)
#
# Several programs may be given (e.g. build/tests/vk/vkt-*; directories are
# skipped). Prints one line per program:
#   "<name>: native <s> s (program <s> s), pearvisor <s> s (program <s> s), ..."
# the first time of each side is the process wall time (for PearVisor it
# includes starting and stopping pv-vtest), "program" is what the program
# measured itself (instance creation to teardown). Exit status: 0 when both
# runs succeed and the outputs are identical.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# PV_NATIVE_ICD: the host driver for the native run (default lavapipe).
lvp_icd=${PV_NATIVE_ICD:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}
venus_icd=$root/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json
pv_script=$root/scripts/run-with-pv-vtest.sh
native_only=0
validate=--validate
workdir=
build=

while [ $# -gt 0 ]; do
   case $1 in
   --native-only) native_only=1 ;;
   --no-validate) validate= ;;
   --icd) venus_icd=$2; shift ;;
   --pv-script) pv_script=$2; shift ;;
   --workdir) workdir=$2; shift ;;
   --build) build=$2; shift ;;
   --) shift; break ;;
   -*) echo "run-compare.sh: unknown option $1" >&2; exit 2 ;;
   *) break ;;
   esac
   shift
done
if [ $# -lt 1 ]; then
   echo "usage: run-compare.sh [options] PROGRAM..." >&2
   exit 2
fi

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.3f", $2 - $1 }'; }
# the program's own wall time, from its "vkt: NAME: wall T s on DEVICE" line
program_s() { sed -n 's/^vkt: .*: wall \([0-9.]*\) s.*/\1/p' "$1" | tail -n 1; }

# Runs one program both ways; prints its result line; returns 0 on a match.
compare_one() {
   prog=$1
   name=$(basename "$prog")
   name=${name#vkt-}
   if [ -n "$workdir" ]; then
      mkdir -p "$workdir" || return 1
      out=$(mktemp -d "$workdir/compare-$name.XXXXXX") || return 1
   else
      out=$(mktemp -d "/tmp/compare-$name.XXXXXX") || return 1
   fi

   # native reference: lavapipe, no layers (its timing is the baseline)
   t0=$(now)
   VK_ICD_FILENAMES=$lvp_icd "$prog" "$out/native.out" 2>"$out/native.err"
   native_rc=$?
   native_s=$(elapsed "$t0" "$(now)")
   if [ $native_rc -ne 0 ]; then
      cat "$out/native.err" >&2
      echo "$name: FAIL: native run exited with $native_rc (outputs kept in $out)"
      return 1
   fi
   if [ $native_only -eq 1 ]; then
      cat "$out/native.err" >&2
      echo "$name: native $native_s s (program $(program_s "$out/native.err") s)"
      rm -rf "$out"
      return 0
   fi
   if [ ! -x "$pv_script" ]; then
      echo "$name: FAIL: $pv_script not found or not executable"
      rm -rf "$out"
      return 1
   fi

   # PearVisor: pv-vtest on lavapipe in a private /tmp, the program on venus.
   # The program sees that private /tmp, so it writes through an inherited fd.
   t0=$(now)
   "$pv_script" $validate --icd "$venus_icd" ${build:+"$build"} -- \
      "$prog" /proc/self/fd/3 2>"$out/pv.err" 3>"$out/pv.out"
   pv_rc=$?
   pv_s=$(elapsed "$t0" "$(now)")

   cat "$out/native.err" "$out/pv.err" >&2
   times="native $native_s s (program $(program_s "$out/native.err") s), pearvisor $pv_s s (program $(program_s "$out/pv.err") s)"
   if [ $pv_rc -ne 0 ]; then
      echo "$name: FAIL: PearVisor run exited with $pv_rc ($times; outputs kept in $out)"
      return 1
   fi
   if ! cmp "$out/native.out" "$out/pv.out"; then
      echo "$name: FAIL: outputs differ ($times; outputs kept in $out)"
      return 1
   fi
   echo "$name: $times, outputs identical ($(wc -c <"$out/native.out") bytes)"
   rm -rf "$out"
   return 0
}

status=0
for p in "$@"; do
   # skip directories, so that build/tests/vk/vkt-* (with meson's *.p) works
   [ -d "$p" ] && continue
   if [ ! -x "$p" ]; then
      echo "$p: FAIL: not an executable program"
      status=1
      continue
   fi
   compare_one "$p" || status=1
done
exit $status
