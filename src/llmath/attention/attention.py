r"""Scaled dot-product attention and the causal mask (Vaswani et al., 2017, eq. 1)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_bool_mask,
    as_float_array,
    broadcast_leading,
    check_positive_int,
    guard,
    vouches,
)
from llmath.attention.softmax import softmax

__all__ = ["AttentionResult", "causal_mask", "scaled_dot_product_attention"]


class AttentionResult(NamedTuple):
    """What attention returns: the mixed values and the weights that mixed them."""

    output: NDArray[np.float64]
    """`(..., T, Dv)`: one output row per query."""
    weights: NDArray[np.float64]
    """`(..., T, S)`: row $t$ is the distribution over keys used by query $t$."""


@guard
def causal_mask(T: int, S: int | None = None) -> NDArray[np.bool_]:
    r"""Return the causal mask: query $t$ may attend to key $s$ only if $s \le t$.

    $$
    M_{ts} = \begin{cases} \text{True} & s \le t + (S - T) \\ \text{False} & \text{otherwise}
    \end{cases}
    $$

    With $S > T$ the queries are the *last* $T$ of $S$ positions (decoding with a cache), which is
    the convention of `torch.nn.functional.scaled_dot_product_attention(is_causal=True)` only when
    $S = T$; here the offset $S - T$ keeps every query able to see itself.

    Args:
        T: number of query positions.
        S: number of key positions; defaults to `T`. Must satisfy `S >= T`.

    Returns:
        Boolean array of shape `(T, S)`; `True` means "may attend". This matches the boolean
            `attn_mask` of `torch.nn.functional.scaled_dot_product_attention`, and is the
            *opposite* of the boolean `attn_mask` of `torch.nn.MultiheadAttention`, where
            `True` means "masked" (pass `~causal_mask(T)` there).

    Raises:
        ValueError: if `T` or `S` is not a positive integer, or `S < T`.

    Examples:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    T = check_positive_int(T, name="T")
    S = T if S is None else check_positive_int(S, name="S")
    if S < T:
        raise ValueError(f"causal_mask needs S >= T so every query sees itself; got T={T}, S={S}")
    return np.tril(np.ones((T, S), dtype=bool), k=S - T)


@guard
@vouches
# --8<-- [start:sdpa]
def scaled_dot_product_attention(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, mask: ArrayLike | None = None
) -> AttentionResult:
    # --8<-- [end:sdpa]
    r"""Mix the value rows, weighting each by how well its key matches the query.

    $$
    A = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right), \qquad
    \operatorname{Attention}(Q, K, V) = A V ,
    $$

    with the softmax taken over keys (each row of $A$ sums to 1) and $d_k$ the width of a query.
    Masked entries get score $-\infty$ before the softmax, i.e. weight exactly 0. Dividing by
    $\sqrt{d_k}$ keeps the scores' variance near 1 when $q$ and $k$ have unit-variance entries,
    so the softmax does not saturate as the width grows.

    Args:
        q: queries, shape `(..., T, dk)`.
        k: keys, shape `(..., S, dk)`; leading axes broadcast against `q`'s.
        v: values, shape `(..., S, Dv)`.
        mask: optional boolean array broadcastable to `(..., T, S)`; `True` means "may attend"
            (passed to [softmax][llmath.attention.softmax.softmax] as `where`; the convention of
            `torch.nn.functional.scaled_dot_product_attention`, the opposite of
            `torch.nn.MultiheadAttention`'s). Every query must be allowed at least one key.

    Returns:
        `AttentionResult(output, weights)` with `output` of shape `(..., T, Dv)` and `weights`
            of shape `(..., T, S)`.

    Raises:
        ShapeError: if ranks or axis lengths do not match, or leading axes do not broadcast.
        ValueError: if an input is not a finite real array, the mask is not boolean, or it
            leaves a query with no key.

    Examples:
        >>> q = [[1.0, 0.0]]
        >>> k = [[1.0, 0.0], [0.0, 1.0]]
        >>> v = [[10.0], [20.0]]
        >>> out, w = scaled_dot_product_attention(q, k, v)
        >>> w.round(4), out.round(4)
        (array([[0.6698, 0.3302]]), array([[13.3024]]))

    Vaswani et al., "Attention Is All You Need" (2017), section 3.2.1, equation (1).
    """
    # --8<-- [start:sdpa-body]
    q = as_float_array(q, name="q", expected="(..., T, dk)", min_ndim=2)
    k = as_float_array(k, name="k", expected="(..., S, dk)", min_ndim=2)
    v = as_float_array(v, name="v", expected="(..., S, Dv)", min_ndim=2)
    if q.shape[-1] != k.shape[-1]:
        got = f"got q {q.shape} and k {k.shape}"
        raise ShapeError(f"q (..., T, dk) and k (..., S, dk) must share dk; {got}")
    if k.shape[-2] != v.shape[-2]:
        got = f"got k {k.shape} and v {v.shape}"
        raise ShapeError(f"k (..., S, dk) and v (..., S, Dv) must share S; {got}")
    # pairwise: all three broadcast; lead is the scores' leading axes
    lead = broadcast_leading("q", q.shape, "k", k.shape, skip=2)
    broadcast_leading("k", k.shape, "v", v.shape, skip=2)
    broadcast_leading("q", q.shape, "v", v.shape, skip=2)
    if mask is not None:  # must fit the scores (..., T, S)
        mask = as_bool_mask(mask, name="mask", shape=(*lead, q.shape[-2], k.shape[-2]))
        if not mask.any(axis=-1).all():
            raise ValueError(
                "mask leaves a query with no key to attend to (a row of all False)",
            )
    scores = q @ np.swapaxes(k, -1, -2)  # (..., T, S)
    scores /= np.sqrt(q.shape[-1])  # in place: no second (..., T, S) array
    # masked weights are exactly 0
    weights = softmax(scores, axis=-1, where=mask)  # (..., T, S)
    return AttentionResult(weights @ v, weights)  # (..., T, Dv), (..., T, S)


# --8<-- [end:sdpa-body]
