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
from llmath.transformer.model import (
    KVCache,
    LayerParams,
    ModelConfig,
    ModelParams,
    decoder_block,
    forward,
    gpt2_params_from_state,
    gpt2_state_from_params,
    init,
    next_token_loss,
)
from llmath.transformer.norms import rms_norm
from llmath.transformer.positions import rope, sinusoidal_positions, sinusoidal_shift

__all__ = [
    "KVCache",
    "LayerParams",
    "MLPParams",
    "ModelConfig",
    "ModelParams",
    "decoder_block",
    "flops_per_token",
    "forward",
    "gpt2_params_from_state",
    "gpt2_state_from_params",
    "init",
    "memory_bytes",
    "mlp",
    "next_token_loss",
    "param_count",
    "rms_norm",
    "rnn_vs_attention_macs",
    "rope",
    "sinusoidal_positions",
    "sinusoidal_shift",
    "swiglu_width",
    "training_flops_per_token",
]
