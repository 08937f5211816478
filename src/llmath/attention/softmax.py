r"""Softmax and log-softmax along one axis, computed without overflow."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_bool_mask, as_float_array, guard

__all__ = ["log_softmax", "softmax"]


def _check_axis(z: NDArray[np.float64], axis: object, name: str = "z") -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ValueError(f"axis must be an integer; got {axis!r}")
    if not -z.ndim <= axis < z.ndim:
        raise ShapeError(f"axis {axis} is out of range for {name} of shape {z.shape}")
    return int(axis)


@guard
# --8<-- [start:softmax]
def softmax(
    z: ArrayLike,
    *,
    axis: int = -1,
    where: ArrayLike | None = None,
) -> NDArray[np.float64]:
    # --8<-- [end:softmax]
    r"""Turn scores into probabilities along `axis`.

    $$
    \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}
    = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \qquad m = \max_j z_j .
    $$

    Subtracting the maximum $m$ changes nothing mathematically (numerator and denominator are
    both multiplied by $e^{-m}$) but keeps every exponent $\le 0$, so `exp` cannot overflow and
    the largest term is exactly 1, so the sum cannot underflow to 0.

    Args:
        z: scores, shape `(...)` with at least one axis; `axis` is the axis that sums to one.
        axis: the axis along which to normalise (keyword-only, default the last).
        where: optional boolean array broadcastable to `z`; entries where it is `False` get
            probability exactly 0, as if their score were $-\infty$. Every slice along `axis`
            must keep at least one entry.

    Returns:
        Probabilities of the same shape as `z`, non-negative and summing to 1 along `axis`.

    Raises:
        ShapeError: if `z` is a scalar, `axis` is out of range or `where` does not broadcast.
        ValueError: if `z` contains NaN or infinity, `where` is not boolean, or a slice along
            `axis` is entirely masked.

    Examples:
        >>> softmax([1.0, 2.0, 3.0]).round(4)
        array([0.09  , 0.2447, 0.6652])
        >>> softmax([1000.0, 1001.0]).round(4)
        array([0.2689, 0.7311])
    """
    # --8<-- [start:softmax-body]
    z = as_float_array(z, name="z", expected="(..., N)", min_ndim=1)
    axis = _check_axis(z, axis)
    if where is None:
        m = z.max(axis=axis, keepdims=True)  # the largest entry of each slice
        e = z.copy()  # worked on in place from here
    else:
        keep = as_bool_mask(where, name="where", shape=z.shape)
        if not keep.any(axis=axis).all():
            raise ValueError(
                "where leaves a slice with no entry to normalise (all False)",
            )
        # the max over kept entries; a masked entry is set to it, zeroed after exp
        m = z.max(axis=axis, keepdims=True, where=keep, initial=-np.inf)
        e = np.where(keep, z, m)
    with np.errstate(over="ignore"):  # z - m may overflow to -inf: its exp is 0
        e -= m  # every entry <= 0, the largest is 0
    np.exp(e, out=e)
    if where is not None:
        e *= keep  # masked weights exactly 0 (exp(-inf) takes numpy's slow path)
    e /= e.sum(axis=axis, keepdims=True)
    return e


# --8<-- [end:softmax-body]


@guard
def log_softmax(z: ArrayLike, *, axis: int = -1) -> NDArray[np.float64]:
    r"""Return the logarithm of `softmax(z)`, computed without taking the log of a tiny number.

    $$
    \log \operatorname{softmax}(z)_i = (z_i - m) - \log \sum_j e^{z_j - m},
    \qquad m = \max_j z_j .
    $$

    `np.log(softmax(z))` returns `-inf` once a probability underflows (below about
    $10^{-308}$); this form stays finite because it never exponentiates and then logs.

    Args:
        z: scores, shape `(...)` with at least one axis.
        axis: the axis along which to normalise (keyword-only, default the last).

    Returns:
        Log-probabilities, same shape as `z`, all $\le 0$.

    Raises:
        ShapeError: if `z` is a scalar or `axis` is out of range.
        ValueError: if `z` is not a finite real array, or a log-probability lies below the
            float64 range (scores spread by more than about $1.8 \times 10^{308}$).

    Examples:
        >>> log_softmax([0.0, 0.0]).round(4)
        array([-0.6931, -0.6931])
        >>> float(log_softmax([0.0, 800.0])[0])
        -800.0
    """
    z = as_float_array(z, name="z", expected="(..., N)", min_ndim=1)
    axis = _check_axis(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)  # below -1.8e308 it overflows: ValueError
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # type: ignore[no-any-return]
