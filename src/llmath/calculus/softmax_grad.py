r"""The softmax Jacobian, and the vector-Jacobian product that backpropagation actually uses."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, guard
from llmath.attention.softmax import _check_axis, softmax

__all__ = ["softmax_backward", "softmax_jacobian"]


@guard
# --8<-- [start:jacobian]
def softmax_jacobian(z: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:jacobian]
    r"""Return the Jacobian of the softmax of the last axis of `z`, one `(N, N)` matrix per row.

    With $s = \operatorname{softmax}(z)$ a row vector of length $N$,

    $$
    J_{ij} = \frac{\partial s_j}{\partial z_i} = s_i(\delta_{ij} - s_j),
    \qquad J = \operatorname{diag}(s) - s^\top s .
    $$

    $J$ is symmetric, so the row convention ($ds = dz\,J$) and the column convention give the
    same matrix. Building it costs $O(N^2)$ memory; a backward pass never needs it, see
    [softmax_backward][llmath.calculus.softmax_grad.softmax_backward].

    Args:
        z: logits, shape `(..., N)`; the softmax is taken along the last axis.

    Returns:
        Shape `(..., N, N)`: for every leading index, the matrix $J$ above.

    Raises:
        ShapeError: if `z` is a scalar.
        ValueError: if `z` contains NaN or infinity.

    Examples:
        >>> softmax_jacobian([0.0, 0.0])
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
    """
    # --8<-- [start:jacobian-body]
    z = as_float_array(z, name="z", expected="(..., N)", min_ndim=1)
    s = softmax(z, axis=-1)  # (..., N)
    diag = s[..., :, None] * np.eye(z.shape[-1])  # (..., N, N): diag(s)
    outer = s[..., :, None] * s[..., None, :]  # (..., N, N): s^T s
    return diag - outer  # (..., N, N)
    # --8<-- [end:jacobian-body]


@guard
# --8<-- [start:backward]
def softmax_backward(
    dout: ArrayLike,
    s: ArrayLike,
    *,
    axis: int = -1,
) -> NDArray[np.float64]:
    # --8<-- [end:backward]
    r"""Backpropagate through a softmax: return $\partial \mathcal{L}/\partial z$ given $\partial \mathcal{L}/\partial s$.

    With $g = \partial \mathcal{L} / \partial s$ (`dout`) and $s = \operatorname{softmax}(z)$ along `axis`,
    the vector-Jacobian product $g J$ is

    $$
    \frac{\partial \mathcal{L}}{\partial z_i} = \sum_j g_j\, s_j(\delta_{ij} - s_i)
    = s_i \Bigl(g_i - \sum_j g_j s_j\Bigr) .
    $$

    It needs only the softmax *output* $s$ (which the forward pass has anyway) and costs $O(N)$
    per row instead of the $O(N^2)$ of forming $J$.

    Args:
        dout: gradient of the loss with respect to $s$, the same shape as `s`.
        s: the softmax output of the forward pass, shape `(...)` with at least one axis;
            non-negative and summing to 1 along `axis`.
        axis: the axis the softmax normalised over (keyword-only, default the last).

    Returns:
        $\partial \mathcal{L} / \partial z$, same shape as `s`; it sums to 0 along `axis`.

    Raises:
        ShapeError: if `s` is a scalar, `axis` is out of range or `dout` and `s` differ in shape.
        ValueError: if an input contains NaN or infinity, or `s` is not a probability vector
            along `axis` (for instance, the logits were passed instead of the softmax output).

    Examples:
        >>> softmax_backward([1.0, 0.0], [0.5, 0.5])
        array([ 0.25, -0.25])
    """
    # --8<-- [start:backward-body]
    s = as_float_array(s, name="s", expected="(..., N)", min_ndim=1)
    dout = as_float_array(dout, name="dout", expected="the shape of s")
    if dout.shape != s.shape:
        raise ShapeError(f"dout must have the shape of s, {s.shape}; got {dout.shape}")
    axis = _check_axis(s, axis, name="s")
    if s.min() < 0 or np.abs(s.sum(axis=axis) - 1.0).max() > 1e-6:
        raise ValueError(
            "s must be the softmax output: entries >= 0 summing to 1 along axis "
            f"{axis} (were the logits passed instead?)"
        )
    inner = (dout * s).sum(axis=axis, keepdims=True)  # (..., 1, ...): sum_j g_j s_j
    dz: NDArray[np.float64] = dout - inner  # same shape as s
    dz *= s  # in place: s (dout - inner)
    return dz
    # --8<-- [end:backward-body]
