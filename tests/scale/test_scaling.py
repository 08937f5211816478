"""Scaling laws: the published constants, the closed-form compute-optimal split against scipy's
numerical minimum, and the laws' shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar

from llmath.scale.scaling import (
    CHINCHILLA_FITS,
    ChinchillaFit,
    chinchilla_loss,
    compute_optimal,
    kaplan_loss,
    training_flops,
)

FITS = list(CHINCHILLA_FITS)
GOPHER_C = 5.76e23  # Hoffmann et al. (2022), Sect. 4 / Fig. 4: Gopher's training budget


def test_published_constants() -> None:
    assert CHINCHILLA_FITS["hoffmann"] == (1.69, 406.4, 410.7, 0.34, 0.28)
    assert CHINCHILLA_FITS["besiroglu"] == (1.8172, 482.01, 2085.43, 0.3478, 0.3658)


def test_kaplan_single_laws_by_hand() -> None:
    assert kaplan_loss(N=8.8e13) == pytest.approx(1.0, abs=1e-15)  # N = N_c
    assert kaplan_loss(D=5.4e13) == pytest.approx(1.0, abs=1e-15)
    assert kaplan_loss(N=1e9) == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-14)
    assert kaplan_loss(D=1e10) == pytest.approx((5.4e13 / 1e10) ** 0.095, rel=1e-14)


def test_kaplan_joint_law_limits() -> None:
    """Table 2's joint law: D -> inf gives (N_c/N)^alpha_N; N -> inf gives (D_c/D)^alpha_D."""
    N, D = 1e9, 1e10
    assert kaplan_loss(N=N, D=1e300) == pytest.approx((6.4e13 / N) ** 0.076, rel=1e-12)
    assert kaplan_loss(N=1e300, D=D) == pytest.approx((1.8e13 / D) ** 0.103, rel=1e-12)
    assert kaplan_loss(N=N, D=D) > max(kaplan_loss(N=N, D=1e300), kaplan_loss(N=1e300, D=D))


def test_chinchilla_by_hand_and_vectorised() -> None:
    N, D = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    expected = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    np.testing.assert_allclose(chinchilla_loss(N, D), expected, rtol=1e-15)
    custom = ChinchillaFit(E=0.0, A=1.0, B=1.0, alpha=1.0, beta=1.0)
    assert chinchilla_loss(2.0, 4.0, fit=custom) == 0.75


@pytest.mark.parametrize("fit", FITS)
def test_closed_form_matches_scipy(fit: str) -> None:
    """Minimise L(N, C/(6N)) over log N numerically and compare with Eq. (4)."""
    for C in (1e19, 1e22, GOPHER_C, 1e26):
        res = minimize_scalar(
            lambda u, C=C: chinchilla_loss(math.exp(u), C / (6 * math.exp(u)), fit=fit),
            bounds=(math.log(1e3), math.log(1e16)),
            method="bounded",
            options={"xatol": 1e-10},
        )
        opt = compute_optimal(C, fit=fit)
        assert math.exp(res.x) == pytest.approx(opt.N, rel=1e-6)
        assert res.fun == pytest.approx(opt.loss, rel=1e-12)
        assert opt.D == pytest.approx(C / (6 * opt.N), rel=1e-14)
        assert opt.tokens_per_param == pytest.approx(opt.D / opt.N, rel=1e-14)


@pytest.mark.parametrize("fit", FITS)
def test_closed_form_matches_a_lagrange_solver(fit: str) -> None:
    """scipy's SLSQP with the constraint log N + log D = log(C/6), an independent route."""
    C = 1e23
    f = CHINCHILLA_FITS[fit]
    res = minimize(
        lambda z: f.A * math.exp(-f.alpha * z[0]) + f.B * math.exp(-f.beta * z[1]),
        x0=[20.0, 25.0],
        constraints=[{"type": "eq", "fun": lambda z: z[0] + z[1] - math.log(C / 6)}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    )
    assert math.exp(res.x[0]) == pytest.approx(compute_optimal(C, fit=fit).N, rel=1e-4)


def test_gopher_budget_rounding() -> None:
    """The printed constants give about 32B at the Gopher budget; the unrounded ones the
    paper's 40B (Fig. 4); Besiroglu's refit about 20 tokens per parameter."""
    assert 31e9 < compute_optimal(GOPHER_C).N < 33e9
    assert 39.5e9 < compute_optimal(GOPHER_C, fit="hoffmann_unrounded").N < 41e9
    assert 15 < compute_optimal(GOPHER_C, fit="besiroglu").tokens_per_param < 25


@given(st.floats(17, 27), st.sampled_from(FITS))
def test_optimum_is_a_minimum_on_the_isoflop_line(logc: float, fit: str) -> None:
    C = 10.0**logc
    opt = compute_optimal(C, fit=fit)
    for k in (0.5, 0.9, 1.1, 2.0):
        N = opt.N * k
        assert chinchilla_loss(N, C / (6 * N), fit=fit) > opt.loss


@given(st.floats(17, 26), st.floats(0.1, 3.0))
def test_exponents(logc: float, decades: float) -> None:
    """N_opt grows as C^(beta/(alpha+beta)), D_opt as C^(alpha/(alpha+beta))."""
    f = CHINCHILLA_FITS["hoffmann"]
    a, b = compute_optimal(10.0**logc), compute_optimal(10.0 ** (logc + decades))
    assert math.log10(b.N / a.N) / decades == pytest.approx(f.beta / (f.alpha + f.beta))
    assert math.log10(b.D / a.D) / decades == pytest.approx(f.alpha / (f.alpha + f.beta))


@given(st.floats(1, 13), st.floats(1, 13))
def test_losses_decrease_in_N_and_D(logn: float, logd: float) -> None:
    N, D = 10.0**logn, 10.0**logd
    assert kaplan_loss(N=2 * N, D=D) < kaplan_loss(N=N, D=D)
    assert kaplan_loss(N=N, D=2 * D) < kaplan_loss(N=N, D=D)
    assert chinchilla_loss(2 * N, D) < chinchilla_loss(N, D)
    assert chinchilla_loss(N, 2 * D) < chinchilla_loss(N, D)
    assert chinchilla_loss(N, D) > 1.69


def test_training_flops() -> None:
    assert training_flops(70e9, 1.4e12) == pytest.approx(5.88e23, rel=1e-15)
    np.testing.assert_array_equal(training_flops([1.0, 2.0], 3.0), [18.0, 36.0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: kaplan_loss(), "N, D or both"),
        (lambda: kaplan_loss(N=-1.0), "N must be positive"),
        (lambda: kaplan_loss(D=0.0), "D must be positive"),
        (lambda: chinchilla_loss(1e9, 1e9, fit="kaplan"), "fit must be"),
        (lambda: chinchilla_loss(1e9, -1e9), "D must be positive"),
        (lambda: chinchilla_loss([1.0, 2.0], [1.0, 2.0, 3.0]), "N .* and D .* must broadcast"),
        (lambda: compute_optimal(-1e20), "C must be positive"),
        (lambda: compute_optimal(1e20, fit=ChinchillaFit(1, 1, 1, -0.3, 0.3)), "fit must"),
        (lambda: training_flops(-5, 1), "N must be positive"),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
