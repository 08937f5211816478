"""llmath: small, tested reference implementations of the mathematics behind large language models.

Every function the book teaches is importable from here and from its own module, e.g.
`llmath.softmax` is `llmath.attention.softmax.softmax`. Importing llmath never imports torch.
"""

from llmath._checks import ShapeError
from llmath.attention import (
    AttentionResult,
    causal_mask,
    log_softmax,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    softmax,
    split_heads,
)
from llmath.linalg import (
    check_row_stochastic,
    compose_affine,
    cosine_similarity,
    embed,
    linear,
    lora_merge,
    lora_param_count,
    low_rank_approx,
    norm,
    one_hot,
    relu,
    spectral_gap,
    stationary_distribution,
)

__version__ = "0.1.0"

__all__ = [
    "AttentionResult",
    "ShapeError",
    "__version__",
    "causal_mask",
    "check_row_stochastic",
    "compose_affine",
    "cosine_similarity",
    "embed",
    "linear",
    "log_softmax",
    "lora_merge",
    "lora_param_count",
    "low_rank_approx",
    "merge_heads",
    "multi_head_attention",
    "norm",
    "one_hot",
    "relu",
    "scaled_dot_product_attention",
    "softmax",
    "spectral_gap",
    "split_heads",
    "stationary_distribution",
]
