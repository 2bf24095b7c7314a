"""The two recipes the latent search runs: ours (``fast_recipe``) and the reference
(``reference_recipe``), so that every speed ratio compares like with like in one loop.

The reference is ProgMoGen's procedure (Liu et al., CVPR 2024) on our model: it optimises the
initial noise of one sample with plain Adam at a fixed learning rate (0.02 to 0.05 in its task
configs) for a fixed number of iterations (60 to 100), back-propagating through a 100-step
DDIM chain (eta 0) including both classifier-free guidance passes, and keeps the last iterate.
"""

from __future__ import annotations

from motionprog.models.protocol import MotionModel
from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.decode import search_steps
from motionprog.optimize.latent import Recipe


def fast_recipe(config: OptimizeConfig, model: MotionModel, seeds: tuple[int, ...]) -> Recipe:
    """The fast (DNO-style) recipe for the given random ``seeds``, decoding through the model's
    distilled student unless ``config.steps`` names DDIM steps."""
    return Recipe(
        seeds=seeds, steps=search_steps(model, config.steps, config.guidance), iterations=config.iterations,
        lr=config.lr, lr_final=config.lr_final, warmup=config.warmup, normalize=True,
        noise_weight=config.noise_weight, early_stop=True, keep_best=True, placement_lr=config.placement_lr,
        checkpoint=config.checkpoint, guidance=config.guidance, rigid=config.rigid,
        natural_weight=config.natural_weight, patience=config.patience,
    )


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
