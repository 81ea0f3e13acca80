#!/usr/bin/env bash
# Data-parallel step time against the number of GPUs (real devices), at a fixed global batch.
#
#   benchmarks/gpu_parallel.sh                     # results also go to benchmarks/results/parallel-gpu.json
#   JSON=out.json BATCH=16384 benchmarks/gpu_parallel.sh --rounds 5
#
# Runs `python -m benchmarks.parallel_scaling --platform gpu` over 1, 2, 4, ... GPUs (the
# powers of two up to the GPUs present, plus that count), one fresh process per count,
# with a larger batch and model than the CPU run. Unlike forced host devices on CPU,
# every GPU brings its own compute, so the table shows the speed-up of data parallelism
# and the cost of the gradient all-reduce over NVLink/PCIe. With one GPU there is only
# the 1-device row (mesh against no mesh). Needs a CUDA-enabled jaxlib
# (pip install -e '.[gpu]'). Extra arguments go to the benchmark.
#
# Without an NVIDIA GPU it runs the CPU fallback: 1 and 2 forced host devices at tiny
# sizes, which checks the same code paths in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
JSON=${JSON:-benchmarks/results/parallel-gpu.json}
BATCH=${BATCH:-8192}
WIDTH=${WIDTH:-2048}
mkdir -p "$(dirname "$JSON")"

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
if [ "${gpus:-0}" -lt 1 ]; then
  echo "gpu_parallel.sh: no NVIDIA GPU found (nvidia-smi); running the CPU fallback on 1 and 2 forced host devices"
  exec "$PYTHON" -m benchmarks.parallel_scaling --devices 1,2 --rounds 1 --steps 3 --batch 64 --width 32 --json "$JSON" "$@"
fi

counts=""
n=1
while [ "$n" -le "$gpus" ]; do counts="${counts:+$counts,}$n"; n=$((n * 2)); done
case ",$counts," in *",$gpus,"*) ;; *) counts="$counts,$gpus" ;; esac
a=$BATCH; b=$gpus; while [ "$b" -ne 0 ]; do t=$((a % b)); a=$b; b=$t; done
BATCH=$((BATCH / a * gpus))  # a multiple of every count (the batch is split evenly)
echo "gpu_parallel.sh: $gpus GPU(s); device counts $counts; global batch $BATCH, MLP width $WIDTH"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
backend=$("$PYTHON" -c "import jax; print(jax.default_backend())")
if [ "$backend" != "gpu" ]; then
  echo "gpu_parallel.sh: JAX's backend is '$backend', not 'gpu'; install a CUDA jaxlib (pip install -e '.[gpu]')" >&2
  exit 1
fi
exec "$PYTHON" -m benchmarks.parallel_scaling --platform gpu --devices "$counts" --batch "$BATCH" --width "$WIDTH" \
  --steps 50 --rounds 3 --json "$JSON" "$@"
