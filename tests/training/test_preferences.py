"""Tests for llmath.training.preferences: torch's logsigmoid and autograd, scipy's optimiser over
the simplex, closed forms, Hypothesis properties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from llmath._checks import ShapeError
from llmath.calculus.numerical import numerical_grad
from llmath.probability.information import kl_divergence
from llmath.training.preferences import (
    bradley_terry_loss,
    dpo_loss,
    kl_regularised_objective,
    kl_regularised_policy,
    kl_regularised_value,
)

RNG = np.random.default_rng(11)
reals = st.floats(-30.0, 30.0, allow_nan=False)


# ---- Bradley-Terry --------------------------------------------------------------------------


def _torch_bt(rw: np.ndarray, rl: np.ndarray) -> float:
    return float(-F.logsigmoid(torch.from_numpy(rw) - torch.from_numpy(rl)).mean())


@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0, 800.0])
def test_bradley_terry_matches_torch_logsigmoid(scale: float) -> None:
    rw, rl = scale * RNG.normal(size=(2, 50))
    assert bradley_terry_loss(rw, rl) == pytest.approx(_torch_bt(rw, rl), rel=1e-13, abs=1e-300)


def test_bradley_terry_is_stable_for_huge_margins() -> None:
    assert (
        bradley_terry_loss([1000.0], [0.0]) == 0.0 or bradley_terry_loss([1000.0], [0.0]) < 1e-300
    )
    assert bradley_terry_loss([0.0], [1000.0]) == pytest.approx(1000.0, rel=1e-15)
    assert bradley_terry_loss([40.0], [0.0]) == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_bradley_terry_loss_is_the_pairwise_nll_and_its_mle_recovers_scores() -> None:
    """Fit scores to comparisons drawn from known ones: the MLE recovers them (up to a shift),
    and at the MLE the gradient vanishes: observed wins = expected wins for every item."""
    true = np.array([0.0, 0.8, -0.5, 1.5])
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 4, size=(20000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    p_first = 1 / (1 + np.exp(-(true[pairs[:, 0]] - true[pairs[:, 1]])))
    first_wins = rng.random(len(pairs)) < p_first
    w = np.where(first_wins, pairs[:, 0], pairs[:, 1])
    lo = np.where(first_wins, pairs[:, 1], pairs[:, 0])

    def nll(r: np.ndarray) -> float:
        return bradley_terry_loss(r[w], r[lo])

    fit = minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    r_hat = fit.x - fit.x[0]
    assert np.max(np.abs(r_hat - true)) < 0.15  # about four standard errors (~0.04)
    # stationarity: for each item, wins = sum of sigma(r_i - r_j) over its comparisons
    d = r_hat[pairs[:, 0]] - r_hat[pairs[:, 1]]
    exp_first = 1 / (1 + np.exp(-d))
    for i in range(4):
        wins = np.sum(w == i)
        expected = np.sum(np.where(pairs[:, 0] == i, exp_first, 0.0)) + np.sum(
            np.where(pairs[:, 1] == i, 1 - exp_first, 0.0)
        )
        assert wins == pytest.approx(expected, rel=1e-5)


@given(st.lists(st.tuples(reals, reals), min_size=1, max_size=8), reals)
def test_bradley_terry_shift_invariance_and_bounds(
    pairs: list[tuple[float, float]], c: float
) -> None:
    rw, rl = np.array(pairs).T
    loss = bradley_terry_loss(rw, rl)
    assert loss == pytest.approx(bradley_terry_loss(rw + c, rl + c), rel=1e-9, abs=1e-12)
    assert loss >= 0
    # swapping chosen and rejected: -log sigma(d) - (-log sigma(-d)) = -d
    swapped = bradley_terry_loss(rl, rw)
    assert loss - swapped == pytest.approx(np.mean(rl - rw), rel=1e-9, abs=1e-9)


# ---- the KL-regularised optimum -------------------------------------------------------------


def _scipy_optimum(pi_ref: np.ndarray, r: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """Maximise E_pi[r] - beta KL(pi || pi_ref) over the simplex with SLSQP, independently."""

    def neg(pi: np.ndarray) -> float:
        pi = np.clip(pi, 1e-300, None)
        return -(pi @ r - beta * np.sum(pi * np.log(pi / pi_ref)))

    cons = ({"type": "eq", "fun": lambda pi: pi.sum() - 1.0},)
    x0 = np.full(len(r), 1.0 / len(r))
    fit = minimize(
        neg, x0, method="SLSQP", bounds=[(1e-12, 1.0)] * len(r), constraints=cons,
        options={"ftol": 1e-14, "maxiter": 500},
    )  # fmt: skip
    assert fit.success, fit.message
    return fit.x, -fit.fun


@pytest.mark.parametrize("beta", [0.3, 1.0, 4.0])
def test_kl_optimum_matches_scipy_maximisation(beta: float) -> None:
    rng = np.random.default_rng(int(beta * 10))
    pi_ref = rng.dirichlet(np.ones(6))
    r = rng.normal(size=6)
    pi_scipy, value_scipy = _scipy_optimum(pi_ref, r, beta)
    pi_star = kl_regularised_policy(pi_ref, r, beta=beta)
    np.testing.assert_allclose(pi_star, pi_scipy, atol=2e-5)
    value = kl_regularised_value(pi_ref, r, beta=beta)
    assert value == pytest.approx(value_scipy, abs=1e-9)
    assert value == pytest.approx(
        kl_regularised_objective(pi_star, pi_ref, r, beta=beta), abs=1e-12
    )
    # no other policy does better: the gap is exactly beta * KL(pi || pi*)
    for _ in range(5):
        pi = rng.dirichlet(np.ones(6))
        gap = value - kl_regularised_objective(pi, pi_ref, r, beta=beta)
        assert gap == pytest.approx(beta * kl_divergence(pi, pi_star), rel=1e-9, abs=1e-12)


def test_kl_optimum_matches_torch_softmax_and_logsumexp() -> None:
    pi_ref = RNG.dirichlet(np.ones(9), size=4)  # (4, 9)
    r = RNG.normal(size=(4, 9))
    beta = 0.7
    logits = torch.log(torch.from_numpy(pi_ref)) + torch.from_numpy(r) / beta
    np.testing.assert_allclose(
        kl_regularised_policy(pi_ref, r, beta=beta), torch.softmax(logits, -1).numpy(), rtol=1e-13
    )
    np.testing.assert_allclose(
        kl_regularised_value(pi_ref, r, beta=beta),
        (beta * torch.logsumexp(logits, -1)).numpy(),
        rtol=1e-13,
    )


def test_kl_optimum_limits_and_zero_reference_mass() -> None:
    pi_ref = np.array([0.0, 0.2, 0.3, 0.5])
    r = np.array([100.0, 1.0, 3.0, 2.0])
    # beta -> infinity: pi_ref; beta -> 0: one-hot on the best token pi_ref allows (never index 0)
    np.testing.assert_allclose(kl_regularised_policy(pi_ref, r, beta=1e6), pi_ref, atol=1e-5)
    np.testing.assert_allclose(
        kl_regularised_policy(pi_ref, r, beta=1e-3), [0, 0, 1, 0], atol=1e-12
    )
    assert kl_regularised_value(pi_ref, r, beta=1e-3) == pytest.approx(3.0, abs=1e-2)
    assert kl_regularised_value(pi_ref, r, beta=1e6) == pytest.approx(pi_ref @ r, abs=1e-5)
    # huge r / beta does not overflow
    assert np.isfinite(kl_regularised_policy(pi_ref, 1e5 * r, beta=1e-3)).all()


@given(
    st.lists(st.floats(0.01, 1.0), min_size=2, max_size=7),
    st.lists(reals, min_size=7, max_size=7),
    st.floats(0.05, 20.0),
    reals,
)
def test_kl_value_bounds_and_reward_shift(
    w: list[float], rewards: list[float], beta: float, c: float
) -> None:
    pi_ref = np.array(w) / np.sum(w)
    r = np.array(rewards[: len(w)])
    value = kl_regularised_value(pi_ref, r, beta=beta)
    assert pi_ref @ r - 1e-9 <= value <= r.max() + 1e-9  # Jensen and the max
    # a constant added to every reward shifts the value by c and leaves the policy unchanged
    assert kl_regularised_value(pi_ref, r + c, beta=beta) == pytest.approx(value + c, abs=1e-9)
    np.testing.assert_allclose(
        kl_regularised_policy(pi_ref, r + c, beta=beta),
        kl_regularised_policy(pi_ref, r, beta=beta),
        atol=1e-12,
    )


# ---- DPO ------------------------------------------------------------------------------------


def _dpo_inputs(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [-rng.gamma(2.0, 3.0, size=n) for _ in range(4)]


def _torch_dpo(tensors: list[torch.Tensor], beta: float) -> torch.Tensor:
    """Rafailov et al.'s Eq. (7), written the way their reference code writes it."""
    pc, pr, rc, rr = tensors
    logits = (pc - pr) - (rc - rr)
    return -F.logsigmoid(beta * logits).mean()


@pytest.mark.parametrize("beta", [0.01, 0.1, 1.0, 5.0])
def test_dpo_matches_the_torch_formula_and_its_gradient(beta: float) -> None:
    xs = _dpo_inputs(16, int(beta * 100))
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    ref = _torch_dpo(ts, beta)
    assert dpo_loss(*xs, beta=beta) == pytest.approx(float(ref.detach()), rel=1e-13)
    ref.backward()
    for k in range(4):  # llmath's loss, differentiated numerically, against autograd

        def f(v: np.ndarray, k: int = k) -> float:
            args = list(xs)
            args[k] = v
            return dpo_loss(*args, beta=beta)

        g_at = numerical_grad(f, xs[k])  # entries are <= -0.0something: the steps stay below 0
        grad = ts[k].grad
        assert grad is not None
        np.testing.assert_allclose(g_at, grad.numpy(), rtol=1e-6, atol=1e-8)  # rounding ~eps|L|/h


def test_dpo_gradient_closed_form() -> None:
    r"""dL/d logp_chosen = -(beta/N) sigma(-beta * margin): the example's weight (Rafailov Eq. 8)."""
    xs = _dpo_inputs(5, 3)
    beta = 0.5
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    _torch_dpo(ts, beta).backward()
    margin = (xs[0] - xs[2]) - (xs[1] - xs[3])
    weight = 1 / (1 + np.exp(beta * margin))  # sigma(-beta * margin)
    grad = ts[0].grad
    assert grad is not None
    np.testing.assert_allclose(grad.numpy(), -beta * weight / 5, rtol=1e-12)


def test_dpo_is_bradley_terry_on_implicit_rewards() -> None:
    pc, pr, rc, rr = _dpo_inputs(7, 5)
    beta = 0.2
    assert dpo_loss(pc, pr, rc, rr, beta=beta) == pytest.approx(
        bradley_terry_loss(beta * (pc - rc), beta * (pr - rr)), rel=1e-14
    )
    assert dpo_loss(rc, rr, rc, rr, beta=beta) == pytest.approx(np.log(2), rel=1e-15)


@given(st.floats(0.01, 10.0), st.floats(-20.0, 0.0), st.floats(-20.0, 0.0))
def test_dpo_depends_only_on_log_ratios(beta: float, s_chosen: float, s_rejected: float) -> None:
    """Scaling a response's probability by the same factor under policy and reference changes
    nothing: only log(pi / pi_ref) enters."""
    pc, pr, rc, rr = _dpo_inputs(4, 8)
    a = dpo_loss(pc, pr, rc, rr, beta=beta)
    b = dpo_loss(pc + s_chosen, pr + s_rejected, rc + s_chosen, rr + s_rejected, beta=beta)
    assert a == pytest.approx(b, rel=1e-9)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_input_is_refused_with_the_argument_named() -> None:
    with pytest.raises(ShapeError, match="r_chosen, r_rejected"):
        bradley_terry_loss([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="r_rejected"):
        bradley_terry_loss([1.0], [np.nan])
    with pytest.raises(ValueError, match="pi_ref"):
        kl_regularised_policy([0.5, 0.6], [1.0, 2.0], beta=1.0)
    with pytest.raises(ValueError, match="beta"):
        kl_regularised_policy([0.5, 0.5], [1.0, 2.0], beta=0.0)
    with pytest.raises(ShapeError, match="pi_ref and reward"):
        kl_regularised_value([0.5, 0.5], [1.0, 2.0, 3.0], beta=1.0)
    with pytest.raises(ShapeError, match="pi and pi_ref"):
        kl_regularised_objective([1.0], [0.5, 0.5], [1.0, 2.0], beta=1.0)
    with pytest.raises(ValueError, match="ref_logp_rejected"):
        dpo_loss([-1.0], [-1.0], [-1.0], [0.5], beta=0.1)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss([-1.0], [-1.0], [-1.0], [-1.0], beta=-0.1)
    with pytest.raises(ShapeError, match="logp_chosen"):
        dpo_loss([-1.0, -2.0], [-1.0], [-1.0], [-1.0], beta=0.1)
