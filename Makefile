# PearVisor top-level entry points. Each target does its own set-up on a
# fresh Debian 12 machine: packages (apt-get), the pinned Vulkan registry and
# the Mesa venus guest driver (both cached in .cache/), and the meson build.

BUILD ?= build
BUILD_ASAN ?= build-asan
# clang, ASan+UBSan, libFuzzer targets only (fuzz/README.md)
BUILD_FUZZ ?= build-fuzz
ICD := .cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json
# Mesa 25's venus driver (bookworm-backports' package): the e2e tests run
# with both guest drivers.
ICD25 := .cache/mesa25-icd/virtio_icd.x86_64.json
# Debian's python3 carries mako and matplotlib; a pyenv one earlier in PATH may not.
export PATH := /usr/bin:$(PATH)

.PHONY: all deps registry icd icd25 qemu build build-asan build-fuzz demo demo-vm test bench clean

all: build

deps:
	scripts/install-deps.sh

# Mesa 25.0.7's vk.xml and Vulkan headers (scripts/fetch-vulkan-registry.sh):
# the decoder is generated from them and the tree compiles against them.
# Instant once cached.
registry: | deps
	scripts/fetch-vulkan-registry.sh >/dev/null

$(ICD): | deps
	scripts/build-venus-icd.sh >/dev/null

icd: $(ICD)

$(ICD25): | deps
	scripts/fetch-mesa25-icd.sh >/dev/null

icd25: $(ICD25)

# QEMU 10.0 with PearVisor's patches (vmm/qemu/), cached in .cache/qemu/;
# scripts/build-qemu.sh prints the qemu-system-x86_64 path.
qemu: | deps
	scripts/build-qemu.sh

$(BUILD)/build.ninja: | deps registry
	meson setup $(BUILD)

build: registry $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_ASAN)/build.ninja: | deps registry
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false

build-asan: registry $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

$(BUILD_FUZZ)/build.ninja: | deps registry
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzzers=true -Dtests=false \
	   -Db_sanitize=address,undefined -Db_lundef=false

# by target name: fuzz/run-libfuzzers.sh finds them wherever they are built
LIBFUZZERS := fuzz_venus_decoder fuzz_vgpu_ctrl fuzz_replay
build-fuzz: registry $(BUILD_FUZZ)/build.ninja
	meson compile -C $(BUILD_FUZZ) $(LIBFUZZERS)

demo: build icd
	scripts/demo.sh $(BUILD) $(ICD)

# A Linux guest on PearVisor: vulkaninfo and a frame rendered in the guest
# on the host GPU (PNG), from inside the VM (docs/vulkan-in-vm.md).
demo-vm: build icd qemu
	scripts/demo-vm.py $(BUILD) $(ICD)

# The whole suite, built with ASan+UBSan. The guest drivers come first:
# meson defines the Mesa 22.3 coverage test only when its source is there.
# Then every libFuzzer target, built with clang, runs briefly.
test: icd icd25 qemu build-asan build-fuzz
	meson test -C $(BUILD_ASAN) --print-errorlogs --num-processes 2
	fuzz/run-libfuzzers.sh $(BUILD_FUZZ) $(LIBFUZZERS)

# pvbench: native vs PearVisor vs virglrenderer (bench/README.md). Later
# options win: make bench BENCH_ARGS="--quick --out bench/results/mine"
BENCH_ARGS ?=
bench: build icd
	$(BUILD)/bench/pvbench --icd $(ICD) --out bench/results/latest $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
