#!/usr/bin/env bash
# Serve the model installed by scripts/install_llm.sh on loopback with an OpenAI-compatible API
# (llama-cpp-python's server: chat completions with a `grammar` field, /v1/models), through
# scripts/serve_llm.py, which turns off the AMX weight buffers that crash decoding here.
# Usage: scripts/serve_llm.sh [DIR] [PORT]   (defaults /work/runs/llm, 8000); then for example
#   motionprog prompt-eval -o results.json --base-url http://127.0.0.1:8000/v1 --model qwen2.5-coder-1.5b
set -euo pipefail
DIR=${1:-/work/runs/llm}
PORT=${2:-8000}
exec "$DIR/venv/bin/python" "$(dirname "$0")/serve_llm.py" --model "$DIR/model.gguf" --model_alias qwen2.5-coder-1.5b \
  --host 127.0.0.1 --port "$PORT" --n_ctx 4096 --n_threads 1
