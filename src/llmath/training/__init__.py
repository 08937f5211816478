"""Part 5: training and optimisation: optimisers, schedules, clipping, initialisation, the backward
pass of the whole model, and preference tuning.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.training.lora import lora_backward
from llmath.training.preferences import (
    bradley_terry_loss,
    dpo_loss,
    kl_regularised_objective,
    kl_regularised_policy,
    kl_regularised_value,
)

__all__ = [
    "bradley_terry_loss",
    "dpo_loss",
    "kl_regularised_objective",
    "kl_regularised_policy",
    "kl_regularised_value",
    "lora_backward",
]
