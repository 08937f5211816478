"""Part 4: the transformer assembled from Parts 1-3: positions, norms, the MLP, the model, counts.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.transformer.mlp import MLPParams, mlp, swiglu_width
from llmath.transformer.norms import rms_norm

__all__ = ["MLPParams", "mlp", "rms_norm", "swiglu_width"]
