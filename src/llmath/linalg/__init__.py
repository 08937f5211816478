"""Part 1a: vectors, linear maps, eigenvalues of stochastic matrices, low rank and LoRA."""

from llmath.linalg.eigen import check_row_stochastic, spectral_gap, stationary_distribution
from llmath.linalg.linear import compose_affine, linear, relu
from llmath.linalg.lowrank import lora_merge, lora_param_count, low_rank_approx
from llmath.linalg.vectors import cosine_similarity, embed, norm, one_hot

__all__ = [
    "check_row_stochastic",
    "compose_affine",
    "cosine_similarity",
    "embed",
    "linear",
    "lora_merge",
    "lora_param_count",
    "low_rank_approx",
    "norm",
    "one_hot",
    "relu",
    "spectral_gap",
    "stationary_distribution",
]
