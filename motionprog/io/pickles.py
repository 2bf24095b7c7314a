"""Restricted unpickling: the only way motionprog opens a pickle unless the user opts out.

A pickle names the callables that rebuild it; Python's own loader imports and calls any of
them, so a file can run code. :class:`RestrictedUnpickler` admits only an explicit table of
callables (numpy array reconstruction, dtypes, latin-1 bytes, and for body models scipy's
sparse matrices) and refuses every other name with :class:`UnsafePickle`, before anything
from that name runs.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    return text.encode(encoding)


ARRAY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    **{
        (module, name): value
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name, value in (
            ("_reconstruct", np.zeros(1).__reduce__()[0]),
            ("scalar", np.float32(0).__reduce__()[0]),
        )
    },
}
"""Callables of pickled numpy arrays: array and scalar reconstruction, dtypes, and the latin-1
encoding that protocol-2 pickles use for raw bytes."""


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a callable outside the table it was read with (``module.name``)."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles builtin containers and the callables of ``allowed``; refuses every other global."""

    def __init__(self, file: io.BufferedIOBase, allowed: Mapping[tuple[str, str], Any], **options: Any) -> None:
        super().__init__(file, **options)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickle(f"refusing to load {module}.{name}") from None


def restricted_loads(data: bytes, allowed: Mapping[tuple[str, str], Any] = ARRAY_GLOBALS, **options: Any) -> Any:
    """The object pickled in ``data``, built only from ``allowed`` callables (UnsafePickle otherwise)."""
    return RestrictedUnpickler(io.BytesIO(data), allowed, **options).load()
