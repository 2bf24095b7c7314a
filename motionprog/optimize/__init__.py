"""The optimizer: programs and models in, motions and reports out.

``generate(program, model=None, seeds=None, device="auto", config=None, callback=None)``
returns a :class:`Result` with ``.motion`` and ``.report``; :class:`OptimizeConfig` holds every
setting of both methods (``fast`` and the ``progmogen`` reference).
"""

from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.generate import Result, generate, load_program

__all__ = ["OptimizeConfig", "Result", "generate", "load_program"]
