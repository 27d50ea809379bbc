#!/bin/sh
# Installs this build into a temporary DESTDIR, checks what `meson install`
# put there (library with its SONAME, headers, pkg-config file, programs),
# then builds an example against the installed pkg-config file alone and
# runs it against the installed library.
#
#   check_installed.sh BUILD_DIR EXAMPLE.c "CC [ARGS]" SANITIZE
#
# SANITIZE is the build's b_sanitize. A sanitized libpearvisor.so needs the
# sanitizer runtimes loaded first, so the example is then compiled with the
# same -fsanitize flags (an embedder linking a sanitized build must too).
set -eu
build=$1 example=$2 cc=$3 sanitize=$4

dest=$(mktemp -d "${TMPDIR:-/tmp}/pv-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
fail() { echo "check_installed: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet

prefix=$(meson introspect --buildoptions "$build" |
         /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root="$dest$prefix"
for prog in pv-vtest pv-vhost-user-gpu pearvisor; do
   [ -x "$root/bin/$prog" ] || fail "bin/$prog not installed"
done
[ -f "$root/include/pearvisor/pearvisor.h" ] || fail "include/pearvisor/pearvisor.h not installed"
pc=$(find "$root" -name pearvisor.pc | head -n1)
[ -n "$pc" ] || fail "pearvisor.pc not installed"
lib=$(find "$root" -name libpearvisor.so.0 | head -n1)
[ -n "$lib" ] || fail "libpearvisor.so.0 not installed"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libpearvisor.so.0 ] || fail "SONAME is '$soname', not libpearvisor.so.0"
# The installed launcher points at the installed backend.
grep -q "\"$prefix/bin/pv-vhost-user-gpu\"" "$root/bin/pearvisor" ||
   fail "bin/pearvisor does not name $prefix/bin/pv-vhost-user-gpu"

# The sysroot makes pkg-config's -I/-L point into the DESTDIR.
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$dest" \
        pkg-config --cflags --libs pearvisor)
san=
[ "$sanitize" = none ] || san="-fsanitize=$sanitize"
echo "$cc -std=c11 -Wall -Wextra -Werror $san $example $flags"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror $san -o "$dest/example" "$example" $flags

# It must run against the installed library, not one from the build tree.
LD_LIBRARY_PATH=$(dirname "$lib") ldd "$dest/example" | grep -q "$dest" ||
   fail "the example does not load the installed libpearvisor"
# The host's Vulkan validation layer, when installed, checks that what the
# example has the host device do is valid Vulkan.
layers=
[ -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ] &&
   layers=VK_LAYER_KHRONOS_validation
LD_LIBRARY_PATH=$(dirname "$lib") VK_INSTANCE_LAYERS=$layers "$dest/example" >"$dest/out" 2>&1 ||
   { cat "$dest/out"; fail "the example failed"; }
cat "$dest/out"
grep -q '^host device: .' "$dest/out" || fail "the example printed no host device"
grep -q '^vkCmdFillBuffer: ' "$dest/out" || fail "the example's buffer was not filled"
if grep -q -E 'Validation (Error|Warning)|VUID-' "$dest/out"; then
   fail "the validation layer reported the example's Vulkan use"
fi
