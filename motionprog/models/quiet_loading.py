"""Reading a model with ``transformers`` quietly: library code shows no progress bars of its
own, and a caller may hide the warnings it expects (CLIP's unused vision weights)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_loading(errors_only: bool = False) -> Iterator[None]:
    """Within: transformers draws no progress bars and, with ``errors_only``, logs only errors;
    both settings are restored after, whatever happens inside."""
    from transformers.utils import logging as hf_logging

    verbosity, bars_were_on = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    if errors_only:
        hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars_were_on:
            hf_logging.enable_progress_bar()
