#!/usr/bin/env bash
# Builds Mesa's venus Vulkan ICD (the guest driver) from Debian's mesa source
# package into an ignored cache folder. Does nothing when the cache is built.
#
# usage: scripts/build-venus-icd.sh [CACHE_DIR]   (default: .cache/venus-icd)
# Prints the ICD json path on success.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$top/.cache/venus-icd}
prefix=$cache/install
icd=$prefix/share/vulkan/icd.d/virtio_icd.x86_64.json

if [ -f "$icd" ] && [ -f "$cache/src/.built" ]; then
    echo "$icd"
    exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A deb-src list in private apt dirs: the system's sources stay untouched.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$work/etc" "$work/lists/partial"
cat > "$work/etc/src.sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/etc"
          -o "Dir::State::Lists=$work/lists")
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only mesa >&2)

rm -rf "$cache/src"
mkdir -p "$cache/src"
tar xzf "$work"/mesa_*.orig.tar.gz -C "$cache/src" --strip-components=1

# Debian's python3 carries mako; a pyenv python3 earlier in PATH may not.
export PATH=/usr/bin:$PATH
cd "$cache/src"
meson setup build -Dvulkan-drivers=virtio-experimental \
    -Dgallium-drivers= -Dplatforms= -Dglx=disabled -Degl=disabled -Dgbm=disabled \
    -Dopengl=false -Dgles1=disabled -Dgles2=disabled -Dllvm=disabled \
    -Dshared-glapi=disabled -Dbuildtype=release -Dprefix="$prefix" >&2
ninja -C build install >&2
touch "$cache/src/.built"
echo "$icd"
