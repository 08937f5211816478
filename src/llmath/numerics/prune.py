r"""Magnitude pruning: set the smallest weights to zero (Han et al., 2015)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_real, guard

__all__ = ["magnitude_prune"]

Array = NDArray[np.float64]


@guard
# --8<-- [start:prune]
def magnitude_prune(w: ArrayLike, sparsity: float) -> Array:
    # --8<-- [end:prune]
    r"""Return a copy of `w` with the fraction `sparsity` of its smallest-magnitude entries zeroed.

    $$
    \hat w_i = \begin{cases} 0 & i \in \text{the } k \text{ smallest } |w_i|,\\
    w_i & \text{otherwise,} \end{cases}
    \qquad k = \operatorname{round}(\rho\, n) .
    $$

    Exactly $k$ entries are set to zero (the earlier index goes first among equal magnitudes,
    a stable sort), so the sparsity is exact even when magnitudes tie; entries that were
    already zero count among the $k$. The whole array is one pool: to prune each layer to the
    same sparsity, call it once per weight matrix.

    Args:
        w: the weights, any shape `(...)` (not modified).
        sparsity: $\rho$, the fraction to remove, $0 \le \rho \le 1$.

    Returns:
        `(...)`: the pruned copy, shape of `w`.

    Raises:
        ValueError: if `w` is not a finite real array or `sparsity` lies outside $[0, 1]$.

    Examples:
        >>> magnitude_prune([0.3, -0.1, 2.0, -0.05], 0.5).tolist()
        [0.3, 0.0, 2.0, 0.0]

    Han et al., "Learning both Weights and Connections for Efficient Neural Networks" (2015),
    section 3 (pruning by magnitude threshold; their retraining step is not done here).
    """
    w = as_float_array(w, name="w", expected="(...)")
    rho = check_real(sparsity, name="sparsity", at_least=0, at_most=1)
    # --8<-- [start:prune-body]
    k = round(rho * w.size)  # how many to remove (round half to even)
    order = np.argsort(np.abs(w), axis=None, kind="stable")  # (n,): smallest first
    out = w.copy().reshape(-1)  # (n,)
    out[order[:k]] = 0.0
    return out.reshape(w.shape)
    # --8<-- [end:prune-body]
