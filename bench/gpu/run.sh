#!/bin/bash
# On a GPU machine without Node or network, from the repository root: unpacks the Chromium that
# `npx tsx bench/gpu.ts prepare` packed (its parts in .cache/gpu/, or already staged in
# /tmp/stage by an earlier transfer), points Vulkan and EGL at the NVIDIA driver, and runs the
# benchmark page through bench/gpu/serve.py. Results go to $OUT (or ./gpu-out).
# RAVINE_GPU_PAGE=lab runs the built lab instead (.cache/gpu/lab, from lab.tar.xz: serve.py's
# lab mode), without the PyTorch peer.
set -u
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
parts=$(ls /tmp/stage/part-* .cache/gpu/part-* 2>/dev/null | awk -F/ '!seen[$NF]++' | sort -t- -k2)
echo "parts: $parts"
cat $parts | xz -d | tar -xi -C /tmp || { echo "unpacking Chromium failed"; exit 1; }
first() { for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done; }
icd=$(first /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json $(find / -name 'nvidia_icd*.json' -not -path '/proc/*' 2>/dev/null))
egl=$(first /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json $(find / -name '10_nvidia*.json' -not -path '/proc/*' 2>/dev/null))
echo "vulkan ICD: ${icd:-none}; EGL vendor: ${egl:-none}"
[ -n "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
[ -n "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
nvlib=$(dirname "$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')" 2>/dev/null)
export RAVINE_CHROME_LIBS="/tmp/chr/lib:${nvlib:-/usr/local/nvidia/lib64}:/usr/local/nvidia/lib64:/usr/local/nvidia/lib"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; echo "$(nproc) CPU cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/2^20}' /proc/meminfo), $(uname -sr)"; } > "$OUT/gpu-machine.txt" 2>&1
site=.cache/gpu/site
if [ "${RAVINE_GPU_PAGE:-}" = lab ]; then
  site=.cache/gpu/lab
  [ -f .cache/gpu/lab.tar.xz ] && tar -C .cache/gpu -xJf .cache/gpu/lab.tar.xz
  # The machine has no fonts of its own; without any, Chromium's renderer dies on the lab's text.
  export FONTCONFIG_FILE=$PWD/.cache/gpu/lab-fonts/fonts.conf
  echo "RAVINE_GPU_PAGE=lab bash bench/gpu/run.sh ($(date -u +%FT%TZ))" > "$OUT/gpu-command.txt"
else
  echo "bash bench/gpu/run.sh ($(date -u +%FT%TZ))" > "$OUT/gpu-command.txt"
fi
cat "$OUT/gpu-machine.txt"
PYTHONUNBUFFERED=1 python3 bench/gpu/serve.py "$site" public /tmp/chr/chromium-headless-shell "$OUT" "${RAVINE_GPU_TIMEOUT:-420}"
status=$?
cat "$OUT"/chrome-probes.log "$OUT"/chrome-bench.log > "$OUT/chrome.log" 2>/dev/null && rm -f "$OUT"/chrome-probes.log "$OUT"/chrome-bench.log
# The PyTorch peer on the same machine: its CPU (every core), then its GPU.
if [ "${RAVINE_GPU_PAGE:-}" != lab ] && [ -f .cache/gpu/peer/bench.json ]; then
  n=$(nproc)
  OMP_NUM_THREADS=$n PYTHONUNBUFFERED=1 python3 bench/peer.py .cache/gpu/peer 3 "$n" && cp .cache/gpu/peer/peer.json "$OUT/peer-cpu.json"
  RAVINE_PEER_DEVICE=cuda PYTHONUNBUFFERED=1 python3 bench/peer.py .cache/gpu/peer 3 "$n" && cp .cache/gpu/peer/peer.json "$OUT/peer-cuda.json"
fi
exit $status
