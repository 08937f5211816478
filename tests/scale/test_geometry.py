"""High-dimensional geometry: volume fractions against the gamma-function formula and Monte Carlo,
radius statistics against scipy's integrals and distributions, and Johnson–Lindenstrauss."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special, stats

from llmath.scale.geometry import (
    ball_volume_fraction,
    distance_ratios,
    jl_min_dim,
    radius_stats,
    random_projection,
    sample_ball,
    unit_ball_volume,
)


def _gamma_volume(n: int, r: float = 1.0) -> float:
    return float(np.pi ** (n / 2) / special.gamma(n / 2 + 1) * r**n)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 50])
def test_volume_fraction_is_the_ratio_of_gamma_volumes(n: int) -> None:
    for r in (0.1, 0.5, 0.9, 1.0):
        expected = _gamma_volume(n, r) / _gamma_volume(n)
        assert ball_volume_fraction(n, r) == pytest.approx(expected, rel=1e-12)
    assert unit_ball_volume(n) == pytest.approx(_gamma_volume(n), rel=1e-12)
    assert unit_ball_volume(n, log=True) == pytest.approx(math.log(_gamma_volume(n)), rel=1e-12)


def test_low_dimensional_volumes_by_hand() -> None:
    assert unit_ball_volume(1) == pytest.approx(2.0)
    assert unit_ball_volume(2) == pytest.approx(math.pi)
    assert unit_ball_volume(3) == pytest.approx(4 / 3 * math.pi)
    assert max(range(1, 30), key=unit_ball_volume) == 5


@pytest.mark.parametrize("n", [2, 10, 100])
def test_volume_fraction_against_monte_carlo(n: int) -> None:
    rng = np.random.default_rng(n)
    radii = np.linalg.norm(sample_ball(n, 200_000, rng=rng), axis=1)
    for r in (0.5, 0.9, 0.99):
        p = ball_volume_fraction(n, r)
        se = math.sqrt(p * (1 - p) / radii.size) + 1e-12
        assert abs((radii <= r).mean() - p) < 5 * se


def test_rejection_sampling_is_a_second_witness() -> None:
    """Uniform points in the cube kept if inside the ball: an oracle independent of sample_ball."""
    rng = np.random.default_rng(7)
    n = 3
    cube = rng.uniform(-1, 1, size=(400_000, n))
    r = np.linalg.norm(cube, axis=1)
    inside = r[r <= 1]
    assert inside.size / r.size == pytest.approx(unit_ball_volume(n) / 2**n, abs=0.004)
    assert (inside <= 0.8).mean() == pytest.approx(ball_volume_fraction(n, 0.8), abs=0.005)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40, 1000])
def test_ball_radius_stats_against_scipy_integrals(n: int) -> None:
    s = radius_stats(n)
    pdf = lambda r: n * r ** (n - 1)  # noqa: E731
    mean = integrate.quad(lambda r: r * pdf(r), 0, 1, epsabs=1e-13)[0]
    ms = integrate.quad(lambda r: r * r * pdf(r), 0, 1, epsabs=1e-13)[0]
    assert s["mean"] == pytest.approx(mean, rel=1e-9)
    assert s["rms"] == pytest.approx(math.sqrt(ms), rel=1e-9)
    assert ball_volume_fraction(n, s["median"]) == pytest.approx(0.5, rel=1e-12)
    assert s["mode"] == 1.0


@pytest.mark.parametrize("n", [2, 3, 10, 100, 10_000])
def test_gaussian_radius_stats_against_scipy_chi(n: int) -> None:
    """|x| for x ~ N(0, I/n) is chi(n) / sqrt(n)."""
    s = radius_stats(n, distribution="gaussian")
    chi = stats.chi(n, scale=1 / math.sqrt(n))
    assert s["mean"] == pytest.approx(chi.mean(), rel=1e-10)
    assert s["rms"] == pytest.approx(math.sqrt(chi.moment(2)), rel=1e-10)
    assert s["mode"] == pytest.approx(math.sqrt(1 - 1 / n), rel=1e-14)
    eps = 1e-4  # the density is largest at the mode
    assert chi.pdf(s["mode"]) > max(chi.pdf(s["mode"] - eps), chi.pdf(s["mode"] + eps))


def test_fraction_inside_the_gaussian_mode_tends_to_exp_minus_half() -> None:
    for n, tol in ((100, 1e-2), (10_000, 1e-4)):
        inside = ball_volume_fraction(n, math.sqrt(1 - 1 / n))
        assert inside == pytest.approx(math.exp(-0.5), abs=tol)


@given(st.integers(1, 500), st.floats(0, 1), st.floats(0, 1))
def test_fraction_properties(n: int, r1: float, r2: float) -> None:
    lo, hi = sorted((r1, r2))
    assert ball_volume_fraction(n, lo) <= ball_volume_fraction(n, hi)
    assert ball_volume_fraction(n + 1, hi) <= ball_volume_fraction(n, hi)
    s = radius_stats(n)
    assert s["mean"] <= s["rms"] <= 1.0


def test_jl_min_dim_against_sklearn() -> None:
    from sklearn.random_projection import johnson_lindenstrauss_min_dim

    for m, eps in ((10, 0.1), (1000, 0.5), (10**6, 0.2), (50, 0.9)):
        k = jl_min_dim(m, eps)
        exact = 4 * math.log(m) / (eps**2 / 2 - eps**3 / 3)
        assert k - 1 < exact <= k
        assert johnson_lindenstrauss_min_dim(m, eps=eps) in (k - 1, k)  # sklearn truncates


def test_random_projection_preserves_norms_on_average() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1000))
    y = random_projection(x, 300, rng=rng)
    ratio = (y**2).sum(axis=1) / (x**2).sum(axis=1)
    # ||y||^2 / ||x||^2 ~ chi^2_k / k: mean 1, std sqrt(2/k)
    assert ratio.mean() == pytest.approx(1.0, abs=5 * math.sqrt(2 / 300) / math.sqrt(200))
    assert ratio.std() == pytest.approx(math.sqrt(2 / 300), rel=0.2)


def test_jl_distortion_within_eps() -> None:
    rng = np.random.default_rng(1)
    m, eps = 60, 0.5
    x = rng.normal(size=(m, 5000))
    k = jl_min_dim(m, eps)
    ratios = distance_ratios(x, random_projection(x, k, rng=rng))
    assert ratios.shape == (m * (m - 1) // 2,)
    assert ratios.min() > 1 - eps and ratios.max() < 1 + eps


def test_distance_ratios_by_hand() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(distance_ratios(x, 2 * x), [4.0, 4.0, 4.0])
    np.testing.assert_allclose(distance_ratios(x, x[:, :1]), [1.0, 0.0, 1 / 5])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ball_volume_fraction(0, 0.5), "n must be a positive integer"),
        (lambda: ball_volume_fraction(3, 1.5), r"r must be in \[0, 1\]"),
        (lambda: ball_volume_fraction(3, -0.1), r"r must be in \[0, 1\]"),
        (lambda: unit_ball_volume(-2), "n must be a positive integer"),
        (lambda: radius_stats(3, distribution="cube"), "distribution must be"),
        (lambda: jl_min_dim(1, 0.1), "m must be an integer >= 2"),
        (lambda: jl_min_dim(10, 1.5), r"eps must be in \(0, 1\)"),
        (lambda: random_projection(np.ones(3), 2, rng=np.random.default_rng(0)), "x"),
        (lambda: distance_ratios(np.ones((3, 2)), np.ones((2, 2))), "same number"),
        (lambda: distance_ratios(np.ones((3, 2)), np.ones((3, 2))), "two equal rows"),
        (lambda: sample_ball(3, 2, rng=3), "rng"),  # type: ignore[arg-type]
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
