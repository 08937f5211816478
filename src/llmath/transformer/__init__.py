"""Part 4: the transformer assembled from Parts 1-3: positions, norms, the MLP, the model, counts.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.transformer.norms import rms_norm

__all__ = ["rms_norm"]
