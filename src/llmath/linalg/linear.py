r"""Linear and affine maps on row vectors, ReLU, and collapsing a stack of affine maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, guard

__all__ = ["compose_affine", "linear", "relu"]


@guard
# --8<-- [start:linear]
def linear(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
) -> NDArray[np.float64]:
    # --8<-- [end:linear]
    r"""Apply the affine map $x \mapsto xW + b$ to each row vector.

    $$
    y = x W + b, \qquad x \in \mathbb{R}^{1 \times N},\; W \in \mathbb{R}^{N \times M},\;
    b \in \mathbb{R}^{1 \times M} .
    $$

    The book writes vectors as rows, as the transformer paper does, so a stack of $T$ tokens
    $X \in \mathbb{R}^{T \times N}$ maps in one product, $XW + b$. The column form $Wx + b$
    is the transpose of the same map; `torch.nn.Linear` stores $W^\top$, shape `(M, N)`.

    Args:
        x: inputs, shape `(..., N)`.
        w: weight, shape `(N, M)`.
        b: optional bias, shape `(M,)`.

    Returns:
        Shape `(..., M)`.

    Raises:
        ShapeError: if the shapes do not chain.
        ValueError: if an input contains NaN or infinity.

    Examples:
        >>> linear([1.0, 2.0], [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], [0.5, 0.5, 0.5])
        array([1.5, 2.5, 3.5])
    """
    # --8<-- [start:linear-body]
    x = as_float_array(x, name="x", expected="(..., N)", min_ndim=1)
    w = as_float_array(w, name="w", expected="(N, M)", ndim=2)
    if x.shape[-1] != w.shape[0]:
        raise ShapeError(
            f"x (..., N) and w (N, M) must share N; got x {x.shape} and w {w.shape}",
        )
    y = x @ w  # (..., M)
    if b is not None:
        b = as_float_array(b, name="b", expected="(M,)", ndim=1)
        if b.shape[0] != w.shape[1]:
            raise ShapeError(f"b must have shape (M,) = ({w.shape[1]},); got {b.shape}")
        y = y + b  # (..., M)
    return y
    # --8<-- [end:linear-body]


@guard
def relu(x: ArrayLike) -> NDArray[np.float64]:
    r"""Return $\max(0, x)$ elementwise: the simplest non-linearity.

    $$
    \operatorname{ReLU}(x) = \max(0, x) .
    $$

    Args:
        x: any shape `(...)`.

    Returns:
        Same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> relu([-1.0, 0.0, 2.0])
        array([0., 0., 2.])
    """
    return np.maximum(as_float_array(x, name="x", expected="(...)"), 0.0)


@guard
# --8<-- [start:compose]
def compose_affine(
    layers: Sequence[tuple[ArrayLike, ArrayLike]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # --8<-- [end:compose]
    r"""Collapse a stack of affine maps, applied first to last, into one affine map.

    $$
    (x W_1 + b_1) W_2 + b_2 = x \underbrace{W_1 W_2}_{W} + \underbrace{b_1 W_2 + b_2}_{b} ,
    $$

    and by induction any depth: without a non-linearity between them, $L$ layers compute
    exactly what one layer of the same input and output width computes.

    Args:
        layers: a non-empty sequence of `(w, b)` pairs; `w` of shape `(N_l, N_{l+1})` and `b`
            of shape `(N_{l+1},)`.

    Returns:
        `(W, b)` with `W` of shape `(N_1, N_{L+1})` and `b` of shape `(N_{L+1},)`.

    Raises:
        ValueError: if `layers` is not a non-empty sequence of `(w, b)` pairs of finite real
            arrays.
        ShapeError: if consecutive shapes do not chain.

    Examples:
        >>> W, b = compose_affine([([[2.0]], [1.0]), ([[3.0]], [-1.0])])
        >>> W, b
        (array([[6.]]), array([2.]))
    """
    # --8<-- [start:compose-body]
    # as it arrived: a caller may pass anything, a string included
    given: object = layers
    if (
        not isinstance(given, Sequence)
        or isinstance(given, str | bytes)  # a str is a Sequence of strs
        or len(given) == 0
    ):
        raise ValueError(
            f"layers must be a non-empty sequence of (w, b) pairs; got {layers!r:.60}",
        )
    W = b = None
    for i, layer in enumerate(layers):
        if not isinstance(layer, Sequence) or isinstance(layer, str) or len(layer) != 2:
            raise ValueError(f"layers[{i}] must be a (w, b) pair; got {layer!r:.60}")
        w_i, b_i = layer
        w_i = as_float_array(
            w_i,
            name=f"layers[{i}].w",
            expected="(N_l, N_{l+1})",
            ndim=2,
        )
        b_i = as_float_array(
            b_i,
            name=f"layers[{i}].b",
            expected="(N_{l+1},)",
            ndim=1,
        )
        if b_i.shape[0] != w_i.shape[1]:
            raise ShapeError(
                f"layers[{i}]: b must have shape ({w_i.shape[1]},); got {b_i.shape}",
            )
        if W is None or b is None:
            W, b = w_i.copy(), b_i.copy()  # never hand back the caller's own arrays
            continue
        if W.shape[1] != w_i.shape[0]:
            raise ShapeError(
                f"layers[{i}].w must have {W.shape[1]} rows "
                f"to follow the previous layer; got shape {w_i.shape}"
            )
        W, b = W @ w_i, b @ w_i + b_i  # (N_1, N_{i+1}), (N_{i+1},)
    assert W is not None and b is not None
    return W, b
    # --8<-- [end:compose-body]
