"""Tests for llmath.calculus.rnn: a tanh RNN and backpropagation through time."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath import ShapeError
from llmath.calculus.rnn import rnn_backward, rnn_forward

B, T, N, D = 2, 5, 3, 4


def _params(rng: np.random.Generator, scale: float = 1.0):
    x = rng.standard_normal((B, T, N))  # (B, T, N)
    h0 = rng.standard_normal((B, D))  # (B, D)
    w_xh = rng.standard_normal((N, D)) * scale / math.sqrt(N)
    w_hh = rng.standard_normal((D, D)) * scale / math.sqrt(D)
    b = rng.standard_normal(D)
    return x, h0, w_xh, w_hh, b


def _torch_rnn(x, h0, w_xh, w_hh, b):
    """torch.nn.RNN in float64 with llmath's weights: returns (module, x, h0, output)."""
    rnn = torch.nn.RNN(N, D, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(w_xh.T))  # torch stores (D, N)
        rnn.weight_hh_l0.copy_(torch.tensor(w_hh.T))
        rnn.bias_ih_l0.copy_(torch.tensor(b))
        rnn.bias_hh_l0.zero_()
    xt = torch.tensor(x, requires_grad=True)
    ht = torch.tensor(h0[None], requires_grad=True)  # (layers = 1, B, D)
    out, _ = rnn(xt, ht)
    return rnn, xt, ht, out


def test_hand_value() -> None:
    # D = N = 1: h1 = tanh(0.5), h2 = tanh(2 h1); dh2/dh0 = 2 (1 - h2^2) * 2 (1 - h1^2).
    h, cache = rnn_forward([[1.0], [0.0]], [0.0], [[0.5]], [[2.0]], [0.0])
    h1, h2 = math.tanh(0.5), math.tanh(2 * math.tanh(0.5))
    np.testing.assert_allclose(h[:, 0], [h1, h2], rtol=1e-15)
    dx, dh0, dw_xh, dw_hh, db = rnn_backward([[0.0], [1.0]], cache)
    np.testing.assert_allclose(dh0, [4 * (1 - h2**2) * (1 - h1**2)], rtol=1e-14)
    np.testing.assert_allclose(dw_hh, [[h1 * (1 - h2**2)]], rtol=1e-14)  # h0 = 0 adds nothing
    delta2, delta1 = 1 - h2**2, 2 * (1 - h2**2) * (1 - h1**2)
    np.testing.assert_allclose(dx[:, 0], [0.5 * delta1, 0.5 * delta2], rtol=1e-14)
    np.testing.assert_allclose(dw_xh, [[delta1]], rtol=1e-14)  # x_1 = 1, x_2 = 0
    np.testing.assert_allclose(db, [delta1 + delta2], rtol=1e-14)


def test_forward_matches_torch(rng: np.random.Generator) -> None:
    params = _params(rng)
    h, cache = rnn_forward(*params)
    _, _, _, out = _torch_rnn(*params)
    assert h.shape == (B, T, D) and cache.h.shape == (B, T + 1, D)
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-12)


def test_backward_matches_torch_autograd(rng: np.random.Generator) -> None:
    params = _params(rng)
    dh = rng.standard_normal((B, T, D))
    _, cache = rnn_forward(*params)
    dx, dh0, dw_xh, dw_hh, db = rnn_backward(dh, cache)
    rnn, xt, ht, out = _torch_rnn(*params)
    (out * torch.tensor(dh)).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dh0, ht.grad.numpy()[0], rtol=1e-10)
    np.testing.assert_allclose(dw_xh, rnn.weight_ih_l0.grad.numpy().T, rtol=1e-10)
    np.testing.assert_allclose(dw_hh, rnn.weight_hh_l0.grad.numpy().T, rtol=1e-10)
    np.testing.assert_allclose(db, rnn.bias_ih_l0.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(db, rnn.bias_hh_l0.grad.numpy(), rtol=1e-10)


def test_backward_matches_central_differences(rng: np.random.Generator) -> None:
    params = list(_params(rng))
    dh = rng.standard_normal((B, T, D))
    _, cache = rnn_forward(*params)
    grads = rnn_backward(dh, cache)  # dx, dh0, dw_xh, dw_hh, db: same order as params
    h_step = 1e-6
    for i, grad in enumerate(grads):
        fd = np.zeros_like(params[i])
        for idx in np.ndindex(params[i].shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[i][idx] += h_step
            minus[i][idx] -= h_step
            fd[idx] = (np.sum(rnn_forward(*plus)[0] * dh) - np.sum(rnn_forward(*minus)[0] * dh)) / (
                2 * h_step
            )
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_unbatched_and_inputs_not_mutated(rng: np.random.Generator) -> None:
    x, h0, w_xh, w_hh, b = _params(rng)
    copies = [a.copy() for a in (x, h0, w_xh, w_hh, b)]
    h, _ = rnn_forward(x, h0, w_xh, w_hh, b)
    h_single, _ = rnn_forward(x[1], h0[1], w_xh, w_hh, b)  # (T, N) and (D,)
    np.testing.assert_allclose(h_single, h[1], rtol=1e-15)
    for a, c in zip((x, h0, w_xh, w_hh, b), copies, strict=True):
        np.testing.assert_array_equal(a, c)


@given(arrays(np.float64, (T, 1), elements=st.floats(-5, 5)), st.floats(-0.95, 0.95))
def test_scalar_rnn_gradient_is_product_of_factors(x: np.ndarray, w: float) -> None:
    # D = N = 1: dh_T/dh_0 = prod_t w (1 - h_t^2), bounded by |w|^T.
    h, cache = rnn_forward(x, [0.3], [[1.0]], [[w]], [0.0])
    dh = np.zeros((T, 1))
    dh[-1] = 1.0
    _, dh0, _, _, _ = rnn_backward(dh, cache)
    expected = np.prod(w * (1 - h[:, 0] ** 2))
    np.testing.assert_allclose(dh0[0], expected, rtol=1e-9, atol=1e-300)
    assert abs(dh0[0]) <= abs(w) ** T


def test_bad_shapes(rng: np.random.Generator) -> None:
    x, h0, w_xh, w_hh, b = _params(rng)
    with pytest.raises(ShapeError, match=r"w_hh must have shape \(D, D\)"):
        rnn_forward(x, h0, w_xh, w_hh[:, :2], b)
    with pytest.raises(ShapeError, match=r"x must have shape \(\.\.\., T, N\)"):
        rnn_forward(x[..., :2], h0, w_xh, w_hh, b)
    with pytest.raises(ShapeError, match=r"h0 must have shape"):
        rnn_forward(x, h0[0], w_xh, w_hh, b)
    with pytest.raises(ShapeError, match=r"b must have shape"):
        rnn_forward(x, h0, w_xh, w_hh, b[:2])
    _, cache = rnn_forward(x, h0, w_xh, w_hh, b)
    with pytest.raises(ShapeError, match="dh must have shape"):
        rnn_backward(np.zeros((B, T - 1, D)), cache)
    with pytest.raises(ValueError, match="finite"):
        rnn_forward(np.full_like(x, np.nan), h0, w_xh, w_hh, b)
