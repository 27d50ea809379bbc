#!/bin/sh
# Regenerates the Venus decoder into a temporary folder and compares it with
# the committed src/venus/generated/.
# usage: check_generated.sh PYTHON VK_XML SOURCE_ROOT
set -eu
python=$1
vk_xml=$2
root=$3
if ! "$python" -c 'import mako' 2>/dev/null; then
   echo "$python has no mako (python3-mako): configure with Debian's python3 first in PATH, as the Makefile does" >&2
   exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" "$root/tools/gen_venus.py" --xml "$vk_xml" --tools-dir "$root/tools" --out-dir "$tmp"
if ! diff -r -u "$tmp" "$root/src/venus/generated" >"$tmp.diff" 2>&1; then
   head -n 50 "$tmp.diff"
   rm -f "$tmp.diff"
   echo "src/venus/generated/ is out of date: rerun tools/gen_venus.py" >&2
   exit 1
fi
rm -f "$tmp.diff"
