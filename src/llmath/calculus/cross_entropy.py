r"""Cross-entropy of next-token logits against integer targets, and its gradient."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, as_int_array, guard, vouches
from llmath.attention.softmax import log_softmax, softmax
from llmath.linalg.vectors import one_hot

__all__ = ["cross_entropy", "cross_entropy_grad"]


def _check(logits: ArrayLike, targets: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Validate `(logits, targets)` and return them as float64 `(..., nV)` and intp `(...)`."""
    z = as_float_array(logits, name="logits", expected="(..., nV)", min_ndim=1)
    *lead, nV = z.shape
    y = as_int_array(
        targets,
        name="targets",
        expected=f"(...) = {tuple(lead)}",
        high=nV,
        high_from="the last axis of logits (..., nV)",
    )
    if y.shape != tuple(lead):
        raise ShapeError(
            f"targets must have shape (...) = {tuple(lead)}, the leading axes of logits "
            f"{z.shape}; got {y.shape}"
        )
    return z, y


@guard
@vouches
# --8<-- [start:ce]
def cross_entropy(logits: ArrayLike, targets: ArrayLike) -> float:
    # --8<-- [end:ce]
    r"""Return the mean cross-entropy, in nats, of the softmax of `logits` against `targets`.

    For $n$ tokens with logits $z_t \in \mathbb{R}^{n_V}$ and target ids $y_t$,

    $$
    \mathcal{L} = -\frac{1}{n} \sum_{t=1}^{n} \log \operatorname{softmax}(z_t)_{y_t}
      = \frac{1}{n} \sum_{t=1}^{n} \Bigl( \log \sum_{j} e^{z_{tj}} - z_{t y_t} \Bigr) .
    $$

    The log-probabilities come from [log_softmax][llmath.attention.softmax.log_softmax], which
    subtracts the maximum logit, so logits such as 1000 neither overflow nor give $\log 0$.

    Args:
        logits: unnormalised scores, shape `(..., nV)`.
        targets: integer class ids in $[0, n_V)$, shape `(...)` (the leading axes of `logits`).

    Returns:
        The mean over all $n$ tokens (the product of the leading axes), a float $\ge 0$.

    Raises:
        ShapeError: if `logits` is a scalar or empty, or `targets` has the wrong shape.
        ValueError: if `logits` is not a finite real array, or `targets` are not integers or
            lie outside $[0, n_V)$.

    Examples:
        >>> round(cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1]), 4)  # log 2
        0.6931
        >>> round(cross_entropy([1000.0, 1001.0], 1), 4)
        0.3133
    """
    # --8<-- [start:ce-body]
    z, y = _check(logits, targets)
    logp = log_softmax(z, axis=-1)  # (..., nV)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)  # (..., 1): log p(y_t)
    return float(-picked.mean()) + 0.0  # + 0.0: a perfect prediction's -0.0 becomes 0.0
    # --8<-- [end:ce-body]


@guard
@vouches
# --8<-- [start:ce-grad]
def cross_entropy_grad(logits: ArrayLike, targets: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:ce-grad]
    r"""Return the gradient of the mean [cross_entropy][llmath.calculus.cross_entropy.cross_entropy] with respect to the logits.

    $$
    \frac{\partial \mathcal{L}}{\partial z_{t}} = \frac{1}{n}\bigl(\operatorname{softmax}(z_t) - e_{y_t}\bigr),
    $$

    with $e_{y_t}$ the one-hot row of the target and $n$ the number of tokens. The
    [softmax][llmath.attention.softmax.softmax] subtracts the largest logit before
    exponentiating, so the gradient stays finite for logits such as 1000.

    Args:
        logits: unnormalised scores, shape `(..., nV)`.
        targets: integer class ids in $[0, n_V)$, shape `(...)`.

    Returns:
        Shape `(..., nV)`, the same as `logits`; every row sums to 0.

    Raises:
        ShapeError: if `logits` is a scalar or empty, or `targets` has the wrong shape.
        ValueError: if `logits` is not a finite real array, or `targets` are not integers or
            lie outside $[0, n_V)$.

    Examples:
        >>> cross_entropy_grad([[0.0, 0.0], [0.0, 0.0]], [0, 1])
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
    """
    # --8<-- [start:ce-grad-body]
    z, y = _check(logits, targets)
    n = y.size  # number of tokens: the product of the leading axes (1 for a single row)
    return (softmax(z, axis=-1) - one_hot(y, z.shape[-1])) / n  # (..., nV)
    # --8<-- [end:ce-grad-body]
