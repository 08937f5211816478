"""Tests for llmath.numerics.distill: torch's kl_div (batchmean) times tau^2 and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath._checks import ShapeError
from llmath.numerics.distill import distillation_grad, distillation_loss
from llmath.probability.information import kl_divergence


def _torch(s: np.ndarray, t: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
    zs = torch.tensor(s, requires_grad=True)
    log_q = F.log_softmax(zs / tau, dim=-1)
    log_p = F.log_softmax(torch.tensor(t) / tau, dim=-1)
    loss = tau**2 * F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
    loss.backward()
    assert zs.grad is not None
    return float(loss.detach()), zs.grad.numpy()


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0, 8.0])
def test_matches_torch_kl_div_and_autograd(tau: float, rng: np.random.Generator) -> None:
    s, t = rng.normal(size=(2, 6, 11)) * 3
    loss, grad = _torch(s, t, tau)
    assert distillation_loss(s, t, temperature=tau) == pytest.approx(loss, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(
        distillation_grad(s, t, temperature=tau), grad, rtol=1e-10, atol=1e-15
    )


def test_equals_part3_kl(rng: np.random.Generator) -> None:
    s, t = rng.normal(size=(2, 4, 5))
    tau = 3.0
    p = np.exp(t / tau) / np.exp(t / tau).sum(-1, keepdims=True)
    q = np.exp(s / tau) / np.exp(s / tau).sum(-1, keepdims=True)
    expected = tau**2 * np.mean(kl_divergence(p, q))
    assert distillation_loss(s, t, temperature=tau) == pytest.approx(expected, rel=1e-12)


def test_gradient_by_finite_differences(rng: np.random.Generator) -> None:
    s, t = rng.normal(size=(2, 3, 4))
    g = distillation_grad(s, t, temperature=1.7)
    h = 1e-6
    num = np.zeros_like(s)
    for i in np.ndindex(s.shape):
        e = np.zeros_like(s)
        e[i] = h
        num[i] = (distillation_loss(s + e, t, temperature=1.7) - distillation_loss(s - e, t, temperature=1.7)) / (2 * h)  # fmt: skip
    np.testing.assert_allclose(g, num, atol=1e-9)


def test_tau_squared_keeps_gradient_size() -> None:
    """For large tau the gradient tends to (dz - mean dz) / (N V): independent of tau."""
    s = np.array([[1.0, -0.5, 2.0, 0.0]])
    t = np.array([[0.0, 1.0, -1.0, 0.5]])
    d = s - t
    limit = (d - d.mean()) / 4
    np.testing.assert_allclose(distillation_grad(s, t, temperature=1e4), limit, atol=1e-4)


@given(arrays(np.float64, (3, 5), elements=st.floats(-20, 20)), st.floats(0.1, 10))
def test_nonnegative_zero_at_teacher_rows_sum_to_zero(z: np.ndarray, tau: float) -> None:
    assert distillation_loss(z, z, temperature=tau) == 0.0
    other = z[::-1]
    assert distillation_loss(z, other, temperature=tau) >= -1e-12
    np.testing.assert_allclose(distillation_grad(z, other, temperature=tau).sum(-1), 0, atol=1e-12)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss([1.0, 2.0], [1.0, 2.0], temperature=0.0)
    with pytest.raises(ShapeError, match="same shape"):
        distillation_loss([1.0, 2.0], [1.0, 2.0, 3.0])
