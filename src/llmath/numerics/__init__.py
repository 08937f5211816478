"""Part 7: numerics: floating-point formats, summation error, quantisation, pruning and distillation.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.numerics.distill import distillation_grad, distillation_loss
from llmath.numerics.floats import (
    FORMATS,
    FloatFormat,
    decode_float,
    float_format,
    round_to_format,
)
from llmath.numerics.prune import magnitude_prune
from llmath.numerics.quantize import dequantize, quantize_absmax, quantize_zero_point
from llmath.numerics.summation import kahan_sum, naive_sum, pairwise_sum

__all__ = [
    "FORMATS",
    "FloatFormat",
    "decode_float",
    "dequantize",
    "distillation_grad",
    "distillation_loss",
    "float_format",
    "kahan_sum",
    "magnitude_prune",
    "naive_sum",
    "pairwise_sum",
    "quantize_absmax",
    "quantize_zero_point",
    "round_to_format",
]
