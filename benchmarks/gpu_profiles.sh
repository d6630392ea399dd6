#!/usr/bin/env bash
# GPU profiles of all six models, ready to ship: run on a machine with an NVIDIA GPU and a CUDA build of torch.
#
#   benchmarks/gpu_profiles.sh [OUT]        (default OUT: ./benchmarks/results/gpu_profiles)
#
# For each model: batch sizes 1 and 32, CUDA events around every layer and the whole model, 10 warm-up
# passes, torch.cuda.synchronize after each pass, 50 timed repeats (edge_envs/dnn/profiler.py). Writes
# OUT/fp32/<model>__gpu.json (the shipped format; copy them into edge_envs/dnn/profiles/ to ship them)
# and OUT/fp16/<model>__gpu.json (float16, a second set), then the sum-of-layers / whole-model ratio of
# each file (expected within 0.85-1.15 at batch 32) into OUT/ratios.txt. Needs `edge-envs` on PATH (the
# package installed: pip install -e .). Each precision is stopped after 4 minutes; the whole run is
# expected to take a minute or two on an H100 (an estimate: no GPU was available when it was written).
set -euo pipefail
OUT="${1:-benchmarks/results/gpu_profiles}"
PYTHON="${PYTHON:-python}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

"$PYTHON" - <<'PY'
import sys
import torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_profiles.sh: no CUDA device is visible to torch {torch.__version__} "
             "(a CPU-only build, no NVIDIA driver or no GPU); nothing measured")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}")
PY

mkdir -p "$OUT/fp32" "$OUT/fp16"
started=$SECONDS
for dtype in float32 float16; do
    folder="$OUT/fp${dtype#float}"
    timeout 240 edge-envs profile --model all --device cuda --dtype "$dtype" --batch-sizes 1,32 --repeats 50 \
        --warmup 10 --out "$folder" > "$folder/tables.txt"
    echo "$dtype: wrote $(ls "$folder"/*__gpu.json | wc -l) profiles to $folder ($((SECONDS - started)) s so far)"
done
for folder in "$OUT/fp32" "$OUT/fp16"; do
    echo "== $folder"
    "$PYTHON" -m benchmarks.profile_ratio --dir "$folder"
done | tee "$OUT/ratios.txt"
echo "done in $((SECONDS - started)) s"
