#!/usr/bin/env bash
# Fetches Mesa 25.0.7's venus Vulkan ICD (the guest driver of today's
# distributions) from bookworm-backports' mesa-vulkan-drivers into an
# ignored cache folder, and writes an ICD json for its libvulkan_virtio.so.
# Does nothing when the cache is there.
#
# usage: scripts/fetch-mesa25-icd.sh [CACHE_DIR]   (default: .cache/mesa25-icd)
# Prints the ICD json path on success.
#
# The package asks for libdrm2 >= 2.4.121 (for its other drivers);
# libvulkan_virtio.so resolves every symbol against bookworm's libdrm 2.4.114
# (checked below with ldd -r), so nothing else is fetched.
set -euo pipefail

version=25.0.7-2~bpo12+1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$top/.cache/mesa25-icd}
icd=$cache/virtio_icd.x86_64.json
lib=$cache/root/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so

if [ -f "$icd" ] && [ -f "$cache/.version" ] && [ "$(cat "$cache/.version")" = "$version" ]; then
    echo "$icd"
    exit 0
fi

work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# bookworm-backports in private apt dirs: the system's sources stay untouched.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$work/etc" "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
cat > "$work/etc/backports.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/etc"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
          -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work/dl" && apt-get "${apt_opts[@]}" -qq download "mesa-vulkan-drivers=$version" >&2)

rm -rf "$cache"
mkdir -p "$cache/root"
# absolute, with symlinks resolved: .cache may be a link shared by worktrees
cache=$(cd -P "$cache" && pwd)
lib=$cache/root/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
icd=$cache/virtio_icd.x86_64.json
dpkg-deb -x "$work"/dl/mesa-vulkan-drivers_*.deb "$cache/root"
# Only the venus driver is wanted; the others are 100+ MiB.
find "$cache/root/usr/lib" -name 'libvulkan_*.so' ! -name libvulkan_virtio.so -delete
rm -rf "$cache/root/usr/share/vulkan/icd.d" "$cache/root/usr/share/doc"

if ldd -r "$lib" 2>&1 | grep -E 'not found|undefined symbol' >&2; then
    echo "fetch-mesa25-icd: $lib does not load on this system" >&2
    exit 1
fi

cat > "$icd" <<JSON
{
    "ICD": {
        "api_version": "1.3.305",
        "library_path": "$lib"
    },
    "file_format_version": "1.0.0"
}
JSON
echo "$version" > "$cache/.version"
echo "$icd"
