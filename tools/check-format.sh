#!/bin/sh
# Checks that the hand-written C sources follow .clang-format (clang-format-14,
# Debian 12's: another version formats some constructs differently).
#
#   tools/check-format.sh [--fix] [FILE...]
#
# Without FILE: every tracked *.c and *.h except the generated decoder
# (src/venus/generated/) and QEMU's tree (vmm/). Prints the files that differ
# and how many lines a reformat changes, and exits 1 when any does; --fix
# rewrites them in place instead. Exits 77 (a skipped test) when
# clang-format-14 is not installed (scripts/install-deps.sh installs it).
#
# Until the tree is reformatted once, tools/format-pending.txt lists the files
# written before .clang-format: the check without FILE skips them (new files
# must follow the style), and `--fix` without FILE reformats everything and
# deletes the list.
set -eu

fix=0
if [ "${1:-}" = "--fix" ]; then
   fix=1
   shift
fi

cf=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null 2>&1; then
   echo "check-format: $cf not found (apt-get install clang-format-14)" >&2
   exit 77
fi

cd "$(dirname "$0")/.."
if [ $# -eq 0 ] && ! git rev-parse --git-dir >/dev/null 2>&1; then
   echo "check-format: not a git checkout: no list of tracked files to check" >&2
   exit 77
fi
pending=tools/format-pending.txt
if [ $# -eq 0 ]; then
   all=$(git ls-files '*.c' '*.h' | grep -v -e '^src/venus/generated/' -e '^vmm/')
   if [ "$fix" -eq 0 ] && [ -f "$pending" ]; then
      all=$(printf '%s\n' $all | grep -vxF -f "$pending" || true)
   elif [ "$fix" -eq 1 ] && [ -f "$pending" ]; then
      git rm -q --cached "$pending" 2>/dev/null || true
      rm -f "$pending"
   fi
   set -- $all
fi

bad=0
lines=0
for f in "$@"; do
   if [ "$fix" -eq 1 ]; then
      "$cf" -i --style=file "$f"
      continue
   fi
   # lines of the file a reformat would replace
   n=$("$cf" --style=file "$f" | diff -U0 "$f" - | grep -c '^-[^-]' || true)
   if [ "$n" -gt 0 ]; then
      echo "$f: $n lines differ from .clang-format"
      bad=$((bad + 1))
      lines=$((lines + n))
   fi
done

if [ "$bad" -gt 0 ]; then
   echo "check-format: $bad files, $lines lines to reformat; run tools/check-format.sh --fix" >&2
   exit 1
fi
exit 0
