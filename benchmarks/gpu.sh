#!/usr/bin/env bash
# The benchmark suite on a GPU: larger batch sizes, achieved FLOP/s against the GPU's peak.
#
#   benchmarks/gpu.sh                      # results also go to benchmarks/results-gpu.json (or $JSON)
#   JSON=out.json benchmarks/gpu.sh --only W2,W3
#
# Needs a CUDA-enabled jaxlib (pip install -e '.[gpu]'); PyTorch runs on CUDA when its
# build has CUDA and is skipped otherwise. Extra arguments go to `python -m benchmarks.run`.
# Without an NVIDIA GPU it runs the CPU fallback (`--gpu --smoke`), which checks the same
# code paths at tiny sizes.
#
# FLOP/s are model FLOPs (counted analytically per workload: 3x the forward matmul and
# convolution FLOPs) divided by the median time per step. Peaks are NVIDIA's dense
# (no 2:4 sparsity) datasheet numbers, in FLOP/s. JAX runs float32 matmuls on the GPU's
# TF32 tensor cores by default, so tf32 is the peak to compare with; PyTorch uses full
# fp32 for matmuls unless torch.backends.cuda.matmul.allow_tf32 is set.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}

name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
case "$name" in
  *H200*)              peaks="fp32=67e12,tf32=494.7e12,bf16=989.4e12" ;;  # H200 SXM / NVL
  *H100*PCIe*)         peaks="fp32=51.2e12,tf32=378e12,bf16=756.5e12" ;;
  *H100*NVL*)          peaks="fp32=60e12,tf32=417.5e12,bf16=835e12" ;;
  *H100*)              peaks="fp32=67e12,tf32=494.7e12,bf16=989.4e12" ;;  # H100 SXM
  *A100*)              peaks="fp32=19.5e12,tf32=156e12,bf16=312e12" ;;
  *L40S*)              peaks="fp32=91.6e12,tf32=183e12,bf16=362e12" ;;
  "")                  peaks="" ;;
  *)                   peaks=""; echo "gpu.sh: no peak table entry for '$name': FLOP/s are reported without fractions of peak" ;;
esac

if [ -z "$name" ]; then
  echo "gpu.sh: no NVIDIA GPU found (nvidia-smi); running the CPU fallback: python -m benchmarks.run --gpu --smoke"
  exec "$PYTHON" -m benchmarks.run --gpu --smoke --no-memory ${JSON:+--json "$JSON"} "$@"
fi

echo "gpu.sh: $name; peaks (dense): ${peaks:-unknown}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
backend=$("$PYTHON" -c "import jax; print(jax.default_backend())")
if [ "$backend" != "gpu" ]; then
  echo "gpu.sh: warning: JAX's backend is '$backend', not 'gpu'; install a CUDA jaxlib (pip install -e '.[gpu]')"
fi
args=(--gpu --json "${JSON:-benchmarks/results-gpu.json}")
if [ -n "$peaks" ]; then
  args+=(--peak-flops "$peaks")
fi
exec "$PYTHON" -m benchmarks.run "${args[@]}" "$@"
