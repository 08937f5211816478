"""Worked examples for the geometry-of-high-dimensions chapter: volume fractions, radii of random
points (closed forms and Monte Carlo), near-orthogonality and a Johnson–Lindenstrauss projection.
No published constants are used; GPT-2 small's width 768 (Radford et al. 2019) is a reference
dimension only."""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, RED, new_figure, svg
from llmath import (
    ball_volume_fraction,
    cosine_similarity,
    distance_ratios,
    jl_min_dim,
    radius_stats,
    random_projection,
    sample_ball,
)

Array = NDArray[np.float64]

DIMS = (2, 3, 10, 100, 768, 10_000)
EPSILONS = (0.01, 0.05, 0.1)
MC = 10_000  # Monte Carlo points per dimension


def shell_table() -> Array:
    """Rows per dimension; columns: fraction of the volume in the shell (1 - ε, 1] per ε."""
    return np.array([[1 - ball_volume_fraction(n, 1 - e) for e in EPSILONS] for n in DIMS])


@functools.cache
def mc_radii(n: int, seed: int = 0) -> Array:
    """Norms of MC uniform points in the unit n-ball."""
    return np.linalg.norm(sample_ball(n, MC, rng=np.random.default_rng(seed)), axis=1)


def shell_mc(n: int = 100, eps: float = 0.01) -> tuple[float, float]:
    """(Monte Carlo fraction in the shell, its standard error)."""
    hit = (mc_radii(n) > 1 - eps).mean()
    return float(hit), math.sqrt(hit * (1 - hit) / MC)


def quad_ratio(n: int, r: float) -> float:
    """V_n(r) / V_n(1) by integrating the radius density n t^(n-1) with scipy (the volume of a
    ball is the integral of its spheres' areas S t^(n-1), and V_n = S/n), a second witness."""
    from scipy.integrate import quad

    return float(quad(lambda t: n * t ** (n - 1), 0, r, epsabs=1e-15, epsrel=1e-12,
                      limit=200)[0])  # fmt: skip


def gamma_volume(n: int) -> float:
    """pi^(n/2) / Gamma(n/2 + 1) with scipy's gamma function (finite for n <= 340)."""
    from scipy.special import gamma

    return float(np.pi ** (n / 2) / gamma(n / 2 + 1))


def rejection_fraction(n: int, r: float, m: int = 200_000, seed: int = 4) -> tuple[float, int]:
    """Fraction of the ball inside radius r by rejection from the cube [-1, 1]^n (independent of
    sample_ball), and the number of points that landed in the ball."""
    x = np.random.default_rng(seed).uniform(-1, 1, size=(m, n))
    norms = np.linalg.norm(x, axis=1)
    inside = norms[norms <= 1]
    return float((inside <= r).mean()), int(inside.size)


CLAIM_DIMS = (2, 3, 5, 10, 30, 100, 768, 1000, 10_000)


def claim_table() -> Array:
    """Rows per n: radius sqrt(1 - 1/n), fraction of the ball inside it, MC fraction (n ≤ 1000)."""
    rows = []
    for n in CLAIM_DIMS:
        r = math.sqrt(1 - 1 / n)
        mc = (mc_radii(n) <= r).mean() if n <= 768 else np.nan
        rows.append([r, ball_volume_fraction(n, r), mc])
    return np.array(rows)


def claim_figure() -> str:
    ns = np.unique(np.geomspace(2, 10_000, 120).astype(int))
    inside = [ball_volume_fraction(int(n), math.sqrt(1 - 1 / n)) for n in ns]
    fig, ax = new_figure(6.0, 3.2)
    ax.semilogx(ns, inside, color=BLUE, label="fraction of the ball inside radius √(1 − 1/n)")
    ax.axhline(math.exp(-0.5), color=ORANGE, ls="--", label="limit e^(−1/2)")
    ax.axhline(0.5, color="black", lw=0.6, ls=":")
    ax.set_ylim(0.4, 0.75)
    ax.set_xlabel("dimension n")
    ax.set_ylabel("fraction of the volume")
    ax.legend(frameon=False, fontsize=9, loc="upper right")
    return svg(
        fig,
        alt="The fraction of the unit ball's volume inside radius square root of 1 minus 1 "
        "over n, against n from 2 to 10000: it stays above one half and settles at e to the "
        "minus one half, about 0.61.",
        caption="Most of the ball's volume is inside radius √(1 − 1/n), not outside it: the "
        "fraction tends to e<sup>−1/2</sup> ≈ 0.61.",
    )


RADIUS_DIMS = (1, 2, 3, 10, 100, 768)


def radius_table() -> Array:
    """Rows per n: mean, median, RMS radius (closed form) and the three MC estimates."""
    rows = []
    for n in RADIUS_DIMS:
        s = radius_stats(n)
        r = mc_radii(n)
        rows.append([s["mean"], s["median"], s["rms"], r.mean(), np.median(r),
                     math.sqrt((r**2).mean())])  # fmt: skip
    return np.array(rows)


GAUSS_N = 100


@functools.cache
def gaussian_norms(n: int = GAUSS_N, seed: int = 1) -> Array:
    """Norms of MC draws of N(0, I/n)."""
    x = np.random.default_rng(seed).standard_normal((MC, n)) / math.sqrt(n)
    return np.linalg.norm(x, axis=1)


def radius_figure(n: int = GAUSS_N) -> str:
    fig, ax = new_figure(6.0, 3.2)
    bins = np.linspace(0.6, 1.3, 71)
    ax.hist(mc_radii(n), bins=bins, density=True, color=BLUE, alpha=0.6,
            label=f"|x|, x uniform in the ball (n = {n})")  # fmt: skip
    ax.hist(gaussian_norms(n), bins=bins, density=True, color=GREEN, alpha=0.6,
            label=f"|x|, x ~ N(0, I/{n})")  # fmt: skip
    ax.axvline(math.sqrt(1 - 1 / n), color=RED, ls="--", lw=1, label="√(1 − 1/n)")
    ax.set_xlabel("norm")
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return svg(
        fig,
        alt="Two histograms of norms at n = 100: uniform points in the ball pile up just below "
        "radius 1; Gaussian points with covariance I/n form a bump around 1 with its peak at "
        "the dashed line, square root of 1 minus 1 over n.",
        caption="Two different concentrations at n = 100 (10 000 points each): the ball's "
        "radius piles up against 1, the Gaussian norm peaks at √(1 − 1/n).",
    )


COS_DIMS = (3, 10, 100, 768, 4096)


def cosine_table(m: int = 2000) -> Array:
    """Rows per D: std of the cosine of m random Gaussian pairs, 1/sqrt(D), largest |cos|."""
    rng = np.random.default_rng(2)
    rows = []
    for D in COS_DIMS:
        a, b = rng.standard_normal((m, D)), rng.standard_normal((m, D))
        c = cosine_similarity(a, b)
        rows.append([float(np.std(c)), 1 / math.sqrt(D), float(np.abs(c).max())])
    return np.array(rows)


JL_M, JL_D = 200, 2000
JL_KS = (16, 64, 256, 1024)


@functools.cache
def jl_points() -> Array:
    return np.random.default_rng(3).standard_normal((JL_M, JL_D))


@functools.cache
def jl_table() -> Array:
    """Rows per k: min ratio, max ratio, std of the squared-distance ratios, sqrt(8/k)."""
    x = jl_points()
    rows = []
    for k in JL_KS:
        r = distance_ratios(x, random_projection(x, k, rng=np.random.default_rng(k)))
        rows.append([r.min(), r.max(), r.std(), math.sqrt(2 / k)])
    return np.array(rows)


def jl_bound_check(eps: float = 0.25) -> tuple[int, float, float]:
    """(k from the bound, min ratio, max ratio) for the JL points at distortion eps."""
    k = jl_min_dim(JL_M, eps)
    x = jl_points()
    r = distance_ratios(x, random_projection(x, k, rng=np.random.default_rng(99)))
    return k, float(r.min()), float(r.max())


def jl_figure() -> str:
    t = jl_table()
    fig, ax = new_figure(6.0, 3.2)
    ks = np.array(JL_KS, dtype=float)
    ax.loglog(ks, np.maximum(t[:, 1] - 1, 1 - t[:, 0]), "o-", color=BLUE,
              label="largest distortion of 19 900 pairs")  # fmt: skip
    ax.loglog(ks, np.sqrt(2 / ks), "--", color=ORANGE, label="std of one ratio, √(2/k)")
    ax.set_xlabel("target dimension k")
    ax.set_ylabel("|ratio − 1|")
    ax.legend(frameon=False, fontsize=9)
    return svg(
        fig,
        alt="Log-log plot: the largest distortion of squared distances among all pairs of 200 "
        "points falls like one over the square root of k, a few times above the standard "
        "deviation of a single ratio.",
        caption="A Gaussian random projection from D = 2000 to k dimensions: the worst pair's "
        "distortion shrinks like 1/√k, independent of D.",
    )


def tables() -> dict[str, Array]:
    return {
        "geometry/shell": shell_table(),
        "geometry/claim": claim_table()[:, :2],
        "geometry/radius": radius_table(),
        "geometry/cosine": cosine_table(),
        "geometry/jl": jl_table(),
    }
