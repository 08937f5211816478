"""Part 5: training and optimisation: optimisers, schedules, clipping, initialisation, the backward
pass of the whole model, and preference tuning.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.training.backward import loss_and_grads, parameters, train_step
from llmath.training.initialization import he_init, xavier_init
from llmath.training.lora import lora_backward
from llmath.training.optimizers import SGD, Adam, AdamW, RMSProp
from llmath.training.preferences import (
    bradley_terry_loss,
    dpo_loss,
    kl_regularised_objective,
    kl_regularised_policy,
    kl_regularised_value,
)
from llmath.training.schedules import clip_grad_norm, cosine_schedule

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSProp",
    "bradley_terry_loss",
    "clip_grad_norm",
    "cosine_schedule",
    "dpo_loss",
    "he_init",
    "kl_regularised_objective",
    "kl_regularised_policy",
    "kl_regularised_value",
    "lora_backward",
    "loss_and_grads",
    "parameters",
    "train_step",
    "xavier_init",
]
