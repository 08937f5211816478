"""Worked examples for the page on random variables, expectation and Monte Carlo error."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, check, new_figure, svg
from llmath.probability.distributions import (
    expectation,
    minibatch_mean_variance,
    minibatch_means,
    variance,
)

Array = NDArray[np.float64]

FACES = np.arange(1.0, 7.0)
FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])

N_SMALL, B_SMALL = 8, 3  # small enough to enumerate every batch
N_POP = 50  # the population for the simulation
BATCHES = [1, 2, 5, 10, 20, 25, 30, 40, 50]
N_DRAWS = 4000  # minibatches simulated per batch size
MC_SIZES = [1, 4, 16, 64, 256, 1024]
MC_REPEATS = 2000


def dice() -> Array:
    """Rows fair, loaded; columns E[X], Var[X], E[X^2] - E[X]^2, standard deviation."""
    rows = []
    for p in (FAIR, LOADED):
        mean, var = float(expectation(FACES, p)), float(variance(FACES, p))
        second = float(expectation(FACES**2, p))
        rows.append([mean, var, second - mean**2, np.sqrt(var)])
    return np.array(rows)


@cache
def small_population() -> Array:
    """Eight per-example losses: positive and skewed, like token losses."""
    return np.round(np.random.default_rng(3).gamma(2.0, 1.0, size=N_SMALL), 2)


@cache
def population() -> Array:
    """The N_POP per-example losses used for the simulation."""
    return np.random.default_rng(7).gamma(2.0, 1.0, size=N_POP)


def enumeration() -> Array:
    """Exact variance of the batch mean by listing every batch, next to the formulas.

    Rows: with replacement (all N^B ordered batches, equally likely), without replacement (all
    C(N, B) subsets, equally likely). Columns: enumerated variance, llmath's formula, sigma^2/B.
    """
    pop = small_population()
    sigma2_over_b = float(np.var(pop)) / B_SMALL
    with_r = [np.mean(pop[list(ix)]) for ix in itertools.product(range(N_SMALL), repeat=B_SMALL)]
    without = [np.mean(pop[list(ix)]) for ix in itertools.combinations(range(N_SMALL), B_SMALL)]
    return np.array(
        [
            [np.var(with_r), minibatch_mean_variance(pop, B_SMALL), sigma2_over_b],
            [
                np.var(without),
                minibatch_mean_variance(pop, B_SMALL, replace=False),
                sigma2_over_b,
            ],
        ]
    )


@cache
def simulation() -> Array:
    """Rows: batch sizes. Columns: B, formula and simulated variance, with and without replacement."""
    pop, rng = population(), np.random.default_rng(11)
    rows = []
    for b in BATCHES:
        sim_with = np.var(minibatch_means(pop, b, N_DRAWS, rng))
        sim_without = np.var(minibatch_means(pop, b, N_DRAWS, rng, replace=False))
        rows.append(
            [
                b,
                minibatch_mean_variance(pop, b),
                sim_with,
                minibatch_mean_variance(pop, b, replace=False),
                sim_without,
            ]
        )
    return np.array(rows)


@cache
def monte_carlo() -> Array:
    """Rows: sample sizes n. Columns: n, measured RMS error of the sample mean, sigma/sqrt(n)."""
    pop, rng = population(), np.random.default_rng(5)
    sigma = float(np.std(pop))
    rows = []
    for n in MC_SIZES:
        means = minibatch_means(pop, n, MC_REPEATS, rng)
        rows.append([n, np.sqrt(np.mean((means - pop.mean()) ** 2)), sigma / np.sqrt(n)])
    return np.array(rows)


def figure() -> str:
    """Two panels: Monte Carlo error vs n, and minibatch variance vs B with and without replacement."""
    mc, sim = monte_carlo(), simulation()
    fig, (ax1, ax2) = new_figure(8.0, 3.2, 1, 2)
    ax1.loglog(mc[:, 0], mc[:, 2], color=BLUE, label=r"$\sigma/\sqrt{n}$")
    ax1.loglog(mc[:, 0], mc[:, 1], "o", color=ORANGE, label="measured RMS error")
    ax1.set_xlabel("sample size n")
    ax1.set_ylabel("error of the sample mean")
    ax1.set_title("Monte Carlo error falls like $1/\\sqrt{n}$")
    ax1.legend(frameon=False)
    b = np.arange(1, N_POP + 1)
    pop = population()
    ax2.plot(
        b, [minibatch_mean_variance(pop, int(k)) for k in b], color=BLUE, label="with replacement"
    )
    ax2.plot(
        b,
        [minibatch_mean_variance(pop, int(k), replace=False) for k in b],
        color=ORANGE,
        label="without replacement",
    )
    ax2.plot(sim[:, 0], sim[:, 2], "o", color=BLUE, markersize=4)
    ax2.plot(sim[:, 0], sim[:, 4], "s", color=ORANGE, markersize=4)
    ax2.set_xlabel(f"batch size B (population N = {N_POP})")
    ax2.set_ylabel("variance of the batch mean")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-3, None)
    ax2.set_title("lines: formula, markers: simulation")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return svg(
        fig,
        alt="Left: the measured error of a Monte Carlo mean follows sigma over root n on log-log "
        "axes. Right: the variance of a minibatch mean against batch size; without replacement "
        "it falls below sigma squared over B and reaches zero at B = N.",
        caption="Left: the error of a Monte Carlo mean. Right: the variance of a minibatch "
        "mean, with and without replacement",
    )


def equal_variance_batch(n: int = 1000, b_with: int = 100) -> int:
    """Smallest batch size without replacement whose mean varies no more than B = b_with with."""
    pop = np.arange(float(n))
    target = minibatch_mean_variance(pop, b_with)
    return next(
        b
        for b in range(1, n + 1)
        if minibatch_mean_variance(pop, b, replace=False) <= target * (1 + 1e-12)
    )


def cancellation(offset: float = 1e9) -> tuple[float, float, float]:
    """A fair die shifted by `offset`: (textbook E[X^2] - E[X]^2, llmath.variance, exact 35/12)."""
    x = FACES + offset
    naive = float(expectation(x**2, FAIR) - expectation(x, FAIR) ** 2)
    return naive, float(variance(x, FAIR)), 35 / 12


# Checks: every comparison the page prints goes through show.check ------------------------------


def kurtosis() -> float:
    """The population's kurtosis E[(x - mu)^4] / sigma^4 (3 for a Gaussian)."""
    pop = population()
    c = pop - pop.mean()
    return float(np.mean(c**4) / np.mean(c**2) ** 2)


def dice_checks() -> list[str]:
    """The fair die against the closed forms 7/2 and 35/12; the two variance columns agree."""
    d = dice()
    return [
        check("fair die: |E[X] − 7/2|", d[0, 0], 7 / 2, tol=1e-15),
        check("fair die: |Var[X] − 35/12|", d[0, 1], 35 / 12, tol=1e-15),
        check("max |variance − (E[X²] − E[X]²)|", d[:, 1], d[:, 2], tol=1e-13),
    ]


def monte_carlo_checks() -> list[str]:
    """Measured RMS error against sigma/sqrt(n), relative, within 4 standard errors.

    The mean squared error is an average of MC_REPEATS squared errors, with relative standard
    error sqrt((kappa - 1) / MC_REPEATS), kappa the kurtosis of the sample mean (at most the
    population's); the RMS, its square root, has half that.
    """
    mc = monte_carlo()
    bound = 4 * 0.5 * np.sqrt((kurtosis() - 1) / MC_REPEATS)
    return [check("max |measured RMS / (σ/√n) − 1|", mc[:, 1] / mc[:, 2], 1.0, tol=bound)]


def enumeration_checks() -> list[str]:
    """Listing every batch gives exactly llmath's formula, both ways."""
    e = enumeration()
    return [check("max |enumerated − minibatch_mean_variance|", e[:, 0], e[:, 1], tol=1e-14)]


def simulation_checks() -> list[str]:
    """Simulated variances against the formulas, relative, within 4 standard errors.

    A variance estimated from N_DRAWS batch means has relative standard error
    sqrt((kappa - 1) / N_DRAWS), kappa the kurtosis of a batch mean (at most the population's).
    At B = N without replacement the formula is 0 and every simulated batch mean is the
    population mean, up to rounding.
    """
    s = simulation()
    bound = 4 * np.sqrt((kurtosis() - 1) / N_DRAWS)
    nonzero = s[:, 3] > 0
    return [
        check("with replacement: max |simulated / formula − 1|", s[:, 2] / s[:, 1], 1.0, tol=bound),
        check(
            "without: max |simulated / formula − 1|",
            s[nonzero, 4] / s[nonzero, 3],
            1.0,
            tol=bound,
        ),
        check("without, B = N: |simulated − 0|", s[~nonzero, 4], 0.0, tol=1e-28),
    ]


# Learning rate and batch size: what each scaling rule keeps fixed -----------------------------

SCALING_B = (1, 2, 4, 8, 16)
ETA_0 = 0.1  # the learning rate at B = 1 (an input choice)


def scaling_table() -> Array:
    """Rows: SCALING_B. Columns: sigma^2/B, then for eta = ETA_0 B (linear) and eta = ETA_0 sqrt(B):
    eta, the variance of one step's noise eta^2 sigma^2/B, and the SDE noise scale eta/B."""
    pop = population()
    rows = []
    for b in SCALING_B:
        v = minibatch_mean_variance(pop, b)  # sigma^2 / B
        row = [v]
        for eta in (ETA_0 * b, ETA_0 * np.sqrt(b)):
            row += [eta, eta**2 * v, eta / b]
        rows.append(row)
    return np.array(rows)


def scaling_checks() -> list[str]:
    """Linear scaling keeps eta/B fixed; square-root scaling keeps the step-noise variance fixed."""
    t = scaling_table()
    return [
        check("linear η ∝ B: max |η/B − η₀|", t[:, 3], ETA_0, tol=1e-15),
        check("square root η ∝ √B: max |η²σ²/B − η₀²σ²|", t[:, 5], t[0, 5], tol=1e-15),
    ]


def tables() -> dict[str, Array]:
    return {
        "distributions/dice": dice(),
        "distributions/enumeration": enumeration(),
        "distributions/simulation": simulation()[:, 1:],
        "distributions/monte-carlo": monte_carlo()[:, 1:],
        "distributions/scaling": scaling_table(),
    }
