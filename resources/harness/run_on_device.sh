#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with the bundle carried as .bundle:
#   bash .bundle/harness/run_on_device.sh
# Environment: OUT (results folder; the device tool sets it), HARNESS_BUDGET_S (whole script,
# default 540 s, so a 600 s call ends cleanly), HARNESS_STEPS (steps per job, default 12),
# HARNESS_ONLY (comma-separated job ids). A second call on the still-warm machine reuses the
# checkpoint and skips the jobs the first call measured (/tmp/harness/all-results.jsonl).
# Writes to $OUT: env.txt, checkpoint.log, measure.log, results.jsonl, logs.tgz (5 files).
set -uo pipefail
T0=$(date +%s)
B=${BUNDLE:-.bundle}
OUT=${OUT:-/tmp/harness-out}
BUDGET=${HARNESS_BUDGET_S:-540}
STEPS=${HARNESS_STEPS:-12}
W=/tmp/harness
mkdir -p "$OUT" "$W/logs"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

# 1. sd-scripts' pinned packages, in a folder that shadows the device's newer versions.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$B"/wheels/*.whl || exit 1
export PYTHONPATH=/tmp/site
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c 'import sys, torch, transformers, diffusers, accelerate, safetensors; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "diffusers", diffusers.__version__, "accelerate", accelerate.__version__, "safetensors", safetensors.__version__)'
  cat "$B/sd-scripts/HARNESS_VERSION"
  # Fail early, not after the checkpoint, if sd-scripts does not import with these packages.
  (cd "$B/sd-scripts" && python3 -c 'import sdxl_train_network, sdxl_train; print("sd-scripts imports: ok")') 2>&1 | tail -5
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
grep -q "sd-scripts imports: ok" "$OUT/env.txt" || { echo "sd-scripts does not import; see env.txt"; exit 1; }

# 2. The random-weight SDXL checkpoint (about 7 GB, about a minute; reused on a warm machine).
python3 "$B/harness/make_checkpoint.py" --sd-scripts "$B/sd-scripts" --out "$W/sdxl-random.safetensors" --device cuda >"$OUT/checkpoint.log" 2>&1
tail -3 "$OUT/checkpoint.log"
[ -f "$W/sdxl-random.safetensors" ] || { echo "no checkpoint; see checkpoint.log"; exit 1; }

# 3. The jobs, within what is left of the budget; one JSON line per job as it ends.
LEFT=$((BUDGET - ($(date +%s) - T0) - 15))
python3 "$B/harness/measure.py" --jobs "$B/jobs" --sd-scripts "$B/sd-scripts" --tokenizers "$B/tokenizers" \
  --work "$W/work" --logs "$W/logs" --out "$OUT/results.jsonl" --checkpoint "$W/sdxl-random.safetensors" \
  --budget-s "$LEFT" --steps "$STEPS" --skip-done "$W/all-results.jsonl" ${HARNESS_ONLY:+--only "$HARNESS_ONLY"} \
  2>&1 | tee "$OUT/measure.log"
# A later call on the same (warm) machine goes on with the jobs not measured yet.
cat "$OUT/results.jsonl" >>"$W/all-results.jsonl" 2>/dev/null
tar -czf "$OUT/logs.tgz" -C "$W" logs
echo "done in $(($(date +%s) - T0)) s"
