#!/usr/bin/env bash
# Builds QEMU 10.0 (qemu-system-x86_64 only) from Debian trixie's source
# package with Debian's patch series and PearVisor's patches (vmm/qemu/series)
# into an ignored cache folder, and prints the binary's path.
#
# usage: scripts/build-qemu.sh [--check] [CACHE_DIR]   (default: .cache/qemu)
#   --check: build nothing; print the path and exit 0 if the cached build
#            is current, exit 1 otherwise.
#
# Cache layout (CACHE_DIR):
#   dl/        the downloaded .dsc/.orig/.debian files and the meson .deb
#   meson/     bookworm-backports' meson 1.7.0, unpacked (QEMU 10 needs >= 1.5)
#   src/       the Debian-patched source as a git repository (commit "debian");
#              PearVisor's patches are applied on top as uncommitted changes
#   build/     the meson build folder; build/qemu-system-x86_64 is the result
#   applied    hash of series + patches applied to src/ now
#   stamp      hash of this script + series + patches of the last good build
#
# A rerun with the same stamp prints the path at once. When the patches or
# this script change, the source is reset to the "debian" commit, the series
# is applied again and ninja rebuilds only what changed. Run QEMU with
# `-L /usr/share/seabios -L /usr/share/qemu`: the source ships no firmware.
set -euo pipefail

check_only=
if [ "${1:-}" = --check ]; then
    check_only=1
    shift
fi
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$top/.cache/qemu}
patches=$top/vmm/qemu
qemu_major=10.0
jobs=${QEMU_BUILD_JOBS:-2}
bin=$cache/build/qemu-system-x86_64

export PATH=/usr/bin:$PATH

series_files() {
    [ -f "$patches/series" ] || return 0
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$patches/series"
}

patches_hash() {
    {
        [ -f "$patches/series" ] && sha256sum < "$patches/series"
        series_files | while read -r p; do sha256sum < "$patches/$p"; done
    } | sha256sum | cut -d' ' -f1
}

stamp_now() {
    { sha256sum < "$0"; patches_hash; } | sha256sum | cut -d' ' -f1
}

is_current() {
    [ -x "$bin" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$want" ]
}

want=$(stamp_now)
if [ -n "$check_only" ]; then
    is_current || exit 1
    echo "$bin"
    exit 0
fi

mkdir -p "$cache"
# Other helpers and CI may run this concurrently: one builder at a time.
exec 9>"$cache/lock"
flock 9
if is_current; then
    echo "$bin"
    exit 0
fi
rm -f "$cache/stamp"

# --- downloads, in private apt dirs: the system's sources stay untouched ---
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
apt_dir=$cache/apt
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/etc"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")

apt_update() {
    mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat > "$apt_dir/etc/pv.sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get "${apt_opts[@]}" -qq update >&2
}

dl=$cache/dl
if ! ls "$dl"/qemu_*.dsc >/dev/null 2>&1 || ! ls "$dl"/meson_*.deb >/dev/null 2>&1; then
    apt_update
    rm -rf "$dl.tmp"
    mkdir -p "$dl.tmp"
    (cd "$dl.tmp" && apt-get "${apt_opts[@]}" -qq source --download-only qemu >&2)
    (cd "$dl.tmp" && apt-get "${apt_opts[@]}" -qq download meson/bookworm-backports >&2)
    rm -rf "$dl"
    mv "$dl.tmp" "$dl"
fi
dsc=$(ls "$dl"/qemu_*.dsc | head -n1)
case $(basename "$dsc") in
    qemu_1:${qemu_major}.*|qemu_${qemu_major}.*) ;;
    *) echo "build-qemu: expected QEMU $qemu_major, got $(basename "$dsc")" >&2; exit 1 ;;
esac

if [ ! -f "$cache/meson/.unpacked" ]; then
    rm -rf "$cache/meson"
    dpkg-deb -x "$dl"/meson_*.deb "$cache/meson"
    touch "$cache/meson/.unpacked"
fi
export PYTHONPATH=$cache/meson/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}

# --- source: Debian's patches applied once, kept as a git commit ---
src=$cache/src
if ! git -C "$src" rev-parse -q --verify debian >/dev/null 2>&1; then
    rm -rf "$src" "$cache/build" "$dl/src.tmp"
    # dpkg-source -x applies debian/patches/series (quilt format 3.0).
    # Unpacked next to the .dsc so that it copies no tarball elsewhere.
    (cd "$dl" && dpkg-source --no-check -x "$(basename "$dsc")" src.tmp >&2)
    mv "$dl/src.tmp" "$src"
    git -C "$src" init -q
    git -C "$src" add -A -f
    git -C "$src" -c user.name=pv -c user.email=pv@localhost \
        commit -q --no-verify -m "Debian $(basename "$dsc" .dsc)"
    git -C "$src" tag debian
fi

# Back to the Debian source, then PearVisor's series. Files that end up
# as they were keep their mtime, so ninja recompiles only what a changed
# patch touches. Skipped when exactly this series is applied already.
applied=$(patches_hash)
if [ "$(cat "$cache/applied" 2>/dev/null)" != "$applied" ]; then
    rm -f "$cache/applied"
    prev=$cache/prev
    rm -rf "$prev"
    mkdir -p "$prev"
    git -C "$src" ls-files -m -o --exclude-standard -z |
        (cd "$src" && xargs -0 -r cp -p --parents -t "$prev")
    git -C "$src" checkout -q -f debian -- .
    git -C "$src" clean -q -f -d -x
    git -C "$src" reset -q
    while read -r p; do
        echo "build-qemu: applying $p" >&2
        git -C "$src" apply --whitespace=nowarn "$patches/$p"
    done < <(series_files)
    (cd "$prev" && find . -type f -print0) | while IFS= read -r -d '' f; do
        if cmp -s "$prev/$f" "$src/$f"; then touch -r "$prev/$f" "$src/$f"; fi
    done
    rm -rf "$prev"
    echo "$applied" > "$cache/applied"
fi

# --- configure once (again when the flags change), then build ---
# Devices: only those PearVisor's guests are given (vmm/qemu's 0008 patch
# lists them), which halves what is compiled.
conf=(--target-list=x86_64-softmmu --without-default-features
      --without-default-devices --with-devices-x86_64=pearvisor
      --enable-tcg --enable-kvm --enable-vhost-user --enable-vhost-kernel
      --enable-pixman --enable-fdt=system --enable-slirp --enable-png
      --disable-docs --disable-install-blobs --disable-werror
      --python=/usr/bin/python3)
build=$cache/build
if [ ! -f "$build/build.ninja" ] || [ "$(cat "$build/.pv-configure" 2>/dev/null)" != "${conf[*]}" ]; then
    rm -rf "$build"
    mkdir -p "$build"
    (cd "$build" && "$src/configure" "${conf[@]}" >&2)
    echo "${conf[*]}" > "$build/.pv-configure"
fi
ninja -C "$build" -j"$jobs" qemu-system-x86_64 >&2

echo "$want" > "$cache/stamp"
echo "$bin"
