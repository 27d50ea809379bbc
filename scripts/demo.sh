#!/usr/bin/env bash
# The demo: an unmodified Mesa venus driver runs Vulkan through PearVisor
# (pv-vtest on the host's Vulkan driver, lavapipe here), side by side with
# the same work run natively.
#
# usage: scripts/demo.sh BUILD_DIR VENUS_ICD_JSON
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
icd=$2
shift 2
out=$build/demo-results

device_name() {
   grep -m1 'deviceName' | sed 's/.*= *//'
}

echo "== The host GPU, natively and as a guest sees it through PearVisor"
native=$(vulkaninfo --summary 2>/dev/null | device_name)
guest=$(PV_VENUS_ICD=$icd "$top/scripts/run-with-pv-vtest.sh" --icd "$icd" "$build" -- \
        vulkaninfo --summary 2>/dev/null | device_name)
printf '   native:          %s\n   through PearVisor: %s\n\n' "$native" "$guest"

echo "== Native vs PearVisor on the same workloads (pvbench)"
"$build/bench/pvbench" --icd "$icd" --paths native,pearvisor \
   --workloads clear,frames,submit,draws,compute,upload --out "$out" "$@"
