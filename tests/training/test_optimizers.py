"""Tests for llmath.training.optimizers: torch.optim oracles over 50 steps (float64), Adam's
first step in closed form, its state against torch's, Hypothesis invariants and bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given

from llmath._checks import ShapeError
from llmath.training.optimizers import SGD, Adam, AdamW, RMSProp
from llmath.training.schedules import cosine_schedule

# ---------------------------------------------------------------- the test function
# Rosenbrock in x (2,) plus a 3-class logistic regression in A (4, 3): an ill-conditioned
# valley and a smooth convex part, two parameter arrays of different shapes.

_R = np.random.default_rng(11)
_X = torch.tensor(_R.normal(size=(20, 4)))
_Y = torch.tensor(_R.integers(0, 3, size=20))
INIT = [np.array([-1.2, 1.0]), _R.normal(size=(4, 3))]


def loss_fn(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    rosen = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    return rosen + torch.nn.functional.cross_entropy(_X @ a, _Y)


def grads_at(params: list[np.ndarray]) -> list[np.ndarray]:
    """The gradient at our parameters, from torch autograd (an independent computation)."""
    ts = [torch.tensor(p, requires_grad=True) for p in params]
    loss_fn(*ts).backward()
    return [t.grad.numpy().copy() for t in ts]  # type: ignore[union-attr]


def run_both(
    ours: Callable[..., Any], theirs: Callable[..., Any], steps: int = 50, **hyper: Any
) -> tuple[list[np.ndarray], list[torch.Tensor], Any, Any]:
    ps = [p.copy() for p in INIT]
    ts = [torch.tensor(p, requires_grad=True) for p in INIT]
    opt, ref = ours(ps, **hyper), theirs(ts, **hyper)
    for _ in range(steps):
        opt.step(grads_at(ps))
        ref.zero_grad()
        loss_fn(*ts).backward()
        ref.step()
    return ps, ts, opt, ref


def assert_close(ps: list[np.ndarray], ts: list[torch.Tensor], *, rtol: float = 1e-10) -> None:
    for p, t in zip(ps, ts, strict=True):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------- torch.optim oracles


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 1e-3},
        {"lr": 1e-3, "momentum": 0.9},
        {"lr": 1e-3, "momentum": 0.9, "nesterov": True},
        {"lr": 1e-3, "momentum": 0.5, "weight_decay": 0.1},
        {"lr": 5e-4, "momentum": 0.8, "nesterov": True, "weight_decay": 0.3},
    ],
)
def test_sgd_matches_torch(hyper: dict[str, Any]) -> None:
    ps, ts, opt, ref = run_both(SGD, torch.optim.SGD, **hyper)
    assert opt.t == 50
    assert not np.allclose(ps[0], INIT[0])  # it moved
    assert_close(ps, ts)
    if hyper.get("momentum"):
        for m, t in zip(opt.m, ts, strict=True):
            np.testing.assert_allclose(m, ref.state[t]["momentum_buffer"].numpy(), rtol=1e-9)


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 1e-2},
        {"lr": 1e-2, "weight_decay": 0.1},
        {"lr": 3e-2, "betas": (0.8, 0.95), "eps": 1e-6},
        {"lr": 1e-2, "betas": (0.0, 0.5), "weight_decay": 0.5},
    ],
)
def test_adam_matches_torch(hyper: dict[str, Any]) -> None:
    ps, ts, opt, ref = run_both(Adam, torch.optim.Adam, **hyper)
    assert_close(ps, ts)
    for m, v, t in zip(opt.m, opt.v, ts, strict=True):  # the exposed state is torch's
        state = ref.state[t]
        np.testing.assert_allclose(m, state["exp_avg"].numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(v, state["exp_avg_sq"].numpy(), rtol=1e-9, atol=1e-14)
        assert opt.t == int(state["step"]) == 50


@pytest.mark.parametrize(
    "hyper",
    [{"lr": 1e-2}, {"lr": 1e-2, "weight_decay": 0.3}, {"lr": 2e-2, "betas": (0.9, 0.95)}],
)
def test_adamw_matches_torch(hyper: dict[str, Any]) -> None:
    ps, ts, _, _ = run_both(AdamW, torch.optim.AdamW, **hyper)
    assert_close(ps, ts)


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 1e-3},
        {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6},
        {"lr": 1e-3, "momentum": 0.5},
        {"lr": 5e-4, "momentum": 0.9, "weight_decay": 0.2, "alpha": 0.95},
    ],
)
def test_rmsprop_matches_torch(hyper: dict[str, Any]) -> None:
    ps, ts, opt, ref = run_both(RMSProp, torch.optim.RMSprop, **hyper)
    assert_close(ps, ts)
    for v, t in zip(opt.v, ts, strict=True):
        np.testing.assert_allclose(v, ref.state[t]["square_avg"].numpy(), rtol=1e-9)


def test_lr_set_by_a_schedule_before_each_step_matches_torch() -> None:
    """`opt.lr = ...` before each step, as torch's `param_group["lr"] = ...`."""
    ps = [p.copy() for p in INIT]
    ts = [torch.tensor(p, requires_grad=True) for p in INIT]
    opt, ref = AdamW(ps, lr=0.0, weight_decay=0.1), torch.optim.AdamW(ts, lr=0.0, weight_decay=0.1)
    for s in range(40):
        lr = cosine_schedule(s, max_lr=0.05, warmup_steps=5, total_steps=40, min_lr=0.005)
        opt.lr = lr
        ref.param_groups[0]["lr"] = lr
        opt.step(grads_at(ps))
        ref.zero_grad()
        loss_fn(*ts).backward()
        ref.step()
    assert_close(ps, ts)


# ---------------------------------------------------------------- closed forms


def test_sgd_weight_decay_is_the_gradient_of_an_l2_term() -> None:
    """SGD's weight decay λ is plain SGD on L + (λ/2)‖θ‖²: the equality AdamW breaks for Adam."""
    lam = 0.3
    a, b = [p.copy() for p in INIT], [p.copy() for p in INIT]
    decayed, plain = SGD(a, lr=1e-3, momentum=0.9, weight_decay=lam), SGD(b, lr=1e-3, momentum=0.9)
    for _ in range(30):
        decayed.step(grads_at(a))
        plain.step([g + lam * p for g, p in zip(grads_at(b), b, strict=True)])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15)


def test_adamw_differs_from_adam_with_l2() -> None:
    a, b = [p.copy() for p in INIT], [p.copy() for p in INIT]
    w, l2 = AdamW(a, lr=1e-2, weight_decay=0.5), Adam(b, lr=1e-2, weight_decay=0.5)
    for _ in range(20):
        w.step(grads_at(a))
        l2.step(grads_at(b))
    assert np.abs(a[1] - b[1]).max() > 1e-3


def test_adam_first_step_without_bias_correction_closed_form() -> None:
    """m₁ = (1-β₁)g, v₁ = (1-β₂)g²: the uncorrected step is lr(1-β₁)g/(√(1-β₂)|g| + ε)."""
    g = np.array([0.3, -2.0, 1e-3, 5.0])
    lr, (b1, b2), eps = 0.1, (0.9, 0.999), 1e-8
    w0 = np.array([1.0, 2.0, -3.0, 0.5])
    plain, corrected = w0.copy(), w0.copy()
    Adam([plain], lr=lr, bias_correction=False).step([g])
    Adam([corrected], lr=lr).step([g])
    expected = lr * (1 - b1) * g / (np.sqrt(1 - b2) * np.abs(g) + eps)
    np.testing.assert_allclose(w0 - plain, expected, rtol=1e-13)
    np.testing.assert_allclose(w0 - corrected, lr * g / (np.abs(g) + eps), rtol=1e-13)
    ratio = (w0 - plain) / (w0 - corrected)
    exact = (1 - b1) * (np.abs(g) + eps) / (np.sqrt(1 - b2) * np.abs(g) + eps)
    np.testing.assert_allclose(ratio, exact, rtol=1e-12)
    big = np.abs(g) > 0.1  # ε negligible: the ratio is (1-β₁)/√(1-β₂) ≈ 3.162
    np.testing.assert_allclose(ratio[big], (1 - b1) / np.sqrt(1 - b2), rtol=1e-5)
    assert abs(ratio[2] - 3.1623) > 5e-4  # at |g| = 1e-3, ε already shows in the 4th digit


def test_adam_without_bias_correction_converges_to_the_corrected_step() -> None:
    """With a constant gradient the corrected step is lr·sign(g) every step (ε aside); the
    uncorrected one is (1-β₁ᵗ)/√(1-β₂ᵗ) times it: 3.16 at t = 1, tending to 1 as β₂ᵗ → 0."""
    g = np.array([2.0, -0.5])
    w_plain, w_corr = np.zeros(2), np.zeros(2)
    plain, corr = Adam([w_plain], lr=1.0, bias_correction=False), Adam([w_corr], lr=1.0)
    steps = []
    for _ in range(3000):
        before = w_plain.copy()
        plain.step([g])
        corr.step([g])
        steps.append(before - w_plain)
    np.testing.assert_allclose(w_corr, -3000 * np.sign(g), rtol=1e-7)
    b1, b2, t = 0.9, 0.999, np.arange(1, 3001)[:, None]
    expected = (1 - b1**t) * g / (np.sqrt(1 - b2**t) * np.abs(g) + 1e-8)  # closed-form m_t, v_t
    np.testing.assert_allclose(np.array(steps), expected, rtol=1e-9)
    assert abs(steps[0][0] - 3.1623) < 1e-4 and abs(steps[-1][0] - 1) < 0.03


def test_step_updates_in_place_and_leaves_the_gradient_alone() -> None:
    w = np.array([1.0, 2.0])
    view = w[:]  # the caller's array, not a copy
    g = np.array([0.5, -0.5])
    opt = SGD([w], lr=0.1)
    opt.step([g])
    np.testing.assert_array_equal(view, [0.95, 2.05])
    np.testing.assert_array_equal(g, [0.5, -0.5])
    assert opt.params[0] is w


# ---------------------------------------------------------------- Hypothesis invariants

_coords = hnp.arrays(
    np.float64,
    st.integers(1, 6),
    elements=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3),
)


@given(_coords, st.floats(1e-3, 1e3))
def test_adam_is_invariant_to_rescaling_the_loss(target: np.ndarray, c: float) -> None:
    """Loss c·L with ε scaled by c follows L's trajectory: m, √v and ε all scale by c."""
    h = np.linspace(1.0, 10.0, target.size)  # an ill-conditioned diagonal quadratic

    def grad(w: np.ndarray) -> np.ndarray:
        return h * (w - target)

    a, b = np.zeros(target.size), np.zeros(target.size)
    oa, ob = Adam([a], lr=0.05, eps=1e-8), Adam([b], lr=0.05, eps=1e-8 * c)
    for _ in range(20):
        oa.step([grad(a)])
        ob.step([c * grad(b)])
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@given(_coords, st.floats(1e-4, 1.0))
def test_bias_corrected_first_adam_step_is_lr_per_coordinate(g: np.ndarray, lr: float) -> None:
    """|Δθ_i| = lr·|g_i| / (|g_i| + ε): lr to within a relative ε/|g_i| ≤ 1e-5, whatever g."""
    w = np.zeros(g.size)
    Adam([w], lr=lr).step([g])
    np.testing.assert_allclose(np.abs(w), lr, rtol=1e-5)
    np.testing.assert_array_equal(np.sign(w), -np.sign(g))


@given(_coords)
def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha(g: np.ndarray) -> None:
    """v₁ = (1-α)g², so the first step is lr/√(1-α) per coordinate (10·lr at α = 0.99)."""
    w = np.zeros(g.size)
    RMSProp([w], lr=0.01, alpha=0.99).step([g])
    np.testing.assert_allclose(np.abs(w), 0.01 / np.sqrt(0.01), rtol=1e-4)


# ---------------------------------------------------------------- bad input


def _w() -> list[np.ndarray]:
    return [np.ones(3)]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(_w(), lr=-0.1), "lr"),
        (lambda: Adam(_w(), lr=-1e-3), "lr"),
        (lambda: Adam(_w(), betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: Adam(_w(), betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: AdamW(_w(), betas=(0.9, 1.5)), r"betas\[1\]"),
        (lambda: Adam(_w(), betas=(0.9,)), "betas"),  # type: ignore[arg-type]
        (lambda: Adam(_w(), eps=0.0), "eps"),
        (lambda: RMSProp(_w(), eps=-1e-8), "eps"),
        (lambda: RMSProp(_w(), alpha=1.0), "alpha"),
        (lambda: SGD(_w(), lr=0.1, momentum=1.0), "momentum"),
        (lambda: SGD(_w(), lr=0.1, nesterov=True), "nesterov"),
        (lambda: AdamW(_w(), weight_decay=-0.01), "weight_decay"),
        (lambda: Adam(np.ones(3)), "params"),  # a bare array, not a list of arrays
        (lambda: Adam([]), "params"),
        (lambda: Adam([[1.0, 2.0]]), r"params\[0\]"),  # a list cannot be updated in place
        (lambda: Adam([np.ones(3, dtype=np.float32)]), r"params\[0\]"),
    ],
)
def test_bad_hyperparameters_and_params_raise(make: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_gradients_raise_naming_grads() -> None:
    opt = Adam([np.ones(3), np.ones((2, 2))])
    with pytest.raises(ValueError, match="grads must hold one array per parameter: 2; got 1"):
        opt.step([np.ones(3)])
    with pytest.raises(ShapeError, match=r"grads\[1\] must have the shape of params\[1\]"):
        opt.step([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError, match=r"grads\[0\]"):
        opt.step([[np.nan, 0.0, 0.0], np.ones((2, 2))])
    assert opt.t == 0  # nothing was taken


def test_a_bad_lr_set_between_steps_is_caught() -> None:
    opt = SGD(_w(), lr=0.1)
    opt.lr = -0.5
    with pytest.raises(ValueError, match="lr"):
        opt.step([np.ones(3)])


def test_overflow_raises_and_leaves_the_parameters_untouched() -> None:
    w = [np.array([1.0, 2.0]), np.array([3.0])]
    opt = Adam(w)
    with pytest.raises(ValueError, match="overflows float64"):
        opt.step([np.array([1.0, 1.0]), np.array([1e300])])  # g² overflows
    np.testing.assert_array_equal(w[0], [1.0, 2.0])
    assert opt.t == 0
