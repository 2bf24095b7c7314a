#!/usr/bin/env bash
# The exact command that produced motionprog/data/bundled-student.safetensors (docs/model-card.md):
# the shipped bundled prior distilled into a one-step student (motionprog/models/distill.py).
# Resumable: run it again with --resume appended after an interruption.
set -euo pipefail
nice -n 5 motionprog distill -o /work/runs/student/run1 --steps 2000 --pairs 6144 --seed 0 --threads 1 \
  --export motionprog/data/bundled-student.safetensors "$@"
