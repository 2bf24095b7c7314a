#!/usr/bin/env bash
# The exact command that produced motionprog/data/bundled.safetensors (see docs/model-card.md).
# Data: the 32 MDM samples (path below), the vendored CMU clips and pybullet's DeepMimic clips.
# It writes checkpoints to $OUT every 500 steps and exports the EMA weights to the package each
# time; run it again with --resume appended to continue where it stopped.
# One thread: on a shared 2-core machine, two OpenMP threads that get descheduled run ten
# times slower than one (measured: 3-7 s against 0.5 s per step at a load of 6).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/work/runs/bundled/run3}
SAMPLES=${SAMPLES:-../shared/data/mdm_samples/mdm_humanml_samples.npz}
nice -n 10 motionprog train "$SAMPLES" cmu deepmimic -o "$OUT" \
  --steps 15000 --batch 4096 --seed 0 --device cpu --threads 1 \
  --export motionprog/data/bundled.safetensors "$@"
