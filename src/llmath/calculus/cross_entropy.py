r"""Cross-entropy of next-token logits against integer targets, and its gradient."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array
from llmath.attention.softmax import log_softmax, softmax
from llmath.linalg.vectors import one_hot

__all__ = ["cross_entropy", "cross_entropy_grad"]


def _check(logits: ArrayLike, targets: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Validate `(logits, targets)` and return them as float64 `(..., V)` and intp `(...)`."""
    z = as_float_array(logits, name="logits", expected="(..., V)", min_ndim=1)
    *lead, V = z.shape
    if V == 0:
        raise ShapeError(f"logits must have shape (..., V) with V >= 1; got {z.shape}")
    y = np.asarray(targets)
    if y.dtype.kind not in "iu":
        raise ValueError(f"targets must be integer class ids; got dtype {y.dtype}")
    if y.shape != tuple(lead):
        raise ShapeError(
            f"targets must have shape (...) = {tuple(lead)}, the leading axes of logits "
            f"{z.shape}; got {y.shape}"
        )
    if y.size == 0:
        raise ValueError(f"there are no tokens to average over: targets has shape {y.shape}")
    if y.min() < 0 or y.max() >= V:
        raise ValueError(f"targets must lie in [0, V) = [0, {V}); got min {y.min()}, max {y.max()}")
    return z, y.astype(np.intp)


# --8<-- [start:ce]
def cross_entropy(logits: ArrayLike, targets: ArrayLike) -> float:
    # --8<-- [end:ce]
    r"""Return the mean cross-entropy, in nats, of the softmax of `logits` against `targets`.

    For $n$ tokens with logits $z_t \in \mathbb{R}^{V}$ and target ids $y_t$,

    $$
    L = -\frac{1}{n} \sum_{t=1}^{n} \log \operatorname{softmax}(z_t)_{y_t}
      = \frac{1}{n} \sum_{t=1}^{n} \Bigl( \log \sum_{j} e^{z_{tj}} - z_{t y_t} \Bigr) .
    $$

    The log-probabilities come from [log_softmax][llmath.attention.softmax.log_softmax], which
    subtracts the maximum logit, so logits such as 1000 neither overflow nor give $\log 0$.

    Args:
        logits: unnormalised scores, shape `(..., V)`.
        targets: integer class ids in $[0, V)$, shape `(...)` (the leading axes of `logits`).

    Returns:
        The mean over all $n$ tokens (the product of the leading axes), a float $\ge 0$.

    Raises:
        ShapeError: if `logits` is a scalar or has $V = 0$, or `targets` has the wrong shape.
        ValueError: if `logits` contains NaN or infinity, `targets` are not integers or lie
            outside $[0, V)$, or there are no tokens.

    Examples:
        >>> round(cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1]), 4)  # log 2
        0.6931
        >>> round(cross_entropy([1000.0, 1001.0], 1), 4)
        0.3133
    """
    # --8<-- [start:ce-body]
    z, y = _check(logits, targets)
    logp = log_softmax(z, axis=-1)  # (..., V)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)  # (..., 1): log p(y_t)
    return float(-picked.mean()) + 0.0  # + 0.0 turns -0.0 (a perfect prediction) into 0.0
    # --8<-- [end:ce-body]


# --8<-- [start:ce-grad]
def cross_entropy_grad(logits: ArrayLike, targets: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:ce-grad]
    r"""Return the gradient of the mean [cross_entropy][llmath.calculus.cross_entropy.cross_entropy] with respect to the logits.

    $$
    \frac{\partial L}{\partial z_{t}} = \frac{1}{n}\bigl(\operatorname{softmax}(z_t) - e_{y_t}\bigr),
    $$

    with $e_{y_t}$ the one-hot row of the target and $n$ the number of tokens. The
    [softmax][llmath.attention.softmax.softmax] subtracts the largest logit before
    exponentiating, so the gradient stays finite for logits such as 1000.

    Args:
        logits: unnormalised scores, shape `(..., V)`.
        targets: integer class ids in $[0, V)$, shape `(...)`.

    Returns:
        Shape `(..., V)`, the same as `logits`; every row sums to 0.

    Raises:
        ShapeError: if `logits` is a scalar or has $V = 0$, or `targets` has the wrong shape.
        ValueError: if `logits` contains NaN or infinity, `targets` are not integers or lie
            outside $[0, V)$, or there are no tokens.

    Examples:
        >>> cross_entropy_grad([[0.0, 0.0], [0.0, 0.0]], [0, 1])
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
    """
    # --8<-- [start:ce-grad-body]
    z, y = _check(logits, targets)
    n = y.size  # number of tokens: the product of the leading axes (1 for a single row)
    return (softmax(z, axis=-1) - one_hot(y, z.shape[-1])) / n  # (..., V)
    # --8<-- [end:ce-grad-body]
