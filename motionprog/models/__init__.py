"""Motion models behind one protocol: the MDM adapter, the bundled prior, text encoders, training."""

from motionprog.models.protocol import MotionModel
from motionprog.models.registry import load_model

__all__ = ["MotionModel", "load_model"]
