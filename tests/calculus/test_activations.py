"""Tests for llmath.calculus.activations and the activations chapter's examples."""

from __future__ import annotations

import math
from functools import partial

import mpmath
import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from examples.calculus import activations as ex
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from llmath.calculus.activations import (
    gelu,
    gelu_grad,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
XS = arrays(np.float64, array_shapes(max_dims=3, max_side=4), elements=FLOATS)
GRID = np.linspace(-10.0, 10.0, 401)  # (401,)

# (name, llmath value, llmath derivative, torch function)
PAIRS = [
    ("sigmoid", sigmoid, sigmoid_grad, torch.sigmoid),
    ("tanh", tanh, tanh_grad, torch.tanh),
    ("gelu", gelu, gelu_grad, F.gelu),
    (
        "gelu-tanh",
        partial(gelu, approximate="tanh"),
        partial(gelu_grad, approximate="tanh"),
        partial(F.gelu, approximate="tanh"),
    ),
]
IDS = [p[0] for p in PAIRS]


def _torch_value_and_grad(f, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = f(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


# ---- hand-checkable values ------------------------------------------------------------------


def test_hand_values() -> None:
    assert sigmoid(0.0) == 0.5
    assert sigmoid(math.log(3.0)) == pytest.approx(0.75, rel=1e-15)  # 1 / (1 + 1/3)
    assert sigmoid_grad(0.0) == 0.25
    assert sigmoid_grad(math.log(3.0)) == pytest.approx(0.75 * 0.25, rel=1e-15)
    assert tanh(0.0) == 0.0 and tanh_grad(0.0) == 1.0
    assert tanh(math.log(2.0)) == pytest.approx(0.6, rel=1e-15)  # (2 - 1/2) / (2 + 1/2)
    assert tanh_grad(math.log(2.0)) == pytest.approx(1 - 0.36, rel=1e-15)
    np.testing.assert_array_equal(relu_grad([-2.0, 0.0, 1e-300, 3.0]), [0.0, 0.0, 1.0, 1.0])
    assert gelu(0.0) == 0.0 and gelu_grad(0.0) == 0.5  # Phi(0) = 1/2
    assert gelu(0.0, approximate="tanh") == 0.0 and gelu_grad(0.0, approximate="tanh") == 0.5
    # Phi(1) = 0.8413447460685429 (standard normal table), so GELU(1) = Phi(1), GELU(-1) = Phi(1) - 1.
    assert gelu(1.0) == pytest.approx(0.8413447460685429, rel=1e-15)
    assert gelu(-1.0) == pytest.approx(0.8413447460685429 - 1.0, rel=1e-14)


def test_shapes_and_dtype_preserved(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4))
    for f in (sigmoid, sigmoid_grad, tanh, tanh_grad, relu_grad, gelu, gelu_grad):
        y = f(x)
        assert y.shape == x.shape and y.dtype == np.float64
    assert gelu(1).dtype == np.float64 and gelu(1).shape == ()


def test_inputs_not_mutated(rng: np.random.Generator) -> None:
    x = rng.standard_normal(10)
    before = x.copy()
    for f in (sigmoid, sigmoid_grad, tanh, tanh_grad, relu_grad, gelu, gelu_grad):
        f(x)
    np.testing.assert_array_equal(x, before)


# ---- torch float64 oracle -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "f", "fp", "tf"), PAIRS, ids=IDS)
def test_matches_torch(name, f, fp, tf) -> None:
    y, dy = _torch_value_and_grad(tf, GRID)
    # torch evaluates 1 + erf, 1 + tanh and 1 - y^2, which cancel in the tails: there its
    # error is about 1e-16 absolute, not relative; llmath is checked relatively against mpmath.
    np.testing.assert_allclose(f(GRID), y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fp(GRID), dy, rtol=1e-10, atol=1e-14)
    core = np.abs(GRID) <= 3  # away from the tails torch is accurate to rtol
    np.testing.assert_allclose(f(GRID[core]), y[core], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(fp(GRID[core]), dy[core], rtol=1e-10)


def test_relu_grad_matches_torch_including_zero() -> None:
    x = np.array([-3.0, -1e-12, 0.0, 1e-12, 2.0])
    _, dy = _torch_value_and_grad(torch.relu, x)
    np.testing.assert_array_equal(relu_grad(x), dy)
    assert relu_grad(0.0) == 0.0


# ---- independent references: scipy, mpmath, central differences ------------------------------


def test_gelu_matches_scipy() -> None:
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(gelu(x), x * scipy.special.ndtr(x), rtol=1e-12, atol=1e-300)
    dens = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(gelu_grad(x), scipy.special.ndtr(x) + x * dens, rtol=1e-12)
    np.testing.assert_allclose(
        sigmoid(x), scipy.special.expit(x), rtol=1e-14, atol=1e-300
    )  # scipy's logistic


def _mp_sigmoid(v):
    return 1 / (1 + mpmath.exp(-v))


MP_REFERENCES = {
    "sigmoid": (sigmoid, _mp_sigmoid),
    "sigmoid_grad": (sigmoid_grad, lambda v: _mp_sigmoid(v) * _mp_sigmoid(-v)),
    "tanh_grad": (tanh_grad, lambda v: 1 / mpmath.cosh(v) ** 2),
    "gelu": (gelu, lambda v: v * mpmath.ncdf(v)),
    "gelu_grad": (gelu_grad, lambda v: mpmath.ncdf(v) + v * mpmath.npdf(v)),
    "gelu_tanh": (
        partial(gelu, approximate="tanh"),
        lambda v: (
            v * _mp_sigmoid(2 * mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf("0.044715") * v**3))
        ),
    ),
}


@pytest.mark.parametrize("name", list(MP_REFERENCES))
def test_relative_accuracy_in_the_tails(name: str) -> None:
    f, ref = MP_REFERENCES[name]
    x = np.linspace(-30, 30, 121)
    with mpmath.workdps(50):
        expected = np.array([float(ref(mpmath.mpf(v))) for v in x])
    np.testing.assert_allclose(f(x), expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(("name", "f", "fp", "tf"), PAIRS, ids=IDS)
def test_derivative_matches_central_differences(name, f, fp, tf) -> None:
    h = 1e-6
    x = np.linspace(-6, 6, 241)
    fd = (f(x + h) - f(x - h)) / (2 * h)
    np.testing.assert_allclose(fp(x), fd, rtol=1e-7, atol=1e-9)


def test_relu_grad_matches_central_differences_away_from_zero() -> None:
    from llmath.linalg.linear import relu

    h = 1e-6
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_allclose(relu_grad(x), (relu(x + h) - relu(x - h)) / (2 * h), rtol=1e-9)


# ---- invariants -----------------------------------------------------------------------------


@given(XS)
def test_sigmoid_invariants(x: np.ndarray) -> None:
    np.testing.assert_allclose(sigmoid(-x), 1.0 - sigmoid(x), atol=1e-15)
    d = sigmoid_grad(x)
    assert np.all(d > 0) and np.all(d <= 0.25)
    # the reference s(1 - s) loses accuracy in the tail: 1 - s has relative error ~ eps / s(-|x|)
    ref = sigmoid(x) * (1 - sigmoid(x))
    tol = 4 * np.finfo(np.float64).eps / sigmoid(-np.abs(x))
    assert np.all(np.abs(d - ref) <= tol * ref + 1e-300)
    np.testing.assert_allclose(sigmoid_grad(-x), d, rtol=1e-15)  # even


@given(XS)
def test_tanh_invariants(x: np.ndarray) -> None:
    np.testing.assert_array_equal(tanh(-x), -tanh(x))  # odd
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-15)
    d = tanh_grad(x)
    assert np.all(d > 0) and np.all(d <= 1.0)
    np.testing.assert_allclose(d, 1 - tanh(x) ** 2, rtol=1e-6, atol=1e-15)


@given(XS)
def test_gelu_invariants(x: np.ndarray) -> None:
    # x Phi(x) - (-x) Phi(-x) = x (Phi(x) + 1 - Phi(x)) = x; the same for x sigma(2u), u odd.
    for a in ("none", "tanh"):
        np.testing.assert_allclose(gelu(x, approximate=a) - gelu(-x, approximate=a), x, atol=1e-14)
        # derivative of that identity: GELU'(x) + GELU'(-x) = 1
        np.testing.assert_allclose(
            gelu_grad(x, approximate=a) + gelu_grad(-x, approximate=a), 1.0, atol=1e-14
        )
    assert np.all(gelu(x) >= np.minimum(x, 0.0) - 1e-15) and np.all(gelu(x) <= np.maximum(x, 0.0))


@given(XS)
def test_relu_grad_is_indicator(x: np.ndarray) -> None:
    np.testing.assert_array_equal(relu_grad(x), np.where(x > 0, 1.0, 0.0))


# ---- extremes and bad input -----------------------------------------------------------------


def test_extreme_inputs_finite_without_warnings() -> None:
    # pytest turns any floating-point RuntimeWarning into an error.
    x = np.array([-1.7e308, -1e200, -745.0, -710.0, -40.0, 0.0, 40.0, 710.0, 1e200, 1.7e308])
    for f in (sigmoid, sigmoid_grad, tanh, tanh_grad, relu_grad):
        assert np.all(np.isfinite(f(x)))
    for a in ("none", "tanh"):
        assert np.all(np.isfinite(gelu(x, approximate=a)))
        assert np.all(np.isfinite(gelu_grad(x, approximate=a)))
        np.testing.assert_array_equal(gelu(x, approximate=a)[x >= 40], x[x >= 40])
        np.testing.assert_array_equal(
            gelu_grad(x, approximate=a)[np.abs(x) >= 40], x[np.abs(x) >= 40] > 0
        )
    np.testing.assert_array_equal(sigmoid(x)[[0, -1]], [0.0, 1.0])
    np.testing.assert_array_equal(tanh_grad(x)[[0, -1]], [0.0, 0.0])


@pytest.mark.parametrize("f", [sigmoid, sigmoid_grad, tanh, tanh_grad, relu_grad, gelu, gelu_grad])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rejects_nan_and_infinity(f, bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        f([0.0, bad])


@pytest.mark.parametrize("f", [gelu, gelu_grad])
def test_rejects_unknown_approximation(f) -> None:
    with pytest.raises(ValueError, match='approximate must be "none" or "tanh"'):
        f([0.0], approximate="erf")


def test_rejects_non_numeric() -> None:
    with pytest.raises(ValueError, match="real numbers"):
        sigmoid(["a"])


# ---- the chapter's examples ------------------------------------------------------------------


def test_example_tables_cover_the_page() -> None:
    tables = ex.tables()
    assert all(k.startswith("activations/") for k in tables)
    assert all(np.all(np.isfinite(v)) for v in tables.values())


def test_example_max_slopes_and_extrema_closed_forms() -> None:
    m = ex.max_slopes()
    np.testing.assert_array_equal(m[:, 0], 0.0)
    np.testing.assert_allclose(m[:, 1], [0.25, 1.0], rtol=1e-15)
    e = ex.gelu_extrema()
    s2 = math.sqrt(2.0)
    closed = [
        scipy.special.ndtr(-s2) - s2 * np.exp(-1.0) / math.sqrt(2 * math.pi),
        scipy.special.ndtr(s2) + s2 * np.exp(-1.0) / math.sqrt(2 * math.pi),
    ]
    np.testing.assert_allclose(e[:, 3], closed, rtol=1e-14)
    np.testing.assert_allclose(e[:, 0], [-s2, s2], atol=ex.GRID[1] - ex.GRID[0])


def test_example_derivative_check_against_torch() -> None:
    table = ex.derivative_check()
    expected = []
    for tf in (torch.sigmoid, torch.tanh, torch.relu, F.gelu, partial(F.gelu, approximate="tanh")):
        _, dy = _torch_value_and_grad(tf, np.array([ex.X0]))
        expected.append(dy[0])
    np.testing.assert_allclose(table[:, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(table[:, 1], expected, rtol=1e-8)


def test_example_gelu_tanh_error_against_torch() -> None:
    x = torch.tensor(ex.FINE, requires_grad=True)
    exact = F.gelu(x)
    approx = F.gelu(x, approximate="tanh")
    (d_exact,) = torch.autograd.grad(exact.sum(), x)
    (d_approx,) = torch.autograd.grad(approx.sum(), x)
    err = ex.gelu_tanh_error()
    assert err[0, 0] == pytest.approx(float((approx - exact).abs().max().detach()), rel=1e-9)
    assert err[1, 0] == pytest.approx(float((d_approx - d_exact).abs().max()), rel=1e-9)


def test_example_stack_gradients_against_torch_autograd() -> None:
    torch_acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    for name, g in (("sigmoid", 16.0), ("tanh", 1.0), ("relu", math.sqrt(2.0))):
        rng = np.random.default_rng(ex.STACK_SEED)
        x = torch.tensor(rng.standard_normal((ex.BATCH, ex.D)), requires_grad=True)
        ws = [
            torch.tensor(rng.standard_normal((ex.D, ex.D)) * g / math.sqrt(ex.D))
            for _ in range(ex.DEPTH)
        ]
        r = torch.tensor(rng.standard_normal((ex.BATCH, ex.D)))
        h = x
        for w in ws:
            h = torch_acts[name](h @ w)
        (h * r).sum().backward()
        norms, _ = ex.stack_gradients(name, g)
        assert norms[0] == pytest.approx(float(x.grad.norm()), rel=1e-10)
        assert norms[-1] == pytest.approx(float(r.norm()), rel=1e-14)


def test_example_rnn_gradients_against_torch() -> None:
    rho = ex.RHOS[-1]
    x, w_xh, w_hh, r = ex._rnn_inputs(rho)
    T = ex.T_SHOWN[0]
    h0 = torch.zeros(ex.DH, requires_grad=True)
    h = h0
    for t in range(T):
        h = torch.tanh(h @ torch.tensor(w_hh) + torch.tensor(x[t]) @ torch.tensor(w_xh))
    (h @ torch.tensor(r)).backward()
    norms, _ = ex.rnn_gradients(rho)
    assert norms[ex.T_GRID.index(T)] == pytest.approx(float(h0.grad.norm()), rel=1e-10)
    assert np.abs(np.linalg.eigvals(w_hh)).max() == pytest.approx(rho, rel=1e-12)
    table = ex.rnn_table()
    assert table[ex.RHOS.index(rho), 1] == pytest.approx(
        math.log10(float(h0.grad.norm())), rel=1e-10
    )


def test_example_exercises() -> None:
    np.testing.assert_array_less(ex.tanh_from_sigmoid(), 1e-15)
    rc = ex.relu_critical()
    np.testing.assert_allclose(rc[:, 1], np.array(ex.RELU_SCALES) / math.sqrt(2.0), rtol=1e-15)
    np.testing.assert_allclose(rc[:, 0], rc[:, 1], rtol=0.05)  # the theory, up to sampling
