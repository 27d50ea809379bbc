#!/usr/bin/env bash
# Fetches the pinned Vulkan registry the venus decoder is generated from:
# Mesa 25.0.7's own vk.xml and Vulkan headers (the ones its venus protocol
# was generated against) and its venus-protocol driver headers (for
# tools/venus_mesa_coverage.py), out of Debian's mesa source package,
# into an ignored cache folder. Does nothing when the cache is complete.
#
# usage: scripts/fetch-vulkan-registry.sh [CACHE_DIR]  (default: .cache/vulkan-registry)
# Prints the cache folder on success. Layout:
#   CACHE_DIR/registry/vk.xml
#   CACHE_DIR/include/vulkan/*.h, CACHE_DIR/include/vk_video/*.h
#   CACHE_DIR/venus-protocol/*.h
set -euo pipefail

# The pin: upstream tarball of Debian's mesa 25.0.7 (trixie: 25.0.7-2,
# 25.0.7-2+deb13u1, ... share it). A different file is refused.
mesa_version=25.0.7
orig=mesa_${mesa_version}.orig.tar.xz
orig_sha256=592272df3cf01e85e7db300c449df5061092574d099da275d19e97ef0510f8a6
# snapshot.debian.org serves the same file by its SHA-1 once trixie moves on.
orig_sha1=7f98eca4670fe20cebb327a0d78f01d76332f861

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$top/.cache/vulkan-registry}
stamp=$cache/.complete-$orig_sha256

if [ -f "$stamp" ]; then
    echo "$cache"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A deb-src list in private apt dirs: the system's sources stay untouched.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$work/etc" "$work/lists/partial" "$work/dl"
cat > "$work/etc/src.sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/etc"
          -o "Dir::State::Lists=$work/lists")

fetched=
if apt-get "${apt_opts[@]}" -qq update >&2 &&
   apt-cache "${apt_opts[@]}" showsrc mesa | grep " $orig\$" >/dev/null; then
    (cd "$work/dl" && apt-get "${apt_opts[@]}" -qq source --download-only mesa >&2) && fetched=1
fi
if [ -z "$fetched" ]; then
    echo "trixie's mesa is no longer $mesa_version: fetching $orig from snapshot.debian.org" >&2
    curl -fsSL -o "$work/dl/$orig" "https://snapshot.debian.org/file/$orig_sha1"
fi

echo "$orig_sha256  $work/dl/$orig" | sha256sum -c --quiet - >&2 || {
    echo "$orig: sha256 mismatch, refusing it" >&2
    exit 1
}

# Just the registry, the headers and the venus protocol: a few MiB of 47.
rm -rf "$cache"
mkdir -p "$cache/src"
tar xJf "$work/dl/$orig" -C "$cache/src" --strip-components=1 \
    "mesa-$mesa_version/src/vulkan/registry/vk.xml" \
    "mesa-$mesa_version/include/vulkan" \
    "mesa-$mesa_version/include/vk_video" \
    "mesa-$mesa_version/src/virtio/venus-protocol"
mkdir -p "$cache/registry" "$cache/include"
mv "$cache/src/src/vulkan/registry/vk.xml" "$cache/registry/vk.xml"
mv "$cache/src/include/vulkan" "$cache/src/include/vk_video" "$cache/include/"
mv "$cache/src/src/virtio/venus-protocol" "$cache/venus-protocol"
rm -rf "$cache/src"
touch "$stamp"
echo "$cache"
