r"""Multi-head attention: split the width into heads, attend in each, concatenate, project."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    broadcast_leading,
    check_positive_int,
    guard,
    vouches,
)
from llmath.attention.attention import AttentionResult, scaled_dot_product_attention

__all__ = ["merge_heads", "multi_head_attention", "split_heads"]


@guard
def split_heads(x: ArrayLike, num_heads: int) -> NDArray[np.float64]:
    r"""Reshape `(..., T, D)` into `H` heads of width `dk = D / H`: `(..., H, T, dk)`.

    Head $h = 0, \dots, H - 1$ (0-based, as in the code) gets columns $h d_k, \dots,
    (h+1) d_k - 1$ of the width, the same split as `torch.nn.MultiheadAttention`.

    Args:
        x: shape `(..., T, D)`.
        num_heads: `H`, which must divide `D`.

    Returns:
        Shape `(..., H, T, dk)`.

    Raises:
        ShapeError: if `x` has fewer than 2 axes or `H` does not divide `D`.

    Examples:
        >>> split_heads(np.arange(4.0).reshape(1, 4), 2)[:, 0]
        array([[0., 1.],
               [2., 3.]])
    """
    x = as_float_array(x, name="x", expected="(..., T, D)", min_ndim=2)
    H = check_positive_int(num_heads, name="num_heads")
    *lead, T, D = x.shape
    if D % H:
        raise ShapeError(f"num_heads H={H} must divide the width D={D} of x (..., T, D)")
    return np.swapaxes(x.reshape(*lead, T, H, D // H), -3, -2)  # (..., H, T, dk)


@guard
def merge_heads(x: ArrayLike) -> NDArray[np.float64]:
    r"""Undo [split_heads][llmath.attention.multihead.split_heads]: `(..., H, T, dk)` to `(..., T, H dk)`.

    Args:
        x: shape `(..., H, T, dk)`.

    Returns:
        Shape `(..., T, D)` with `D = H dk`, heads concatenated in order.

    Raises:
        ShapeError: if `x` has fewer than 3 axes.

    Examples:
        >>> merge_heads(split_heads(np.arange(8.0).reshape(2, 4), 2)).shape
        (2, 4)
    """
    x = as_float_array(x, name="x", expected="(..., H, T, dk)", min_ndim=3)
    *lead, H, T, dk = x.shape
    return np.swapaxes(x, -3, -2).reshape(*lead, T, H * dk)  # (..., T, D)


@guard
@vouches
# --8<-- [start:mha]
def multi_head_attention(
    x: ArrayLike,
    w_q: ArrayLike,
    w_k: ArrayLike,
    w_v: ArrayLike,
    w_o: ArrayLike,
    *,
    num_heads: int,
    context: ArrayLike | None = None,
    mask: ArrayLike | None = None,
) -> AttentionResult:
    # --8<-- [end:mha]
    r"""Attend with `H` heads in parallel and mix their outputs with $W_O$.

    $$
    \begin{aligned}
    Q &= X W_Q,\quad K = C W_K,\quad V = C W_V, \qquad
    \operatorname{head}_h = \operatorname{Attention}(Q_h, K_h, V_h), \\
    \operatorname{MHA}(X, C) &= \bigl[\operatorname{head}_1 \cdots \operatorname{head}_H\bigr] W_O ,
    \end{aligned}
    $$

    where $Q_h$ is columns $(h-1) d_k$ to $h d_k - 1$ of $Q$ (heads numbered $1, \dots, H$
    here, $0, \dots, H - 1$ in the code) and $C = X$ for self-attention.
    Weights act on row vectors from the right, as in the paper; all four are `(D, D)`.
    No biases: add them to the projections yourself if a model has them.

    Args:
        x: queries' input, shape `(..., T, D)`.
        w_q: shape `(D, D)`.
        w_k: shape `(D, D)`.
        w_v: shape `(D, D)`.
        w_o: shape `(D, D)`.
        num_heads: `H`, which must divide `D` (keyword-only).
        context: keys' and values' input, shape `(..., S, D)`, leading axes broadcasting
            against `x`'s; defaults to `x` (self-attention).
        mask: optional boolean mask broadcastable to `(..., H, T, S)`, e.g. a `(T, S)`
            [causal_mask][llmath.attention.attention.causal_mask]; `True` means "may attend"
            (the opposite of `torch.nn.MultiheadAttention`'s boolean `attn_mask`).

    Returns:
        `AttentionResult(output, weights)`: `output` of shape `(..., T, D)` and per-head
            `weights` of shape `(..., H, T, S)`.

    Raises:
        ShapeError: if a weight is not `(D, D)`, `H` does not divide `D`, the inputs'
            widths differ or their leading axes do not broadcast.
        ValueError: if an input is not a finite real array or `num_heads` is not a positive
            integer.

    Examples:
        >>> x = np.eye(2)
        >>> out, w = multi_head_attention(x, np.eye(2), np.eye(2), np.eye(2), np.eye(2), num_heads=2)
        >>> w.shape, out.round(3)
        ((2, 2, 2), array([[0.731, 0.5  ],
               [0.5  , 0.731]]))

    Vaswani et al., "Attention Is All You Need" (2017), section 3.2.2.
    """
    # --8<-- [start:mha-body]
    x = as_float_array(x, name="x", expected="(..., T, D)", min_ndim=2)
    c = (
        x
        if context is None
        else as_float_array(context, name="context", expected="(..., S, D)", min_ndim=2)
    )
    D = x.shape[-1]
    if c.shape[-1] != D:
        raise ShapeError(
            f"context (..., S, D) must have width D={D} like x; got {c.shape}",
        )
    broadcast_leading("x", x.shape, "context", c.shape, skip=2)
    H = check_positive_int(num_heads, name="num_heads")
    if D % H:
        raise ShapeError(
            f"num_heads H={H} must divide the width D={D} of x (..., T, D)",
        )
    ws = []
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o)):
        w = as_float_array(w, name=name, expected="(D, D)", ndim=2)
        if w.shape != (D, D):
            raise ShapeError(
                f"{name} must have shape (D, D) = ({D}, {D}); got {w.shape}",
            )
        ws.append(w)
    wq, wk, wv, wo = ws
    q = split_heads(x @ wq, H)  # (..., H, T, dk)
    k = split_heads(c @ wk, H)  # (..., H, S, dk)
    v = split_heads(c @ wv, H)  # (..., H, S, dk)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (..., H, T, dk)
    merged = merge_heads(heads)  # (..., T, D)
    return AttentionResult(merged @ wo, weights)  # (..., T, D), (..., H, T, S)


# --8<-- [end:mha-body]
