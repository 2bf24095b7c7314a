"""Physical dimensions of values and the unit words of the language.

A dimension is the exponents of (length, time, angle): metres are (1, 0, 0), m/s (1, -1, 0),
radians (0, 0, 1). Values are stored in SI units (metres, seconds, radians).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from motionprog.body.skeleton import FPS


@dataclass(frozen=True)
class Dim:
    """Exponents of length, time and angle; ``Dim()`` is dimensionless."""

    length: int = 0
    time: int = 0
    angle: int = 0

    def __mul__(self, other: Dim) -> Dim:
        return Dim(self.length + other.length, self.time + other.time, self.angle + other.angle)

    def __truediv__(self, other: Dim) -> Dim:
        return Dim(self.length - other.length, self.time - other.time, self.angle - other.angle)

    def symbol(self) -> str:
        """Readable SI unit: ``m``, ``m/s``, ``rad``, ``1`` for dimensionless, ``m^2`` ..."""
        named = {LENGTH: "m", TIME: "s", ANGLE: "rad", VELOCITY: "m/s", ACCELERATION: "m/s^2",
                 NONE: "1"}
        if self in named:
            return named[self]
        parts = [(s, e) for s, e in (("m", self.length), ("s", self.time), ("rad", self.angle)) if e]
        up = "*".join(s if e == 1 else f"{s}^{e}" for s, e in parts if e > 0) or "1"
        down = "*".join(s if e == -1 else f"{s}^{-e}" for s, e in parts if e < 0)
        return f"{up}/{down}" if down else up


NONE = Dim()
LENGTH = Dim(length=1)
TIME = Dim(time=1)
ANGLE = Dim(angle=1)
VELOCITY = Dim(length=1, time=-1)
ACCELERATION = Dim(length=1, time=-2)

UNITS: dict[str, tuple[Dim, float]] = {
    "m": (LENGTH, 1.0), "cm": (LENGTH, 0.01), "mm": (LENGTH, 0.001),
    "s": (TIME, 1.0), "ms": (TIME, 0.001), "frames": (TIME, 1.0 / FPS),
    "deg": (ANGLE, math.pi / 180), "rad": (ANGLE, 1.0),
    "m/s": (VELOCITY, 1.0), "m/s^2": (ACCELERATION, 1.0),
}
"""Unit word -> (dimension, factor to SI). ``%`` is handled by time instants only."""

DEFAULT_TOLERANCE: dict[Dim, float] = {LENGTH: 0.02, ANGLE: math.radians(5.0)}
"""Tolerance of ``a == b`` without ``within``, SI; other dimensions use ``FALLBACK_TOLERANCE``."""
FALLBACK_TOLERANCE = 0.02
DEFAULT_NEAR = 0.05
"""Distance of ``a near b`` without ``within``, metres."""
