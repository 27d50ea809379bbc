#!/bin/sh
# Runs a command through PearVisor: starts pv-vtest in a private mount
# namespace with its own tmpfs /tmp (Mesa 22.3's venus driver always uses
# /tmp/.virgl_test, so each run gets its own), waits for the socket, runs the
# command on Mesa venus (VK_ICD_FILENAMES=<venus icd> VN_DEBUG=vtest), then
# stops the server.
#
# The server serves both venus wire formats: /tmp/.virgl_test with format 0
# (Mesa 22.3, which always connects there) and /tmp/.pv-venus-wire1 with
# format 1 (Mesa 25, which connects to VTEST_SOCKET_NAME, set to it here).
# So --icd may name either driver.
#
# usage: run-with-pv-vtest.sh [--validate] [--verbose] [--icd JSON] [--log FILE]
#                             [BUILD_DIR] -- COMMAND [ARGS...]
#
#  --validate  run pv-vtest's host Vulkan under VK_LAYER_KHRONOS_validation;
#              any validation message in the server's output fails the run
#  --verbose   pv-vtest logs every command; its log is printed at the end
#  --icd       Mesa venus ICD json (default: env PV_VENUS_ICD, else
#              .cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json)
#  --log       keep the server's output in FILE
#  BUILD_DIR   where pv-vtest was built (default: env PV_VTEST names the
#              binary, else ./build); BUILD_DIR/src/vtest/pv-vtest is used
#  env PV_VTEST_ARGS: more pv-vtest options, e.g. --no-fork
#  env PV_VTEST_EXPECT_STATUS: pv-vtest's expected exit status (default 0;
#      3 when a client process is meant to crash)
#
# The command sees the real /tmp read-through, but its writes under /tmp stay
# private: give it paths outside /tmp for its outputs.
# Exit status: the command's, or 1 when pv-vtest failed to start, crashed, did not stop cleanly or (with --validate)
# reported a validation message.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
self="$root/scripts/$(basename "$0")"

# Gives this mount namespace its own /tmp: the real /tmp stays readable (the
# ICD, the build tree or the command may live there), but what is written,
# the server's socket included, goes to a private tmpfs layer. Falls back to
# an empty tmpfs where overlayfs is not available.
private_tmp() {
   layer=/run/pearvisor-private-tmp
   mkdir -p "$layer" && mount -t tmpfs -o mode=755 pv-vtest-layer "$layer" &&
      mkdir "$layer/upper" "$layer/work" && chmod 1777 "$layer/upper" &&
      mount -t overlay pv-vtest-tmp \
         -o "lowerdir=/tmp,upperdir=$layer/upper,workdir=$layer/work" /tmp && return 0
   mount -t tmpfs -o mode=1777 pv-vtest-tmp /tmp
}

# Inner half: runs inside `unshare -m`, output of the server on fd 9.
if [ "${1:-}" = "--inner" ]; then
   shift
   server=$1 icd=$2 validate=$3 verbose=$4
   shift 4
   # Keep the binary reachable even when it lives under the real /tmp.
   exec 8<"$server" || exit 1
   private_tmp || { echo "run-with-pv-vtest: cannot mount a private /tmp" >&2; exit 1; }
   # shellcheck disable=SC2086 # PV_VTEST_ARGS is a list of words
   /proc/self/fd/8 --socket-wire-format-1 /tmp/.pv-venus-wire1 $validate $verbose \
      ${PV_VTEST_ARGS:-} >&9 2>&9 &
   spid=$!
   i=0
   while [ ! -S /tmp/.virgl_test ] || [ ! -S /tmp/.pv-venus-wire1 ]; do
      if ! kill -0 "$spid" 2>/dev/null || [ $i -ge 200 ]; then
         wait "$spid"
         echo "pv-vtest-status: no-socket $?" >&9
         exit 1
      fi
      sleep 0.05
      i=$((i + 1))
   done
   # PV_VTEST_PID lets a test find this server's own client processes (other
   # servers may run on the same machine).
   PV_VTEST_PID=$spid VK_ICD_FILENAMES=$icd VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/.pv-venus-wire1 "$@"
   rc=$?
   kill -TERM "$spid" 2>/dev/null
   # Give it 20 s to stop (validation layers make teardown slow).
   i=0
   while kill -0 "$spid" 2>/dev/null && [ $i -lt 400 ]; do
      sleep 0.05
      i=$((i + 1))
   done
   if kill -0 "$spid" 2>/dev/null; then
      kill -KILL "$spid"
      wait "$spid"
      echo "pv-vtest-status: hung" >&9
      exit "$rc"
   fi
   wait "$spid"
   echo "pv-vtest-status: exit $?" >&9
   exit "$rc"
fi

validate= verbose= icd=${PV_VENUS_ICD:-} log= build=
while [ $# -gt 0 ]; do
   case $1 in
   --validate) validate=--validate ;;
   --verbose) verbose=--verbose ;;
   --icd) icd=$2; shift ;;
   --log) log=$2; shift ;;
   --) shift; break ;;
   -*) echo "run-with-pv-vtest: unknown option $1" >&2; exit 2 ;;
   *) build=$1 ;;
   esac
   shift
done
if [ $# -eq 0 ]; then
   echo "usage: run-with-pv-vtest.sh [--validate] [--verbose] [--icd JSON] [--log FILE] [BUILD_DIR] -- COMMAND..." >&2
   exit 2
fi

if [ -n "$build" ]; then
   server=$build/src/vtest/pv-vtest
elif [ -n "${PV_VTEST:-}" ]; then
   server=$PV_VTEST
else
   server=$root/build/src/vtest/pv-vtest
fi
[ -n "$icd" ] || icd=$root/.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json
server=$(realpath "$server" 2>/dev/null || echo "$server")
icd=$(realpath "$icd" 2>/dev/null || echo "$icd")
for f in "$server" "$icd"; do
   if [ ! -e "$f" ]; then
      echo "run-with-pv-vtest: $f not found" >&2
      exit 1
   fi
done

if [ -n "$log" ]; then
   : >"$log" || exit 1
   keep_log=1
else
   log=$(mktemp "${TMPDIR:-/tmp}/pv-vtest-log.XXXXXX") || exit 1
   keep_log=0
fi

unshare -m "$self" --inner "$server" "$icd" "$validate" "$verbose" "$@" 9>>"$log"
rc=$?

fail=
status=$(sed -n 's/^pv-vtest-status: //p' "$log" | tail -n 1)
case $status in
"exit ${PV_VTEST_EXPECT_STATUS:-0}") ;;
"") fail="pv-vtest never reported (did the namespace start?)" ;;
no-socket*) fail="pv-vtest did not start (status ${status#no-socket })" ;;
hung) fail="pv-vtest did not stop within 20 s of SIGTERM" ;;
*) fail="pv-vtest ended badly ($status)" ;;
esac
if [ -n "$validate" ] && grep -q -E 'Validation (Error|Warning)|VUID-' "$log"; then
   fail="${fail:+$fail; }validation messages in pv-vtest's output"
fi

if [ -n "$fail" ] || [ -n "$verbose" ]; then
   echo "---- pv-vtest output ----" >&2
   grep -v '^pv-vtest-status: ' "$log" | tail -n 200 >&2
   echo "---- end of pv-vtest output ----" >&2
fi
[ $keep_log -eq 1 ] || rm -f "$log"
if [ -n "$fail" ]; then
   echo "run-with-pv-vtest: FAIL: $fail (command exited with $rc)" >&2
   [ $rc -ne 0 ] || rc=1
fi
exit $rc
