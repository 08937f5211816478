"""Part 7: numerics: floating-point formats, summation error, quantisation, pruning and distillation.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.numerics.distill import distillation_grad, distillation_loss
from llmath.numerics.prune import magnitude_prune
from llmath.numerics.quantize import dequantize, quantize_absmax, quantize_zero_point

__all__ = [
    "dequantize",
    "distillation_grad",
    "distillation_loss",
    "magnitude_prune",
    "quantize_absmax",
    "quantize_zero_point",
]
