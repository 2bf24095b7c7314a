"""The reference procedure: ProgMoGen's recipe (Liu et al., CVPR 2024) on our model.

ProgMoGen optimises the initial noise of one sample with plain Adam at a fixed learning rate
(0.02 to 0.05 in its task configs) for a fixed number of iterations (60 to 100), back-propagating
through a 100-step DDIM chain (eta 0) including both classifier-free guidance passes, and keeps
the last iterate. ``reference_recipe`` states exactly that as a :class:`Recipe`, so the same loop
(``optimize_latent``) runs both methods and every speed ratio compares like with like.
"""

from __future__ import annotations

from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.latent import Recipe


def reference_recipe(config: OptimizeConfig) -> Recipe:
    """One seed (``config.seed``), ``progmogen_steps`` DDIM steps, plain Adam at the constant rate
    ``progmogen_lr`` for exactly ``progmogen_iterations`` updates: no gradient normalisation, no
    noise or naturalness penalty, no early stop, the last iterate kept."""
    return Recipe(
        seeds=(config.seed,), steps=config.progmogen_steps, iterations=config.progmogen_iterations,
        lr=config.progmogen_lr, lr_final=config.progmogen_lr, warmup=0, normalize=False, noise_weight=0.0,
        early_stop=False, keep_best=False, placement_lr=config.placement_lr, checkpoint=config.checkpoint,
        guidance=config.guidance, rigid=config.rigid, natural_weight=0.0,
    )
