#!/usr/bin/env bash
# Renames the host-side Venus renderer's names from Mesa's `vn_` prefix to
# `pvk_` (PearVisor Vulkan), keeping `vn_` for the protocol layer (generated
# code, wire primitives, object table, arena, dispatch interface) and for
# Mesa's own names. The rule (docs/venus-renderer.md, "Names"):
#
#   protocol files  src/venus/generated/*, PROTOCOL_FILES below: never touched;
#                   every identifier they mention keeps `vn_`.
#   host files      every other src/venus/*.[ch]; those named vn_*.[ch] (and
#                   test_vn_renderer.c) are renamed with `git mv`.
#   host names      every vn_* / VN_* identifier of the host files that no
#                   protocol file mentions, minus KEEP (Mesa's names), plus
#                   the host files' stems: replaced as whole words
#                   (vn_x -> pvk_x, VN_X -> PVK_X) in every tracked text
#                   file outside the protocol files, except between the
#                   lines `<!-- rename-venus-host-prefix: keep -->` and
#                   `<!-- rename-venus-host-prefix: end -->`.
#
# Idempotent: a second run finds no host `vn_` name and changes nothing, so
# it can run again after other branches merged. Run from anywhere in the
# repository; it changes the work tree and the index, it does not commit.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

V=src/venus
PROTOCOL_FILES="$V/vn_cs.h $V/vn_object.h $V/vn_object.c $V/vn_arena.c $V/vn_dispatch.h
$V/vn_protocol_support.h $V/vn_pnext.c $V/vn_decode_string.c $V/vn_object_parent.c
$V/vn_dispatch_command.c
$V/test_decoder.c bench/micro/bench_venus_decode.c fuzz/fuzz_venus_decoder.c fuzz/venus_fuzz_smoke.c
tools/gen_venus.py tools/venus_gen/*.mako
tools/venus_protocol.txt tools/venus_protocol.xml tools/venus_manual.txt
tools/rename-venus-host-prefix.sh"
# Mesa's protocol and environment names used by host code.
KEEP='^(VN_STYPE_[A-Z0-9_]*|VN_DEBUG|VN_PERF|VN_DRAW_CMD_BATCH_LIMIT)$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{ git ls-files "$V/generated"; printf '%s\n' $PROTOCOL_FILES; } | sort -u >"$tmp/protocol"
git ls-files "$V/*.c" "$V/*.h" | grep -vxF -f "$tmp/protocol" >"$tmp/host" || true

ids() { xargs -r grep -ohE '\b(vn|VN)_[A-Za-z0-9_]*' | sort -u; }
ids <"$tmp/protocol" >"$tmp/protocol_ids"
{
   ids <"$tmp/host" | comm -23 - "$tmp/protocol_ids" | grep -vE "$KEEP" || true
   grep -E "^$V/vn_[a-z0-9_]*\.[ch]$" "$tmp/host" | sed -E 's|.*/||; s|\.[ch]$||' || true
} | sort -u >"$tmp/names"

# sed script: whole-word replacements, skipped inside keep blocks.
{
   echo '/<!-- rename-venus-host-prefix: keep -->/,/<!-- rename-venus-host-prefix: end -->/!{'
   sed -E 's/^vn_(.*)$/s\/\\bvn_\1\\b\/pvk_\1\/g/; s/^VN_(.*)$/s\/\\bVN_\1\\b\/PVK_\1\/g/' "$tmp/names"
   { grep -E '^vn_' "$tmp/names" || true; } | sed -E 's/^vn_(.*)$/\1/' | tr 'a-z' 'A-Z' |
      sed -E 's/^(.*)$/s\/\\bPV_VENUS_VN_\1_H\\b\/PV_VENUS_PVK_\1_H\/g/'
   echo 's/\btest_vn_renderer\b/test_pvk_renderer/g'
   echo '}'
} >"$tmp/rename.sed"

count=$(wc -l <"$tmp/names")
if [ "$count" -gt 0 ] || grep -qx "$V/test_vn_renderer.c" "$tmp/host"; then
   git ls-files | grep -vxF -f "$tmp/protocol" | while IFS= read -r f; do
      [ -f "$f" ] && grep -Iq . "$f" 2>/dev/null || continue
      if grep -qE '\b(vn|VN)_|PV_VENUS_VN_|test_vn_renderer' "$f"; then
         sed -i -f "$tmp/rename.sed" "$f"
      fi
   done
fi

# Files: vn_x.[ch] -> pvk_x.[ch] among the host files.
while IFS= read -r f; do
   base=${f##*/}
   case "$base" in
   vn_*) git mv "$f" "$V/pvk_${base#vn_}" ;;
   test_vn_renderer.c) git mv "$f" "$V/test_pvk_renderer.c" ;;
   esac
done <"$tmp/host"

echo "rename-venus-host-prefix: $count names"
