"""Tests for llmath.calculus.numerical and the derivatives chapter's examples.

Tolerances come from the page's error analysis. A central difference with the default step has
error about eps^(2/3) * C, with eps^(2/3) ~ 4e-11 and C a modest constant set by |f| and |f'''|
(at most ~100 for the functions here), so `rtol=1e-7` leaves a margin of 10-100 over the worst
expected error while still catching any real bug (those give relative errors >= 1e-4). Second
differences (the Hessian) have error ~ eps^(1/2) * C ~ 1e-8 * C, hence `rtol=1e-5`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from examples.calculus import derivatives as ex
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath import ShapeError
from llmath.calculus.numerical import (
    EPS,
    default_step,
    grad_check,
    numerical_grad,
    numerical_hessian,
    numerical_jacobian,
)
from tests.oracles import t64

SMALL = st.floats(-1, 1, allow_nan=False, allow_infinity=False)
COEF = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


# ---- closed forms -----------------------------------------------------------------------------


def test_default_step_powers_of_two_at_one() -> None:
    # eps = 2^-52, so at |x| <= 1 the steps are 2^(-52/3) (to rounding), 2^-26 and 2^-13 exactly.
    assert default_step(1.0, "central") == pytest.approx(2.0 ** (-52 / 3), rel=1e-15)
    assert default_step(-0.5, "forward") == 2.0**-26
    assert default_step(0.0, "hessian") == 2.0**-13
    np.testing.assert_allclose(
        default_step([[-1e6, 0.25], [3.0, 1e-9]]),
        2.0 ** (-52 / 3) * np.array([[1e6, 1.0], [3.0, 1.0]]),
        rtol=1e-15,
    )
    with pytest.raises(
        ValueError, match=r'method must be "central" or "forward" or "hessian"; got \'backward\''
    ):
        default_step(1.0, "backward")


@given(st.floats(-1e6, 1e6), st.sampled_from(["central", "forward"]))
def test_default_step_is_the_step_numerical_grad_takes(x: float, method: str) -> None:
    f = lambda z: float(np.sin(z[0]) * z[0])  # noqa: E731
    h = float(default_step([x], method)[0])
    assert numerical_grad(f, [x], method=method) == numerical_grad(f, [x], h=h, method=method)


def test_polynomial_hand_values() -> None:
    # f = x0^3 + 2 x0 x1 - x1^2 at (1, 2): grad = (3 x0^2 + 2 x1, 2 x0 - 2 x1) = (7, -2).
    f = lambda z: z[0] ** 3 + 2 * z[0] * z[1] - z[1] ** 2  # noqa: E731
    np.testing.assert_allclose(numerical_grad(f, [1.0, 2.0]), [7.0, -2.0], rtol=1e-9)
    np.testing.assert_allclose(
        numerical_grad(f, [1.0, 2.0], method="forward"), [7.0, -2.0], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("f", "df"), [(np.exp, np.exp), (np.sin, np.cos), (lambda z: z**4, lambda z: 4 * z**3)]
)
@pytest.mark.parametrize("x0", [-2.0, 0.3, 1.0, 7.5])
def test_scalar_closed_forms(f, df, x0: float) -> None:
    # 0-d input gives a 0-d gradient. Central: error ~ eps^(2/3) * C; forward ~ eps^(1/2) * C.
    g = numerical_grad(f, np.float64(x0))
    assert g.shape == ()
    np.testing.assert_allclose(g, df(x0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        numerical_grad(f, x0, method="forward"), df(x0), rtol=1e-5, atol=1e-7
    )


def test_elementwise_exp_on_a_matrix() -> None:
    x = np.array([[0.0, 1.0, -1.0], [2.0, 0.5, -3.0]])  # (2, 3)
    g = numerical_grad(lambda z: np.sum(np.exp(z)), x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, np.exp(x), rtol=1e-7)


def test_step_actually_taken_is_used() -> None:
    # f(z) = z_0: the numerator is exactly (x + h) - (x - h), so the quotient is exactly 1 only
    # because the denominator is that same exact step, not the h that was asked for.
    for h in (1e-7, 3e-5, 0.1):
        assert numerical_grad(lambda z: z[0], [0.1], h=h)[0] == 1.0
        assert numerical_grad(lambda z: z[0], [0.1], h=h, method="forward")[0] == 1.0


def test_hessian_closed_form(rng: np.random.Generator) -> None:
    a = rng.standard_normal((4, 4))  # not symmetric
    x = rng.standard_normal(4)
    h = numerical_hessian(lambda z: z @ a @ z, x)
    np.testing.assert_array_equal(h, h.T)
    np.testing.assert_allclose(h, a + a.T, atol=1e-6)


# ---- torch float64 oracle ---------------------------------------------------------------------


def _torch_problem(rng: np.random.Generator):
    x = rng.standard_normal((3, 4))  # (T, N)
    w = rng.standard_normal((4, 5)) / 2  # (N, M)
    r = rng.standard_normal((3, 5))  # (T, M)

    def f_np(z):
        return float(np.sum(r * np.tanh(z @ w)) + np.log(np.sum(np.exp(z))))

    def f_t(z):
        return torch.sum(t64(r) * torch.tanh(z @ t64(w))) + torch.logsumexp(z.reshape(-1), 0)

    def vec_np(z):
        return np.tanh(z @ w) * np.sum(z**2)  # (T, M)

    def vec_t(z):
        return torch.tanh(z @ t64(w)) * torch.sum(z**2)

    return x, f_np, f_t, vec_np, vec_t


def test_gradient_matches_torch(rng: np.random.Generator) -> None:
    x, f_np, f_t, _, _ = _torch_problem(rng)
    tx = t64(x, grad=True)
    f_t(tx).backward()
    np.testing.assert_allclose(numerical_grad(f_np, x), tx.grad.numpy(), rtol=1e-7, atol=1e-9)
    # forward: error ~ eps^(1/2) * C ~ 1e-8 * C
    np.testing.assert_allclose(
        numerical_grad(f_np, x, method="forward"), tx.grad.numpy(), rtol=1e-5, atol=1e-6
    )


def test_jacobian_matches_torch(rng: np.random.Generator) -> None:
    x, _, _, vec_np, vec_t = _torch_problem(rng)
    expected = torch.autograd.functional.jacobian(vec_t, t64(x)).numpy()  # (T, M, T, N)
    jac = numerical_jacobian(vec_np, x)
    assert jac.shape == (3, 5, 3, 4)
    np.testing.assert_allclose(jac, expected, rtol=1e-7, atol=1e-9)


def test_hessian_matches_torch(rng: np.random.Generator) -> None:
    x, f_np, f_t, _, _ = _torch_problem(rng)
    top, rest = x[:2], x[2:]  # differentiate in the first two rows only: 4 n^2 stays cheap
    expected = torch.autograd.functional.hessian(lambda z: f_t(torch.cat([z, t64(rest)])), t64(top))
    got = numerical_hessian(lambda z: f_np(np.concatenate([z, rest])), top)
    assert got.shape == (2, 4, 2, 4)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)


# ---- the error analysis, measured -------------------------------------------------------------


def test_central_error_quarters_and_forward_halves() -> None:
    # Truncation regime (h >> h*): E_cen ~ h^2 e / 6 and E_fwd ~ h e / 2.
    for h in (0.1, 0.02, 0.004):
        e_c = [abs(numerical_grad(np.exp, 1.0, h=s) - np.e) for s in (h, h / 2)]
        e_f = [abs(numerical_grad(np.exp, 1.0, h=s, method="forward") - np.e) for s in (h, h / 2)]
        assert e_c[0] / e_c[1] == pytest.approx(4.0, rel=0.01)
        assert e_f[0] / e_f[1] == pytest.approx(2.0, rel=0.05)
        assert e_c[0] == pytest.approx(h**2 * np.e / 6, rel=0.01)


def test_tiny_step_is_worse_than_default() -> None:
    # Rounding ~ eps |f| / h: at h = 1e-12 the error is ~1e-4, versus ~1e-10 at the default step.
    xs = np.linspace(1.0, 1.05, 16)
    tiny = np.median([abs(numerical_grad(np.exp, x, h=1e-12) - np.exp(x)) for x in xs])
    default = np.median([abs(numerical_grad(np.exp, x) - np.exp(x)) for x in xs])
    assert tiny > 1e-6
    assert (
        default < 1.04 * EPS ** (2 / 3) * np.e
    )  # below the bound (9/8)^(1/3) eps^(2/3) M0^(2/3) M3^(1/3)
    assert tiny / default > 1e4


# ---- hypothesis invariants --------------------------------------------------------------------


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=COEF), arrays(np.float64, n, elements=SMALL), COEF
)))  # fmt: skip
def test_gradient_of_linear_function_is_a(args) -> None:
    # No truncation error for a linear f; rounding <= ~2 eps |f| / h with |f| <= 60, h >= 6e-6.
    a, x, c = args
    np.testing.assert_allclose(numerical_grad(lambda z: a @ z + c, x), a, rtol=0, atol=1e-8)


@given(st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(lambda nm: st.tuples(
    arrays(np.float64, nm[0], elements=SMALL), arrays(np.float64, nm, elements=COEF)
)))  # fmt: skip
def test_jacobian_of_xw_is_w_transposed(args) -> None:
    x, w = args  # (N,), (N, M)
    jac = numerical_jacobian(lambda z: z @ w, x)
    assert jac.shape == (w.shape[1], w.shape[0])  # (M, N): output axes, then input axes
    np.testing.assert_allclose(jac, w.T, rtol=0, atol=1e-8)


@given(arrays(np.float64, (2, 3), elements=SMALL), arrays(np.float64, (3, 2), elements=COEF))
def test_batched_jacobian_is_block_diagonal(x, w) -> None:
    jac = numerical_jacobian(lambda z: z @ w, x)  # (T, M, T, N)
    expected = np.einsum("ts,mn->tmsn", np.eye(2), w.T)
    np.testing.assert_allclose(jac, expected, rtol=0, atol=1e-8)


@given(arrays(np.float64, 3, elements=SMALL), arrays(np.float64, (3, 3), elements=COEF))
def test_hessian_symmetric_and_quadratic(x, a) -> None:
    h = numerical_hessian(lambda z: z @ a @ z, x)
    np.testing.assert_array_equal(h, h.T)
    np.testing.assert_allclose(h, a + a.T, rtol=0, atol=1e-5)


# ---- grad_check -------------------------------------------------------------------------------


def test_grad_check_values(rng: np.random.Generator) -> None:
    x = rng.standard_normal(6)
    f = lambda z: float(np.sum(z**3))  # noqa: E731
    assert grad_check(f, lambda z: 3 * z**2, x) < 1e-9
    # grad = 2 z^2 instead of 3 z^2: max|z^2| / max|3 z^2| = 1/3 exactly, up to the fd error.
    assert grad_check(f, lambda z: 2 * z**2, x) == pytest.approx(1 / 3, rel=1e-8)
    assert grad_check(lambda z: 5.0, lambda z: np.zeros_like(z), x) == 0.0


def test_grad_check_zero_entry_does_not_false_alarm(rng: np.random.Generator) -> None:
    # d f / d x_1 = 0 exactly at x_1 = 0 for f = x_0 e^{x_0} + x_1^2 (fd gives ~1e-11, not 0).
    f = lambda z: z[0] * np.exp(z[0]) + z[1] ** 2 + 0.3 * z[1] ** 3  # noqa: E731
    g = lambda z: np.array([(1 + z[0]) * np.exp(z[0]), 2 * z[1] + 0.9 * z[1] ** 2])  # noqa: E731
    assert grad_check(f, g, [1.3, 0.0]) < 1e-9


# ---- bad input and no mutation ----------------------------------------------------------------


def test_bad_input() -> None:
    f = lambda z: float(np.sum(z**2))  # noqa: E731
    with pytest.raises(ValueError, match='method must be "central" or "forward"'):
        numerical_grad(f, [1.0], method="backward")
    for h in (0.0, -1e-3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="h must be a finite number > 0"):
            numerical_grad(f, [1.0], h=h)
        with pytest.raises(ValueError, match="h must be a finite number > 0"):
            numerical_jacobian(lambda z: z, [1.0], h=h)
    with pytest.raises(ValueError, match="h must be a real number > 0"):
        numerical_grad(f, [1.0], h="1e-3")
    with pytest.raises(ValueError, match="h is too small"):
        numerical_grad(f, [1.0e8], h=1e-12)
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(2,\)"):
        numerical_grad(lambda z: z * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match="f must return a scalar"):
        numerical_hessian(lambda z: z, [1.0, 2.0])
    with pytest.raises(ValueError, match="x must be finite"):
        numerical_grad(f, [1.0, np.nan])
    with pytest.raises(ShapeError, match=r"grad\(x\) must have the shape of x"):
        grad_check(f, lambda z: np.zeros(3), [1.0, 2.0])
    with pytest.raises(ShapeError, match="same shape at every point"):
        numerical_jacobian(lambda z: np.zeros(1 if z[0] == 1.0 else 2), [1.0])


def test_x_not_mutated_even_if_f_mutates_its_argument() -> None:
    x = np.array([1.0, -2.0, 0.5])
    x.setflags(write=False)  # a read-only input must work too

    def nasty(z):
        value = float(np.sum(z**2))
        z[:] = 99.0  # f scribbles on its argument
        return value

    for fn in (numerical_grad, numerical_hessian):
        g = fn(nasty, x)
        np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])
    np.testing.assert_allclose(numerical_grad(nasty, x), 2 * x, rtol=1e-9)
    y = np.array([1.0, 2.0])
    numerical_jacobian(lambda z: z**2, y)
    grad_check(lambda z: float(z @ z), lambda z: 2 * z, y)
    np.testing.assert_array_equal(y, [1.0, 2.0])
    assert g.shape == (3, 3)


# ---- the chapter's examples -------------------------------------------------------------------


def test_example_tables() -> None:
    t = ex.tables()
    sig = torch.sigmoid(t64(ex.X_SOFTPLUS)).item()
    np.testing.assert_allclose(t["derivatives/softplus"][0, :2], [sig, sig], rtol=1e-10)
    np.testing.assert_allclose(
        t["derivatives/gradient"], [torch.softmax(t64(ex.X_LSE), 0).numpy()] * 2, rtol=1e-9
    )
    tx = t64(ex.X_LIN)
    jac = torch.autograd.functional.jacobian(lambda z: z @ t64(ex.W_LIN) + t64(ex.B_LIN), tx)
    np.testing.assert_allclose(t["derivatives/jacobian"], jac.numpy(), rtol=1e-9)
    np.testing.assert_array_equal(t["derivatives/w-transpose"], ex.W_LIN.T)
    hess = torch.autograd.functional.hessian(lambda z: z @ t64(ex.A_QUAD) @ z, t64(ex.X_QUAD))
    np.testing.assert_allclose(t["derivatives/hessian"], hess.numpy(), atol=1e-6)
    np.testing.assert_array_equal(t["derivatives/a-plus-at"], hess.numpy())


def test_example_step_tables() -> None:
    t = ex.tables()
    opt = ex.optimum_table()
    np.testing.assert_array_equal(t["derivatives/optimum"], np.log10(opt))
    # predicted optima from the closed forms with M0 = M2 = M3 = e
    np.testing.assert_allclose(opt[:, 0], [2 * np.sqrt(EPS), np.cbrt(3 * EPS)], rtol=1e-12)
    np.testing.assert_allclose(
        opt[:, 3], [2 * np.e * np.sqrt(EPS), (9 / 8) ** (1 / 3) * EPS ** (2 / 3) * np.e], rtol=1e-12
    )
    assert np.all(opt[:, 4] <= opt[:, 3])  # the measured minimum stays below the bound
    assert np.all(np.abs(np.log10(opt[:, 1] / opt[:, 0])) < 0.5)  # optimum h within ~3x
    # the scaling table, recomputed with plain numpy difference quotients at x = 1
    sc = t["derivatives/scaling"]
    h = sc[:, 0]
    fwd = lambda s: abs((np.exp(1 + s) - np.e) / s - np.e)  # noqa: E731
    cen = lambda s: abs((np.exp(1 + s) - np.exp(1 - s)) / (2 * s) - np.e)  # noqa: E731
    np.testing.assert_allclose(sc[:, 1], fwd(h), rtol=1e-6)
    np.testing.assert_allclose(sc[:, 3], cen(h), rtol=1e-6)
    np.testing.assert_allclose(sc[:, 4], cen(h) / cen(h / 2), rtol=1e-6)
    ex_sin = t["derivatives/ex-sin"]
    np.testing.assert_allclose(
        ex_sin[0, 0], abs((np.sin(1.001) - np.sin(1)) / 1e-3 - np.cos(1)), rtol=1e-6
    )
    np.testing.assert_allclose(ex_sin[:, 0], ex_sin[:, 1], rtol=1e-3)


def test_example_gradient_check() -> None:
    x = ex.check_problem()["x"]
    tx = t64(x, grad=True)
    w = t64(ex.check_problem()["w"])
    (torch.logsumexp(tx @ w, 0) + 0.5 * ex.LAMBDA * tx @ tx).backward()
    np.testing.assert_allclose(ex.grad_correct(x), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        ex.loss(x), torch.logsumexp(t64(x) @ w, 0).item() + 0.5 * ex.LAMBDA * x @ x, rtol=1e-12
    )
    r = ex.tables()["derivatives/grad-check"][:, 0]
    assert r[0] < 1e-9 and r[1] > 0.1 and 1e-4 < r[2] < 1e-2
    tj = ex.exercise_tanh()
    np.testing.assert_allclose(
        tj["J"], np.diag(1 - torch.tanh(t64([-1.0, 0.0, 0.5, 2.0])).numpy() ** 2), atol=1e-9
    )
    eo = ex.tables()["derivatives/ex-offset"]
    assert eo[0, 1] > 10 * eo[1, 1]


@pytest.mark.parametrize(
    ("f", "grad", "match"),
    [
        (lambda z: None, lambda z: 2 * z, r"^f\(x\) must hold real numbers"),
        (lambda z: float("nan"), lambda z: 2 * z, r"^f\(x\) must be finite"),
        (lambda z: float(z @ z), lambda z: None, r"^grad\(x\) must hold real numbers"),
        (lambda z: float(z @ z), lambda z: z * np.nan, r"^grad\(x\) must be finite"),
        (lambda z: 1j * z.sum(), lambda z: 2 * z, r"^f\(x\) must hold real numbers"),
    ],
)
def test_grad_check_refuses_a_nan_verdict(f: object, grad: object, match: str) -> None:
    # A NaN relative error compares False with "> 1e-3": a broken gradient would pass.
    with pytest.raises(ValueError, match=match):
        grad_check(f, grad, [1.0, 2.0])  # type: ignore[arg-type]
