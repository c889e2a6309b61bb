#!/usr/bin/env bash
# T2 on a GPU: AdamW and our optimizers (then, time allowing, the external implementations) with the
# learning rates tuned on CPU, 3 seeds, all three models. Writes benchmarks/results/optim_t2_gpu.{json,md,png}
# (with torch.cuda.get_device_name) and, when heavyball / pytorch-optimizer import, optim_compare_gpu.*.
# Runs from any directory; needs torch with CUDA. About 2-3 minutes on an H100/H200.
#
#   bash benchmarks/gpu_t2.sh            # PYTHON=/path/to/python to pick the interpreter
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ -x "$ROOT/.venv/bin/python" ] && [ -z "${PYTHON:-}" ]; then PY="$ROOT/.venv/bin/python"; fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
SRC=benchmarks/results                      # CPU results whose tuned lrs are reused
RES="${T2_RESULTS:-benchmarks/results}"     # where the GPU results go
DEV="${T2_DEVICE:-cuda}"                    # T2_DEVICE=cpu T2_EXTRA="--quick" only to try the script itself
read -r -a EXTRA <<< "${T2_EXTRA:-}"
mkdir -p "$RES"

DEV="$DEV" "$PY" - <<'EOF'
import os, sys, torch
if os.environ["DEV"].startswith("cuda") and not torch.cuda.is_available():
    sys.exit("gpu_t2.sh: torch.cuda.is_available() is False — run it on a GPU machine")
name = torch.cuda.get_device_name() if os.environ["DEV"].startswith("cuda") else "cpu"
print(f"torch {torch.__version__} on {name}", flush=True)
EOF

# Tuned learning rates from the CPU runs when present (one-point grid for every method); else tune here.
T2_LRS=()
[ -f "$SRC/optim_t2.json" ] && T2_LRS=(--lrs-from "$SRC/optim_t2.json")
CMP_LRS=()
[ -f "$SRC/optim_compare.json" ] && CMP_LRS=(--lrs-from "$SRC/optim_compare.json")

start=$(date +%s)
timeout 170 "$PY" benchmarks/optim_t2.py --device "$DEV" --no-profile --out "$RES/optim_t2_gpu.json" "${T2_LRS[@]}" "${EXTRA[@]}"
echo "T2 on GPU done in $(( $(date +%s) - start )) s"

if "$PY" -c "import heavyball" 2>/dev/null || "$PY" -c "import pytorch_optimizer" 2>/dev/null; then
  left=$(( 225 - ($(date +%s) - start) ))
  if [ "$left" -gt 30 ]; then
    # reuses the GPU T2 runs of AdamW and ours; externals that are not installed are skipped inside
    timeout "$left" "$PY" benchmarks/optim_compare.py --device "$DEV" --models gru,transformer \
      --out "$RES/optim_compare_gpu.json" --t2-json "$RES/optim_t2_gpu.json" "${CMP_LRS[@]}" "${EXTRA[@]}" \
      || echo "comparison stopped after ${left} s (time limit) — optim_t2_gpu.json is complete"
  else
    echo "skipping the comparison: ${left} s left"
  fi
else
  echo "heavyball and pytorch-optimizer are not installed: comparison skipped"
fi
echo "total $(( $(date +%s) - start )) s"
