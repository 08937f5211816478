"""Part 4: the transformer assembled from Parts 1-3: positions, norms, the MLP, the model, counts.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.transformer.counting import (
    flops_per_token,
    memory_bytes,
    param_count,
    rnn_vs_attention_macs,
    training_flops_per_token,
)
from llmath.transformer.mlp import MLPParams, mlp, swiglu_width
from llmath.transformer.norms import rms_norm
from llmath.transformer.positions import rope, sinusoidal_positions, sinusoidal_shift

__all__ = [
    "MLPParams",
    "flops_per_token",
    "memory_bytes",
    "mlp",
    "param_count",
    "rms_norm",
    "rnn_vs_attention_macs",
    "rope",
    "sinusoidal_positions",
    "sinusoidal_shift",
    "swiglu_width",
    "training_flops_per_token",
]
