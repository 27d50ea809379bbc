#!/bin/sh
# Capture, then replay: runs a tests/vk program through pv-vtest with
# PV_CAPTURE_DIR (fuzz/capture-sessions.sh) with each guest driver, and
# checks that every capture replays to the end against the renderer.
#
# usage: test_capture.sh BUILD_DIR OUT_DIR PV_FUZZ_REPLAY
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 out=$2 replay=$3
rm -rf "$out"
# The server writes its captures from a private /tmp: a build tree under
# /tmp (a CI clone there) captures into /var/tmp instead.
case $out in
/tmp/*)
   out=$(mktemp -d /var/tmp/pv-capture-test.XXXXXX)
   trap 'rm -rf "$out"' EXIT
   rmdir "$out"
   ;;
esac
"$root/fuzz/capture-sessions.sh" "$build" "$out" clear
n=0
for f in "$out"/*.pvcap; do
   result=$("$replay" --replay "$f")
   echo "$result"
   case $result in
   *"replayed to the end"*) ;;
   *) echo "test_capture: $f did not replay to the end" >&2; exit 1 ;;
   esac
   n=$((n + 1))
done
[ "$n" -eq 2 ] || { echo "test_capture: $n captures, expected 2 (one per guest driver)" >&2; exit 1; }
