"""Part 7: scale: scaling laws, compute and memory at scale, and the geometry of high dimensions.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.scale.compute import (
    activation_memory_bytes,
    mfu,
    ring_allreduce,
    ring_allreduce_volume,
    training_memory_bytes,
)
from llmath.scale.geometry import (
    ball_volume_fraction,
    distance_ratios,
    jl_min_dim,
    radius_stats,
    random_projection,
    sample_ball,
    unit_ball_volume,
)
from llmath.scale.scaling import (
    CHINCHILLA_FITS,
    ChinchillaFit,
    ComputeOptimal,
    chinchilla_loss,
    compute_optimal,
    kaplan_loss,
    training_flops,
)

__all__ = [
    "CHINCHILLA_FITS",
    "ChinchillaFit",
    "ComputeOptimal",
    "activation_memory_bytes",
    "ball_volume_fraction",
    "chinchilla_loss",
    "compute_optimal",
    "distance_ratios",
    "jl_min_dim",
    "kaplan_loss",
    "mfu",
    "radius_stats",
    "random_projection",
    "ring_allreduce",
    "ring_allreduce_volume",
    "sample_ball",
    "training_flops",
    "training_memory_bytes",
    "unit_ball_volume",
]
