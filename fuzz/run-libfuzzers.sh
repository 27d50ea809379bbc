#!/bin/sh
# Runs each libFuzzer target briefly (make test, after `make build-fuzz`):
# a fixed seed and number of runs, new inputs written to a scratch folder
# under BUILD_DIR (never into the committed corpus). A crash fails the run
# and prints the end of the target's log.
#
# usage: fuzz/run-libfuzzers.sh BUILD_DIR NAME...
#   NAME: a libFuzzer executable's name, found anywhere under BUILD_DIR
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR NAME..." >&2; exit 2; }
build=$1
shift
export ASAN_OPTIONS=abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/sanitizers.supp

for name in "$@"; do
   exe=$(find "$build" -name "$name" -type f -perm -u+x | head -n 1)
   [ -n "$exe" ] || { echo "run-libfuzzers: no $name under $build" >&2; exit 1; }
   scratch=$build/libfuzzer-scratch/$name
   rm -rf "$scratch"
   mkdir -p "$scratch"
   case $name in
   # real sessions replayed on lavapipe: about a second each
   fuzz_replay) set -- -runs=60 -timeout=60 -detect_leaks=0 "$scratch" "$root/fuzz/corpus/sessions" ;;
   *) set -- -runs=20000 "$scratch" ;;
   esac
   log=$build/libfuzzer-$name.log
   start=$(date +%s)
   if ! "$exe" -seed=1 -artifact_prefix="$scratch/" "$@" >"$log" 2>&1; then
      tail -n 60 "$log" >&2
      echo "run-libfuzzers: $name FAILED (log: $log)" >&2
      exit 1
   fi
   echo "run-libfuzzers: $name: ok, $(grep -o 'Done [0-9]* runs' "$log" | tail -n 1), $(($(date +%s) - start)) s"
done
