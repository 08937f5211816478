"""Part 7: numerics: floating-point formats, summation error, quantisation, pruning and distillation.

Each module's public names are re-exported here and from `llmath`.
"""

__all__: list[str] = []
