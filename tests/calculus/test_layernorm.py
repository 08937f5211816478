"""Tests for llmath.calculus.layernorm and the layer-norm chapter's examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.calculus import layer_norm as ex
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath._checks import ShapeError
from llmath.calculus.layernorm import LayerNormCache, layer_norm, layer_norm_backward
from tests.oracles import t64

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def _torch_ln(x, gamma, beta, dout, eps):
    """Output and (dx, dgamma, dbeta) from F.layer_norm and autograd, float64."""
    xt, gt, bt = (t64(a, grad=True, copy=True) for a in (x, gamma, beta))
    out = F.layer_norm(xt, (x.shape[-1],), gt, bt, eps=eps)
    out.backward(t64(dout, copy=True))
    return out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def _central_diff(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar f, one entry at a time (no torch, no llmath)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        grad[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def _rows(min_d: int = 2) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(st.integers(1, 4), st.integers(min_d, 6)).flatmap(
        lambda s: arrays(np.float64, s, elements=FLOATS)
    )


# ---- hand-checkable values ------------------------------------------------------------------


def test_hand_values() -> None:
    # x = (1, 2, 3): mu = 2, var = 2/3, r = sqrt(3/2), x_hat = (-s, 0, s) with s = sqrt(3/2).
    s = np.sqrt(1.5)
    out, c = layer_norm([[1.0, 2.0, 3.0]], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], eps=0.0)
    np.testing.assert_allclose(out, [[-s, 0.0, s]], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(c.inv_std, [[s]], rtol=1e-15)
    # dout = e_3: g = e_3, mean g = 1/3, mean(g x_hat) = s/3, so dx = s (1/6, -1/3, 1/6).
    dx, dgamma, dbeta = layer_norm_backward([[0.0, 0.0, 1.0]], c)
    np.testing.assert_allclose(dx, [[s / 6, -s / 3, s / 6]], rtol=1e-14)
    np.testing.assert_allclose(dgamma, [0.0, 0.0, s], rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(dbeta, [0.0, 0.0, 1.0])


def test_eps_enters_as_in_the_definition() -> None:
    # x = (-1, 1): var = 1, so x_hat = (-1, 1) / sqrt(1 + eps).
    out, c = layer_norm([-1.0, 1.0], [1.0, 1.0], [0.0, 0.0], eps=3.0)
    np.testing.assert_allclose(out, [-0.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(c.inv_std, [0.5], rtol=1e-15)


def test_constant_token_with_positive_eps() -> None:
    gamma, beta = np.array([2.0, -1.0, 0.5]), np.array([0.1, 0.2, 0.3])
    out, c = layer_norm(np.full((1, 3), 0.7), gamma, beta, eps=1e-4)
    np.testing.assert_allclose(out, beta[None], rtol=0, atol=1e-12)
    dout = np.array([[1.0, 2.0, -1.0]])
    g = dout * gamma
    dx = layer_norm_backward(dout, c)[0]
    np.testing.assert_allclose(dx, (g - g.mean()) / np.sqrt(1e-4), rtol=1e-9, atol=1e-9)


# ---- torch float64 oracle -------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.1, 2.0])
def test_matches_torch(rng: np.random.Generator, eps: float) -> None:
    x = rng.standard_normal((2, 3, 5))  # (B, T, D)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    dout = rng.standard_normal((2, 3, 5))
    out, c = layer_norm(x, gamma, beta, eps=eps)
    dx, dgamma, dbeta = layer_norm_backward(dout, c)
    t_out, t_dx, t_dgamma, t_dbeta = _torch_ln(x, gamma, beta, dout, eps)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dgamma, t_dgamma, rtol=1e-10)
    np.testing.assert_allclose(dbeta, t_dbeta, rtol=1e-10)
    # The cache's inv_std is torch's rstd, with the same (..., 1) shape.
    _, _, rstd = torch.native_layer_norm(
        t64(x, copy=True), (5,), t64(gamma, copy=True), t64(beta, copy=True), eps
    )
    np.testing.assert_allclose(c.inv_std, rstd.numpy(), rtol=1e-12)


def test_one_dimensional_input_matches_torch(rng: np.random.Generator) -> None:
    x, gamma, beta, dout = rng.standard_normal((4, 6))
    out, c = layer_norm(x, gamma, beta)
    dx, dgamma, dbeta = layer_norm_backward(dout, c)
    t_out, t_dx, t_dgamma, t_dbeta = _torch_ln(x, gamma, beta, dout, 1e-5)
    assert out.shape == dx.shape == (6,)
    np.testing.assert_allclose(out, t_out, rtol=1e-12)
    for mine, ref in ((dx, t_dx), (dgamma, t_dgamma), (dbeta, t_dbeta)):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-14)


# ---- finite differences (independent of torch) ------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_backward_matches_central_differences(rng: np.random.Generator, eps: float) -> None:
    x = rng.standard_normal((3, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    dout = rng.standard_normal((3, 4))

    def loss(x=x, gamma=gamma, beta=beta) -> float:
        return float(np.sum(dout * layer_norm(x, gamma, beta, eps=eps)[0]))

    dx, dgamma, dbeta = layer_norm_backward(dout, layer_norm(x, gamma, beta, eps=eps)[1])
    np.testing.assert_allclose(dx, _central_diff(lambda v: loss(x=v), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        dgamma, _central_diff(lambda v: loss(gamma=v), gamma), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        dbeta, _central_diff(lambda v: loss(beta=v), beta), rtol=1e-6, atol=1e-8
    )


# ---- leading axes, mutation ------------------------------------------------------------------


def test_leading_axes_are_independent_tokens(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4))  # (B, T, D)
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    dout = rng.standard_normal((2, 3, 4))
    out, c = layer_norm(x, gamma, beta, eps=0.01)
    dx, dgamma, dbeta = layer_norm_backward(dout, c)
    assert c.x_hat.shape == (2, 3, 4) and c.inv_std.shape == (2, 3, 1)
    assert dgamma.shape == dbeta.shape == (4,)
    sum_dgamma, sum_dbeta = np.zeros(4), np.zeros(4)
    for b, t in np.ndindex(2, 3):
        o1, c1 = layer_norm(x[b, t], gamma, beta, eps=0.01)
        dx1, dg1, db1 = layer_norm_backward(dout[b, t], c1)
        np.testing.assert_allclose(out[b, t], o1, rtol=1e-14)
        np.testing.assert_allclose(dx[b, t], dx1, rtol=1e-13, atol=1e-15)
        sum_dgamma += dg1
        sum_dbeta += db1
    np.testing.assert_allclose(dgamma, sum_dgamma, rtol=1e-13)
    np.testing.assert_allclose(dbeta, sum_dbeta, rtol=1e-13)


def test_inputs_not_mutated(rng: np.random.Generator) -> None:
    x, dout = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    _, c = layer_norm(x, gamma, beta)
    cache_copy = LayerNormCache(*(a.copy() for a in c))
    layer_norm_backward(dout, c)
    for a, b in zip((x, gamma, beta, dout), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(c, cache_copy, strict=True):
        np.testing.assert_array_equal(a, b)


# ---- hypothesis invariants -------------------------------------------------------------------


@given(_rows(min_d=1), st.floats(1e-3, 10), st.randoms(use_true_random=False))
def test_dx_sums_to_zero_over_features(x: np.ndarray, eps: float, rnd) -> None:
    D = x.shape[-1]
    gamma = np.array([rnd.uniform(-2, 2) for _ in range(D)])
    dout = np.array([[rnd.uniform(-3, 3) for _ in range(D)] for _ in range(len(x))])
    dx = layer_norm_backward(dout, layer_norm(x, gamma, np.zeros(D), eps=eps)[1])[0]
    scale = np.abs(dx).max(axis=-1) + np.abs(dout * gamma).max(axis=-1) / np.sqrt(eps)
    assert np.all(
        np.abs(dx.sum(axis=-1)) <= 1e-12 * D * scale + 1e-300
    )  # floor: subnormal rounding


@given(_rows(), st.floats(0, 5), st.randoms(use_true_random=False))
def test_component_along_x_hat_is_eps_fraction(x: np.ndarray, eps: float, rnd) -> None:
    # dx . x_hat = eps / (var + eps) * r (g . x_hat); at eps = 0 this is exactly orthogonality.
    xc = x - x.mean(axis=-1, keepdims=True)
    var = (xc * xc).mean(axis=-1)
    assume(np.all(var > 1e-4))
    D = x.shape[-1]
    gamma = np.array([rnd.uniform(-2, 2) for _ in range(D)])
    dout = np.array([[rnd.uniform(-3, 3) for _ in range(D)] for _ in range(len(x))])
    _, c = layer_norm(x, gamma, np.zeros(D), eps=eps)
    dx = layer_norm_backward(dout, c)[0]
    g = dout * gamma
    r = c.inv_std[:, 0]
    along = (dx * c.x_hat).sum(axis=-1)
    unprojected = r * (g * c.x_hat).sum(axis=-1)
    # relative to the size of g (max-abs: a 2-norm of entries near 1e-171 underflows to 0),
    # with a floor: a draw of g = 0 leaves rounding dust of 1e-218
    tol = 1e-11 * r * np.abs(g).max(axis=-1) * D**1.5 + 1e-200
    np.testing.assert_allclose(along, eps / (var + eps) * unprojected, rtol=0, atol=tol.max())
    np.testing.assert_allclose((c.x_hat**2).sum(-1), D * var / (var + eps), rtol=1e-12)


@given(_rows(), st.floats(0.1, 10), st.floats(-10, 10))
def test_scale_and_shift_invariance_at_eps_zero(x: np.ndarray, c: float, s: float) -> None:
    xc = x - x.mean(axis=-1, keepdims=True)
    assume(np.all((xc * xc).mean(axis=-1) > 1e-2))
    D = x.shape[-1]
    gamma, beta = np.linspace(-1, 2, D), np.linspace(0.5, -0.5, D)
    out = layer_norm(x, gamma, beta, eps=0.0)[0]
    np.testing.assert_allclose(layer_norm(c * x + s, gamma, beta, eps=0.0)[0], out, atol=1e-9)


# eps below ~1e-6 only matters for a (near-)constant row, where 1/sqrt(eps) then amplifies the
# one-ulp rounding of the mean into garbage, in torch exactly as here; not a case worth testing.
@given(_rows(min_d=1), st.one_of(st.just(0.0), st.floats(1e-6, 5)))
def test_unit_gamma_output_mean_is_mean_beta(x: np.ndarray, eps: float) -> None:
    xc = x - x.mean(axis=-1, keepdims=True)
    assume(eps > 0 or np.all((xc * xc).mean(axis=-1) > 1e-4))
    D = x.shape[-1]
    beta = np.linspace(-1.0, 3.0, D)
    out, c = layer_norm(x, np.ones(D), beta, eps=eps)
    np.testing.assert_allclose(out.mean(axis=-1), beta.mean(), atol=1e-12)
    assert np.all((c.x_hat**2).mean(axis=-1) <= 1 + 1e-12)


# ---- bad input -------------------------------------------------------------------------------


def test_bad_input() -> None:
    x, g, b = np.ones((2, 3)) * [1.0, 2.0, 4.0], np.ones(3), np.zeros(3)
    with pytest.raises(ShapeError, match=r"gamma must have shape \(D,\) = \(3,\)"):
        layer_norm(x, np.ones(4), b)
    with pytest.raises(ShapeError, match=r"beta must have shape \(D,\)"):
        layer_norm(x, g, np.zeros(2))
    with pytest.raises(ShapeError, match=r"gamma must have shape \(D,\) \(1 axis\)"):
        layer_norm(x, np.ones((1, 3)), b)
    with pytest.raises(ShapeError, match="x must have shape"):
        layer_norm(1.0, g, b)
    with pytest.raises(ValueError, match="x must be finite"):
        layer_norm([[1.0, np.nan, 2.0]], g, b)
    with pytest.raises(ValueError, match="gamma must be finite"):
        layer_norm(x, [1.0, np.inf, 1.0], b)
    for eps in (-1e-5, np.nan, np.inf, True, "0.1x", "1e-5", None):
        with pytest.raises(ValueError, match="eps must be"):
            layer_norm(x, g, b, eps=eps)
    with pytest.raises(ValueError, match="eps = 0 and a token of x is constant"):
        layer_norm([[1.0, 2.0, 3.0], [0.1, 0.1, 0.1]], g, b, eps=0.0)
    _, c = layer_norm(x, g, b)
    with pytest.raises(ShapeError, match=r"dout must have the forward input's shape \(2, 3\)"):
        layer_norm_backward(np.ones((3, 3)), c)
    with pytest.raises(ValueError, match="dout must be finite"):
        layer_norm_backward(np.full((2, 3), np.nan), c)


# ---- the chapter's examples ------------------------------------------------------------------


def test_example_tables_match_torch() -> None:
    tables = ex.tables()
    assert all(k.startswith("layer-norm/") for k in tables)
    out, dx, dgamma, dbeta = _torch_ln(ex.X, ex.GAMMA, ex.BETA, ex.DOUT, ex.EPS)
    np.testing.assert_allclose(tables["layer-norm/out"], out, rtol=1e-12)
    np.testing.assert_allclose(tables["layer-norm/dx"], dx, rtol=1e-10)
    np.testing.assert_allclose(tables["layer-norm/dgamma-dbeta"], [dgamma, dbeta], rtol=1e-10)
    xt = t64(ex.X, copy=True)
    var = xt.var(dim=-1, unbiased=False).numpy()
    stats = np.stack([xt.mean(-1).numpy(), var, 1 / np.sqrt(var + ex.EPS)], axis=1)
    np.testing.assert_allclose(tables["layer-norm/stats"], stats, rtol=1e-12)
    x_hat = F.layer_norm(xt, (4,), eps=ex.EPS).numpy()
    np.testing.assert_allclose(tables["layer-norm/x-hat"], x_hat, rtol=1e-12, atol=1e-15)
    geo = tables["layer-norm/geometry"]
    np.testing.assert_allclose(geo[:, 0], var, rtol=1e-12)
    np.testing.assert_allclose(geo[:, 6], ex.EPS / (var + ex.EPS), rtol=1e-10)
    np.testing.assert_allclose(geo[:, 4], (dx * x_hat).sum(-1), rtol=1e-10)
    assert np.abs(geo[:, 3]).max() < 1e-14


def test_example_jacobian_and_constant_upstream_match_torch() -> None:
    eig = ex.tables()["layer-norm/jacobian-eigenvalues"]
    for t in range(len(ex.X)):
        jac = torch.autograd.functional.jacobian(
            lambda v: F.layer_norm(v, (4,), eps=ex.EPS), t64(ex.X[t], copy=True)
        ).numpy()
        np.testing.assert_allclose(eig[t], np.linalg.eigvalsh(jac), rtol=1e-10, atol=1e-14)
    constant = ex.tables()["layer-norm/constant-upstream"]
    ones = np.ones((1, 4))
    ref_unit = _torch_ln(ex.X[:1], np.ones(4), ex.BETA, ones, ex.EPS)[1]
    ref_gamma = _torch_ln(ex.X[:1], ex.GAMMA, ex.BETA, ones, ex.EPS)[1]
    np.testing.assert_allclose(constant[0], ref_unit[0], atol=1e-14)
    np.testing.assert_allclose(constant[1], ref_gamma[0], rtol=1e-10)


def test_example_finite_differences_agree() -> None:
    fd, ref = ex.finite_differences(), _torch_ln(ex.X, ex.GAMMA, ex.BETA, ex.DOUT, ex.EPS)
    for k, r in zip(("dx", "dgamma", "dbeta"), ref[1:], strict=True):
        np.testing.assert_allclose(fd[k], r, rtol=1e-7, atol=1e-9)


def test_wrong_formulas_are_right_only_in_their_own_setting(rng: np.random.Generator) -> None:
    # With one scalar gamma and eps = 0 every "wrong" formula equals autograd: the page's
    # errors come from per-feature gamma and eps > 0, not from a bug in the wrong formulas.
    x, dout = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    gamma = np.full(6, 1.7)
    ref = _torch_ln(x, gamma, np.zeros(6), dout, 0.0)[1]
    for f in ex.WRONG.values():
        np.testing.assert_allclose(f(x, gamma, dout, 0.0), ref, rtol=1e-10, atol=1e-13)
    errors = ex.tables()["layer-norm/wrong"]
    assert errors.shape == (len(ex.WRONG), 3) and np.all(errors > 1e-3)
    sweep = ex.wrong_vs_eps()
    eps_dropped = sweep["ε dropped only (σ = std)"]
    small = sweep["ratio"] < 1e-3
    # Dropping eps costs about eps/(2 var) relative error while eps << var.
    assert np.all(eps_dropped[small] / sweep["ratio"][small] < 1) and np.all(eps_dropped > 0)


# ---- extreme but finite inputs: the right answer, not zeros or NaN ----------------------------


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300, 1e-300])
def test_layer_norm_is_scale_free_at_extreme_magnitudes(scale: float) -> None:
    x = np.array([[1.0, 2.0, 4.0], [-3.0, 0.5, 0.25]])
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, 1.0, -1.0])
    expected, _ = layer_norm(x, gamma, beta, eps=0.0)
    out, cache = layer_norm(x * scale, gamma, beta, eps=0.0)  # squaring 1e200 overflows
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        cache.inv_std * scale, layer_norm(x, gamma, beta, eps=0.0)[1].inv_std, rtol=1e-13
    )


def test_layer_norm_at_1e200_with_eps_matches_eps_free() -> None:
    x = np.array([[1e200, 2e200, 3e200], [5e199, 5e199, 5e199]])  # the second token is constant
    out, _ = layer_norm(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(out[0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], rtol=1e-14)
    np.testing.assert_array_equal(out[1], np.zeros(3))  # constant token: x_hat = 0, out = beta
