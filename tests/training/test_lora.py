"""Tests for llmath.training.lora: torch autograd through the merged weight, finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from llmath._checks import ShapeError
from llmath.calculus.numerical import numerical_grad
from llmath.linalg.lowrank import lora_merge
from llmath.training.lora import lora_backward


@pytest.mark.parametrize(
    ("n", "m", "r", "alpha"), [(5, 3, 1, 1.0), (8, 6, 2, 16.0), (4, 7, 4, 0.5)]
)
def test_lora_backward_matches_autograd(n: int, m: int, r: int, alpha: float) -> None:
    rng = np.random.default_rng(n * m * r)
    w, a, b = rng.normal(size=(n, m)), rng.normal(size=(n, r)), rng.normal(size=(r, m))
    x, y = rng.normal(size=(10, n)), rng.normal(size=(10, m))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tw = torch.tensor(w) + alpha / r * ta @ tb
    tw.retain_grad()
    loss = ((torch.from_numpy(x) @ tw - torch.from_numpy(y)) ** 2).sum()
    loss.backward()
    assert tw.grad is not None and ta.grad is not None and tb.grad is not None
    ga, gb = lora_backward(tw.grad.numpy(), a, b, alpha=alpha)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lora_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    w, a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.normal(size=(2, 3))
    x = rng.normal(size=(6, 4))

    def loss_of(wp: np.ndarray) -> float:
        return float(np.sum(np.tanh(x @ wp)))

    def grad_w(wp: np.ndarray) -> np.ndarray:
        return x.T @ (1 - np.tanh(x @ wp) ** 2)  # (N, M)

    ga, gb = lora_backward(grad_w(lora_merge(w, a, b, alpha=3.0)), a, b, alpha=3.0)
    fa = numerical_grad(lambda v: loss_of(lora_merge(w, v, b, alpha=3.0)), a)
    fb = numerical_grad(lambda v: loss_of(lora_merge(w, a, v, alpha=3.0)), b)
    np.testing.assert_allclose(ga, fa, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gb, fb, rtol=1e-7, atol=1e-8)


@given(st.integers(1, 4), st.floats(0.1, 10.0))
def test_zero_b_gives_zero_grad_a(r: int, alpha: float) -> None:
    rng = np.random.default_rng(r)
    g, a = rng.normal(size=(5, 3)), rng.normal(size=(5, r))
    ga, gb = lora_backward(g, a, np.zeros((r, 3)), alpha=alpha)
    assert not ga.any()
    np.testing.assert_allclose(gb, alpha / r * a.T @ g, rtol=1e-12)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ShapeError, match="grad_w"):
        lora_backward(np.ones((2, 3)), np.ones((3, 1)), np.ones((1, 3)), alpha=1.0)
    with pytest.raises(ValueError, match="alpha"):
        lora_backward(np.ones((2, 3)), np.ones((2, 1)), np.ones((1, 3)), alpha=np.nan)
