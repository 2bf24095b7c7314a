"""Run llama-cpp-python's OpenAI-compatible server with llama.cpp's extra weight buffers off.

On CPUs with AMX (Sapphire Rapids and later) llama.cpp repacks the weights into an AMX buffer,
and with llama-cpp-python 0.3.36 on this machine every decode then ends in a segmentation
fault; the plain CPU buffers work. llama-cpp-python does not expose the switch
(``use_extra_bufts`` of llama.cpp's model parameters), so this sets it before the server
loads the model. Usage: python scripts/serve_llm.py SERVER-ARGS... (see scripts/serve_llm.sh).
"""

from __future__ import annotations

import llama_cpp
import llama_cpp.llama
from llama_cpp.server.__main__ import main

_default_params = llama_cpp.llama_model_default_params


def model_params() -> llama_cpp.llama_model_params:
    """llama.cpp's default model parameters without the extra (AMX) weight buffers."""
    params = _default_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama.llama_cpp.llama_model_default_params = model_params

if __name__ == "__main__":
    main()
