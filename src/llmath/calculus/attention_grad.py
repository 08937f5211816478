r"""Backward passes of a linear map, scaled dot-product attention and multi-head self-attention."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    check_cache,
    check_positive_int,
    guard,
    vouches,
)
from llmath.attention.attention import scaled_dot_product_attention
from llmath.attention.multihead import merge_heads, split_heads
from llmath.calculus.softmax_grad import softmax_backward

__all__ = [
    "MHACache",
    "linear_backward",
    "multi_head_attention_backward",
    "multi_head_attention_forward",
    "scaled_dot_product_attention_backward",
]

Array = NDArray[np.float64]


def _same_shape(name: str, a: Array, shape: tuple[int, ...], expected: str) -> None:
    if a.shape != shape:
        raise ShapeError(f"{name} must have shape {expected} = {shape}; got {a.shape}")


def _param(a: ArrayLike, name: str, shape: tuple[int, ...], expected: str) -> Array:
    """Convert a parameter and check its exact shape, e.g. `(D, D)` = `(8, 8)`."""
    arr = as_float_array(a, name=name, expected=expected, ndim=len(shape))
    _same_shape(name, arr, shape, expected)
    return arr


@guard
# --8<-- [start:linear-backward]
def linear_backward(
    dout: ArrayLike,
    x: ArrayLike,
    w: ArrayLike,
) -> tuple[Array, Array, Array]:
    # --8<-- [end:linear-backward]
    r"""Backpropagate through $Y = XW + b$: return the gradients for $X$, $W$ and $b$.

    With $dY = \partial \mathcal{L} / \partial Y$ (one row per token, like $X$ and $Y$),

    $$
    dX = dY\, W^\top, \qquad
    dW = X^\top dY = \sum_{t} x_t^\top\, dy_t, \qquad
    db = \sum_{t} dy_t ,
    $$

    where $t$ runs over every row of every leading axis: all tokens of all sequences use the
    same $W$ and $b$, so their contributions add. The bias does not enter any gradient, so it
    is not an argument; ignore `db` for a map without bias.

    Args:
        dout: $dY$, the gradient of the loss with respect to the output, shape `(..., M)`.
        x: the forward input, shape `(..., N)`.
        w: the weight, shape `(N, M)`.

    Returns:
        `(dx, dw, db)` of shapes `(..., N)`, `(N, M)` and `(M,)`.

    Raises:
        ShapeError: if the shapes do not chain.
        ValueError: if an input contains NaN or infinity.

    Examples:
        >>> dx, dw, db = linear_backward([[1.0, 2.0]], [[3.0]], [[10.0, 20.0]])
        >>> dx, dw, db
        (array([[50.]]), array([[3., 6.]]), array([1., 2.]))
    """
    # --8<-- [start:linear-backward-body]
    w = as_float_array(w, name="w", expected="(N, M)", ndim=2)
    N, M = w.shape
    x = as_float_array(x, name="x", expected="(..., N)", min_ndim=1)
    dout = as_float_array(dout, name="dout", expected="(..., M)", min_ndim=1)
    _same_shape("x", x, (*x.shape[:-1], N), "(..., N)")
    _same_shape("dout", dout, (*x.shape[:-1], M), "(..., M) with x's leading axes")
    dx = dout @ w.T  # (..., N)
    dw = x.reshape(-1, N).T @ dout.reshape(-1, M)  # (N, M): sum over rows
    db = dout.reshape(-1, M).sum(axis=0)  # (M,)
    return dx, dw, db
    # --8<-- [end:linear-backward-body]


@guard
@vouches
# --8<-- [start:sdpa-backward]
def scaled_dot_product_attention_backward(
    dout: ArrayLike, q: ArrayLike, k: ArrayLike, v: ArrayLike, weights: ArrayLike
) -> tuple[Array, Array, Array]:
    # --8<-- [end:sdpa-backward]
    r"""Backpropagate through attention $O = AV$, $A = \operatorname{softmax}(Z)$, $Z = QK^\top/\sqrt{d_k}$.

    Each step of the forward, reversed (the softmax is taken along rows, over keys):

    $$
    \begin{aligned}
    dV &= A^\top dO, & dA &= dO\, V^\top, \\
    dZ &= A \odot \bigl(dA - (dA \odot A)\mathbf{1}\mathbf{1}^\top\bigr), && \\
    dQ &= \frac{dZ\, K}{\sqrt{d_k}}, &
    dK &= \frac{dZ^\top Q}{\sqrt{d_k}} ,
    \end{aligned}
    $$

    where $K$ is the key matrix and $d_k$ its width. A mask needs no special case:
    a masked entry has $A_{ts} = 0$, so its $dZ_{ts}$ is 0, which is right because its score
    was the constant $-\infty$, which depends on neither $Q$ nor $K$.

    Args:
        dout: gradient with respect to the output, shape `(..., T, Dv)`.
        q: queries, shape `(..., T, dk)`.
        k: keys, shape `(..., S, dk)`.
        v: values, shape `(..., S, Dv)`.
        weights: the forward's attention weights $A$, shape `(..., T, S)`.

    Returns:
        `(dq, dk, dv)` with the shapes of `q`, `k` and `v`.

    Raises:
        ShapeError: if the shapes disagree (all leading axes must be equal, not broadcast).
        ValueError: if an input contains NaN or infinity, or a row of `weights` is not a
            probability distribution (negative, or not summing to 1).

    Examples:
        >>> dq, dk, dv = scaled_dot_product_attention_backward(
        ...     [[1.0]], [[0.0]], [[1.0], [2.0]], [[3.0], [5.0]], [[0.5, 0.5]])
        >>> dq, dv.ravel()
        (array([[0.5]]), array([0.5, 0.5]))
    """
    # --8<-- [start:sdpa-backward-body]
    q = as_float_array(q, name="q", expected="(..., T, dk)", min_ndim=2)
    k = as_float_array(k, name="k", expected="(..., S, dk)", min_ndim=2)
    v = as_float_array(v, name="v", expected="(..., S, Dv)", min_ndim=2)
    *lead, T, d_k = q.shape
    S, Dv = k.shape[-2], v.shape[-1]
    _same_shape("k", k, (*lead, S, d_k), "(..., S, dk)")
    _same_shape("v", v, (*lead, S, Dv), "(..., S, Dv)")
    a = as_float_array(weights, name="weights", expected="(..., T, S)", min_ndim=2)
    _same_shape("weights", a, (*lead, T, S), "(..., T, S)")
    if a.min() < 0 or np.abs(a.sum(axis=-1) - 1.0).max() > 1e-6:
        rows = "every row >= 0 and summing to 1"
        raise ValueError(f"weights must be the forward's attention weights: {rows}")
    dout = as_float_array(dout, name="dout", expected="(..., T, Dv)", min_ndim=2)
    _same_shape("dout", dout, (*lead, T, Dv), "(..., T, Dv)")
    dv = np.swapaxes(a, -1, -2) @ dout  # (..., S, Dv)
    da = dout @ np.swapaxes(v, -1, -2)  # (..., T, S)
    dz = softmax_backward(da, a, axis=-1)  # (..., T, S): gradient of the scores
    ds = np.divide(dz, np.sqrt(d_k), out=dz)  # (..., T, S): gradient of Q K^T, in place
    dq = ds @ k  # (..., T, dk)
    dk = np.swapaxes(ds, -1, -2) @ q  # (..., S, dk)
    return dq, dk, dv
    # --8<-- [end:sdpa-backward-body]


class MHACache(NamedTuple):
    """What the multi-head attention forward keeps for its backward pass."""

    x: Array
    """`(..., T, D)`: the input."""
    w_q: Array
    """`(D, D)`."""
    w_k: Array
    """`(D, D)`."""
    w_v: Array
    """`(D, D)`."""
    w_o: Array
    """`(D, D)`."""
    q: Array
    """`(..., H, T, dk)`: queries split into heads."""
    k: Array
    """`(..., H, T, dk)`: keys split into heads."""
    v: Array
    """`(..., H, T, dk)`: values split into heads."""
    weights: Array
    """`(..., H, T, T)`: attention weights per head."""
    merged: Array
    """`(..., T, D)`: the heads' outputs concatenated, the input of $W_O$."""


@guard
@vouches
# --8<-- [start:mha-forward]
def multi_head_attention_forward(
    x: ArrayLike,
    w_q: ArrayLike,
    w_k: ArrayLike,
    w_v: ArrayLike,
    w_o: ArrayLike,
    *,
    num_heads: int,
    mask: ArrayLike | None = None,
) -> tuple[Array, MHACache]:
    # --8<-- [end:mha-forward]
    r"""Multi-head self-attention that also returns the cache its backward pass needs.

    Computes exactly [multi_head_attention][llmath.attention.multihead.multi_head_attention]
    with `context=None`: $\operatorname{MHA}(X) = [\operatorname{head}_1 \cdots
    \operatorname{head}_H]\, W_O$ with $\operatorname{head}_h = \operatorname{Attention}(
    XW_Q, XW_K, XW_V)_h$.

    Args:
        x: shape `(..., T, D)`.
        w_q: shape `(D, D)`.
        w_k: shape `(D, D)`.
        w_v: shape `(D, D)`.
        w_o: shape `(D, D)`.
        num_heads: `H`, which must divide `D` (keyword-only).
        mask: optional boolean mask broadcastable to `(..., H, T, T)`; `True` = may attend.

    Returns:
        `(out, cache)`: `out` of shape `(..., T, D)` and an
            [MHACache][llmath.calculus.attention_grad.MHACache].

    Raises:
        ShapeError: if a weight is not `(D, D)` or `H` does not divide `D`.
        ValueError: if an input contains NaN or infinity.

    Examples:
        >>> out, cache = multi_head_attention_forward(np.eye(2), *[np.eye(2)] * 4, num_heads=2)
        >>> out.round(3), cache.weights.shape
        (array([[0.731, 0.5  ],
               [0.5  , 0.731]]), (2, 2, 2))
    """
    # --8<-- [start:mha-forward-body]
    x = as_float_array(x, name="x", expected="(..., T, D)", min_ndim=2)
    D, H = x.shape[-1], check_positive_int(num_heads, name="num_heads")
    wq, wk, wv, wo = (
        _param(w, n, (D, D), "(D, D)")
        for n, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o))
    )
    if D % H:
        raise ShapeError(f"num_heads H={H} must divide the width D={D} of x (..., T, D)")
    q = split_heads(x @ wq, H)  # (..., H, T, dk)
    k = split_heads(x @ wk, H)  # (..., H, T, dk)
    v = split_heads(x @ wv, H)  # (..., H, T, dk)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (..., H, T, dk)
    merged = merge_heads(heads)  # (..., T, D)
    out = merged @ wo  # (..., T, D)
    return out, MHACache(x, wq, wk, wv, wo, q, k, v, weights, merged)
    # --8<-- [end:mha-forward-body]


@guard
@vouches
# --8<-- [start:mha-backward]
def multi_head_attention_backward(
    dout: ArrayLike, cache: MHACache
) -> tuple[Array, Array, Array, Array, Array]:
    # --8<-- [end:mha-backward]
    r"""Backpropagate through multi-head self-attention.

    Run the forward in reverse: $W_O$ is a linear map, the heads are a reshape (so the gradient
    is reshaped the same way), every head is one attention, and $X$ feeds all three
    projections, so its gradient is the sum of the three:

    $$
    dX = dQ\, W_Q^\top + dK\, W_K^\top + dV\, W_V^\top .
    $$

    Args:
        dout: gradient with respect to the output, shape `(..., T, D)`.
        cache: the [MHACache][llmath.calculus.attention_grad.MHACache] from
            [multi_head_attention_forward][llmath.calculus.attention_grad.multi_head_attention_forward].

    Returns:
        `(dx, dw_q, dw_k, dw_v, dw_o)` of shapes `(..., T, D)` and four times `(D, D)`.

    Raises:
        ShapeError: if `dout` does not have the output's shape.
        ValueError: if `dout` is not a finite real array or `cache` is not an `MHACache`.

    Examples:
        >>> out, cache = multi_head_attention_forward(np.eye(2), *[np.eye(2)] * 4, num_heads=1)
        >>> [g.shape for g in multi_head_attention_backward(np.ones((2, 2)), cache)]
        [(2, 2), (2, 2), (2, 2), (2, 2), (2, 2)]
    """
    # --8<-- [start:mha-backward-body]
    cache = check_cache(cache, MHACache, name="cache")
    dout = as_float_array(dout, name="dout", expected="(..., T, D)", min_ndim=2)
    _same_shape("dout", dout, cache.x.shape, "(..., T, D)")
    H = cache.q.shape[-3]
    d_merged, dw_o, _ = linear_backward(dout, cache.merged, cache.w_o)  # (..., T, D)
    d_heads = split_heads(d_merged, H)  # (..., H, T, dk): undoes merge_heads
    dq, dk, dv = scaled_dot_product_attention_backward(
        d_heads, cache.q, cache.k, cache.v, cache.weights
    )  # each (..., H, T, dk)
    dx_q, dw_q, _ = linear_backward(merge_heads(dq), cache.x, cache.w_q)  # (..., T, D)
    dx_k, dw_k, _ = linear_backward(merge_heads(dk), cache.x, cache.w_k)  # (..., T, D)
    dx_v, dw_v, _ = linear_backward(merge_heads(dv), cache.x, cache.w_v)  # (..., T, D)
    return dx_q + dx_k + dx_v, dw_q, dw_k, dw_v, dw_o  # x fed all three: add
    # --8<-- [end:mha-backward-body]
