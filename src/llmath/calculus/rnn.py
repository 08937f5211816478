r"""A tanh recurrent network and its backward pass through time (BPTT)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_cache, guard
from llmath.calculus.activations import tanh_grad

__all__ = ["RNNCache", "rnn_backward", "rnn_forward"]

Array = NDArray[np.float64]


class RNNCache(NamedTuple):
    """Everything `rnn_backward` needs from the forward pass."""

    x: Array
    """`(..., T, N)`: the inputs."""
    h: Array
    r"""`(..., T + 1, D)`: the states $h_0, h_1, \dots, h_T$ (the initial state first)."""
    a: Array
    r"""`(..., T, D)`: the pre-activations $a_t$, with $h_t = \tanh(a_t)$."""
    w_xh: Array
    """`(N, D)`."""
    w_hh: Array
    """`(D, D)`."""


def _check(name: str, a: Array, shape: tuple[int, ...], expected: str) -> None:
    if a.shape != shape:
        raise ShapeError(f"{name} must have shape {expected} = {shape}; got {a.shape}")


@guard
# --8<-- [start:rnn-forward]
def rnn_forward(
    x: ArrayLike, h0: ArrayLike, w_xh: ArrayLike, w_hh: ArrayLike, b: ArrayLike
) -> tuple[Array, RNNCache]:
    # --8<-- [end:rnn-forward]
    r"""Run the recurrence $h_t = \tanh(h_{t-1} W_{hh} + x_t W_{xh} + b)$ for $t = 1, \dots, T$.

    $$
    a_t = h_{t-1} W_{hh} + x_t W_{xh} + b, \qquad h_t = \tanh(a_t) ,
    $$

    with row vectors $x_t \in \mathbb{R}^{1 \times N}$ and $h_t \in \mathbb{R}^{1 \times D}$.
    This is `torch.nn.RNN` (one layer, `nonlinearity="tanh"`, `batch_first=True`) with these
    parameters: $W_{xh}$ is `weight_ih_l0.T`, $W_{hh}$ is `weight_hh_l0.T` and $b$ is
    `bias_ih_l0 + bias_hh_l0`.

    Args:
        x: inputs, shape `(..., T, N)`.
        h0: initial state, shape `(..., D)`.
        w_xh: input weight, shape `(N, D)`.
        w_hh: recurrent weight, shape `(D, D)`.
        b: bias, shape `(D,)`.

    Returns:
        `(h, cache)`: the states $h_1, \dots, h_T$, shape `(..., T, D)`, and an
            [RNNCache][llmath.calculus.rnn.RNNCache].

    Raises:
        ShapeError: if the shapes do not chain.
        ValueError: if an input contains NaN or infinity.

    Examples:
        >>> h, _ = rnn_forward([[1.0], [0.0]], [0.0], [[0.5]], [[2.0]], [0.0])
        >>> h.round(4)
        array([[0.4621],
               [0.7279]])

    Elman, "Finding Structure in Time" (1990); Werbos, "Backpropagation through time" (1990).
    """
    # --8<-- [start:rnn-forward-body]
    x = as_float_array(x, name="x", expected="(..., T, N)", min_ndim=2)
    w_xh = as_float_array(w_xh, name="w_xh", expected="(N, D)", ndim=2)
    N, D = w_xh.shape
    w_hh = as_float_array(w_hh, name="w_hh", expected="(D, D)", ndim=2)
    b = as_float_array(b, name="b", expected="(D,)", ndim=1)
    h0 = as_float_array(h0, name="h0", expected="(..., D)", min_ndim=1)
    _check("x", x, (*x.shape[:-1], N), "(..., T, N)")
    _check("w_hh", w_hh, (D, D), "(D, D)")
    _check("b", b, (D,), "(D,)")
    _check("h0", h0, (*x.shape[:-2], D), "(..., D) with x's leading axes")
    T = x.shape[-2]
    xw = x @ w_xh + b  # (..., T, D): the input part of every a_t, in one product
    h = np.empty((*x.shape[:-2], T + 1, D))  # (..., T + 1, D)
    a = np.empty((*x.shape[:-2], T, D))  # (..., T, D)
    h[..., 0, :] = h0
    for t in range(T):
        a[..., t, :] = h[..., t, :] @ w_hh + xw[..., t, :]  # (..., D)
        h[..., t + 1, :] = np.tanh(a[..., t, :])  # (..., D)
    return h[..., 1:, :].copy(), RNNCache(x, h, a, w_xh, w_hh)
    # --8<-- [end:rnn-forward-body]


@guard
# --8<-- [start:rnn-backward]
def rnn_backward(
    dh: ArrayLike,
    cache: RNNCache,
) -> tuple[Array, Array, Array, Array, Array]:
    # --8<-- [end:rnn-backward]
    r"""Backpropagate through time: gradients for $x$, $h_0$, $W_{xh}$, $W_{hh}$ and $b$.

    Going backwards from $t = T$, the gradient reaching $h_t$ is what the loss sends to it
    directly plus what comes back from $h_{t+1}$:

    $$
    g_t = \frac{\partial \mathcal{L}}{\partial h_t} + \delta_{t+1} W_{hh}^\top, \qquad
    \delta_t = g_t \odot \tanh'(a_t), \qquad \delta_{T+1} W_{hh}^\top := 0 ,
    $$

    $$
    \frac{\partial \mathcal{L}}{\partial W_{hh}} = \sum_t h_{t-1}^\top \delta_t, \quad
    \frac{\partial \mathcal{L}}{\partial W_{xh}} = \sum_t x_t^\top \delta_t, \quad
    \frac{\partial \mathcal{L}}{\partial b} = \sum_t \delta_t, \quad
    \frac{\partial \mathcal{L}}{\partial x_t} = \delta_t W_{xh}^\top, \quad
    \frac{\partial \mathcal{L}}{\partial h_0} = \delta_1 W_{hh}^\top .
    $$

    Each step back multiplies by $\operatorname{diag}(\tanh'(a_t))\,W_{hh}^\top$, so over many
    steps the gradient shrinks or grows geometrically: the vanishing and exploding gradient.

    Args:
        dh: gradient of the loss with respect to every state $h_1, \dots, h_T$, shape
            `(..., T, D)` (zeros where the loss does not use a state).
        cache: the [RNNCache][llmath.calculus.rnn.RNNCache] from `rnn_forward`.

    Returns:
        `(dx, dh0, dw_xh, dw_hh, db)` of shapes `(..., T, N)`, `(..., D)`, `(N, D)`,
            `(D, D)` and `(D,)`; weight gradients are summed over all leading axes.

    Raises:
        ShapeError: if `dh` does not have the shape of the forward output.
        ValueError: if `dh` is not a finite real array or `cache` is not an `RNNCache`.

    Examples:
        >>> h, cache = rnn_forward([[1.0], [0.0]], [0.0], [[0.5]], [[2.0]], [0.0])
        >>> dx, dh0, dw_xh, dw_hh, db = rnn_backward([[0.0], [1.0]], cache)
        >>> dh0.round(4)
        array([1.4791])
    """
    # --8<-- [start:rnn-backward-body]
    x, h, a, w_xh, w_hh = check_cache(cache, RNNCache, name="cache")
    dh = as_float_array(dh, name="dh", expected="(..., T, D)", min_ndim=2)
    _check("dh", dh, a.shape, "(..., T, D), the shape of rnn_forward's output")
    N, D = w_xh.shape
    d = tanh_grad(a)  # (..., T, D): tanh'(a_t) for every step at once
    delta = np.empty_like(a)  # (..., T, D)
    carry = np.zeros((*a.shape[:-2], D))  # (..., D): gradient arriving from step t + 1
    for t in reversed(range(a.shape[-2])):
        g = dh[..., t, :] + carry  # (..., D)
        delta[..., t, :] = g * d[..., t, :]  # (..., D)
        carry = delta[..., t, :] @ w_hh.T  # (..., D): gradient for h_{t-1}
    dx = delta @ w_xh.T  # (..., T, N)
    dw_xh = x.reshape(-1, N).T @ delta.reshape(-1, D)  # (N, D)
    dw_hh = h[..., :-1, :].reshape(-1, D).T @ delta.reshape(-1, D)  # (D, D)
    db = delta.reshape(-1, D).sum(axis=0)  # (D,)
    return dx, carry, dw_xh, dw_hh, db
    # --8<-- [end:rnn-backward-body]
