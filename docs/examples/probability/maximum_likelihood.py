"""Worked examples for the maximum-likelihood chapter."""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, check, new_figure, svg
from llmath import softmax
from llmath.calculus.cross_entropy import cross_entropy
from llmath.probability.information import cross_entropy_dist, entropy, kl_divergence
from llmath.probability.mle import (
    categorical_map,
    categorical_mle,
    gaussian_neg_log_posterior,
    map_linear_regression,
    negative_log_likelihood,
)

Array = NDArray[np.float64]

SYMBOLS = ["the", "cat", "sat", "on", "mat", "dog"]
P_TRUE = np.array([0.30, 0.20, 0.18, 0.15, 0.14, 0.03])
T_TRAIN, T_TEST = 30, 100_000
SEED = 2


@cache
def data() -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Training and held-out samples from P_TRUE."""
    rng = np.random.default_rng(SEED)
    train = rng.choice(len(P_TRUE), size=T_TRAIN, p=P_TRUE)
    test = rng.choice(len(P_TRUE), size=T_TEST, p=P_TRUE)
    return train, test


def counts() -> Array:
    train, _ = data()
    return np.bincount(train, minlength=len(P_TRUE)).astype(float)


def candidates() -> dict[str, Array]:
    """Candidate models q: the truth, the MLE, add-one smoothing, uniform."""
    c = counts()
    return {
        "true p": P_TRUE,
        "MLE (counts / T)": categorical_mle(c),
        "add-one smoothing": categorical_map(c, alpha=2.0),
        "uniform": np.full(len(P_TRUE), 1 / len(P_TRUE)),
    }


def candidate_table() -> Array:
    """Columns: train NLL, H(p_hat, q), H(p_hat), KL(p_hat || q), held-out NLL."""
    train, test = data()
    p_hat = categorical_mle(counts())
    rows = []
    for q in candidates().values():
        rows.append(
            [
                negative_log_likelihood(q, train),
                float(cross_entropy_dist(p_hat, q)),
                float(entropy(p_hat)),
                float(kl_divergence(p_hat, q)),
                negative_log_likelihood(q, test),
            ]
        )
    return np.array(rows)


def probabilities_table() -> Array:
    """Rows: counts, then each candidate's probabilities."""
    return np.vstack([counts(), *candidates().values()])


def underflow(n: int = 1000, p: float = 0.2) -> tuple[float, float]:
    """Likelihood of n observations of probability p: (direct product, sum of logs)."""
    probs = np.full(n, p)
    return float(np.prod(probs)), float(np.sum(np.log(probs)))


@cache
def language_model() -> tuple[float, float, float]:
    """A random 'model': per-position NLL of softmax(logits) vs Part 2's cross_entropy, vs torch."""
    import torch

    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 7, 10)) * 2
    targets = rng.integers(0, 10, size=(4, 7))
    ours = negative_log_likelihood(softmax(logits), targets)
    ref = torch.nn.functional.cross_entropy(
        torch.from_numpy(logits).reshape(-1, 10), torch.from_numpy(targets).reshape(-1)
    )
    return ours, cross_entropy(logits, targets), float(ref)


def bernoulli_curves() -> list[tuple[int, Array, Array]]:
    """Mean NLL of a coin with P(heads) = theta, for 3/10 and 30/100 heads."""
    theta = np.linspace(0.01, 0.99, 197)
    out = []
    for n in (10, 100):
        obs = np.r_[np.ones(3 * n // 10, dtype=int), np.zeros(n - 3 * n // 10, dtype=int)]
        q = np.stack([1 - theta, theta], axis=-1)  # (197, 2)
        nll = np.array([negative_log_likelihood(row, obs) for row in q])
        out.append((n, theta, nll))
    return out


DIRICHLET_SAMPLES = 200_000


@cache
def dirichlet_check(samples: int = DIRICHLET_SAMPLES) -> Array:
    """Rows: MLE, MAP alpha=1, posterior mean alpha=1 (Monte Carlo), add-one = MAP alpha=2."""
    c = counts()
    rng = np.random.default_rng(8)
    posterior_mean_mc = rng.dirichlet(c + 1.0, size=samples).mean(axis=0)
    return np.vstack(
        [
            categorical_mle(c),
            categorical_map(c, alpha=1.0),
            posterior_mean_mc,
            categorical_map(c, alpha=2.0),
        ]
    )


def log_posterior_uniform(q: Array) -> float:
    """Log posterior density (up to a constant) under a uniform prior: sum c_v log q_v."""
    c = counts()
    with np.errstate(divide="ignore"):
        terms = np.where(c > 0, c * np.log(np.where(q > 0, q, 1.0)), 0.0)
    return float(terms.sum())


# Weight decay as a Gaussian prior -------------------------------------------------------------

N_REG, D_REG, NOISE_SD = 20, 3, 0.5
W_TRUE = np.array([1.5, -2.0, 0.5])
PRIOR_VARS = [0.01, 0.1, 1.0, 10.0, 1e6]


@cache
def regression_data() -> tuple[Array, Array]:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(N_REG, D_REG))
    y = x @ W_TRUE + NOISE_SD * rng.normal(size=N_REG)
    return x, y


def ridge_table() -> Array:
    """Rows: prior variances tau^2, then least squares. Columns: w_1..w_D, lambda."""
    x, y = regression_data()
    rows = [
        [*map_linear_regression(x, y, noise_var=NOISE_SD**2, prior_var=t), NOISE_SD**2 / t]
        for t in PRIOR_VARS
    ]
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    rows.append([*ols, 0.0])
    return np.array(rows)


@cache
def gradient_descent(prior_var: float = 0.1, steps: int = 500) -> tuple[Array, Array, int]:
    """Plain gradient descent on the negative log posterior: (final w, closed form, steps)."""
    x, y = regression_data()
    kw = {"noise_var": NOISE_SD**2, "prior_var": prior_var}
    lr = 1.0 / (np.linalg.eigvalsh(x.T @ x).max() / NOISE_SD**2 + 1 / prior_var)  # 1 / Lipschitz
    w = np.zeros(D_REG)
    for _ in range(steps):
        _, g = gaussian_neg_log_posterior(w, x, y, **kw)
        w = w - lr * g
    return w, map_linear_regression(x, y, **kw), steps


def figure() -> str:
    """Left: Bernoulli NLL curves. Right: ridge weights against the prior variance."""
    fig, (ax1, ax2) = new_figure(8.0, 3.2, 1, 2)
    for (n, theta, nll), colour in zip(bernoulli_curves(), (BLUE, ORANGE), strict=True):
        ax1.plot(theta, nll, color=colour, label=f"{3 * n // 10} heads in {n}")
    ax1.axvline(0.3, color="#888888", linestyle=":", linewidth=1)
    ax1.set_ylim(0.5, 1.6)
    ax1.set_xlabel(r"model's $P(\mathrm{heads}) = \theta$")
    ax1.set_ylabel("mean NLL (nats)")
    ax1.set_title("minimum at the frequency 0.3")
    ax1.legend(frameon=False)
    x, y = regression_data()
    taus = np.logspace(-3, 3, 61)
    path = np.array([map_linear_regression(x, y, noise_var=NOISE_SD**2, prior_var=t) for t in taus])
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    for j, colour in zip(range(D_REG), (GREEN, PURPLE, RED), strict=True):
        ax2.semilogx(taus, path[:, j], color=colour, label=f"$w_{j + 1}$")
        ax2.axhline(ols[j], color=colour, linestyle="--", linewidth=1)
    ax2.set_xlabel(r"prior variance $\sigma_w^2$")
    ax2.set_ylabel("MAP weight")
    ax2.set_title("dashed: least squares (MLE)")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return svg(
        fig,
        alt="Left: the mean negative log-likelihood of a coin model is lowest at the observed "
        "frequency 0.3, and the curve is sharper with 100 tosses than with 10. Right: MAP "
        "regression weights shrink to zero for a small prior variance and approach the least "
        "squares weights as the prior variance grows.",
        caption="Left: the mean NLL of a coin model. Right: MAP regression weights against "
        "the prior variance",
    )


# Checks: every comparison the page prints goes through show.check ------------------------------


def candidate_checks() -> list[str]:
    """Train NLL = H(p_hat, q) = H(p_hat) + KL for every candidate; the MLE's NLL is H(p_hat)."""
    t = candidate_table()
    return [
        check("max |train NLL − H(p̂, q)|", t[:, 0], t[:, 1], tol=1e-14),
        check("max |H(p̂, q) − (H(p̂) + KL(p̂ ‖ q))|", t[:, 1], t[:, 2] + t[:, 3], tol=1e-14),
        check("MLE: |train NLL − H(p̂)|", t[1, 0], t[1, 2], tol=1e-14),
    ]


def language_model_checks() -> list[str]:
    """negative_log_likelihood(softmax(logits)) against Part 2's cross_entropy and torch."""
    ours, part2, ref = language_model()
    return [
        check("|negative_log_likelihood − cross_entropy|", ours, part2, tol=1e-14),
        check("|negative_log_likelihood − torch|", ours, ref, tol=1e-14),
    ]


def dirichlet_checks() -> list[str]:
    """MAP at alpha = 1 is the MLE; the Monte Carlo posterior mean matches add-one within 4 SE.

    Each coordinate of a Dirichlet(c + 1) sample has variance m(1 - m)/(n + nV + 1) with m its
    mean, so the average of DIRICHLET_SAMPLES draws has standard error sqrt of that over the
    number of samples.
    """
    d = dirichlet_check()
    c = counts()
    m = categorical_map(c, alpha=2.0)  # the exact posterior mean (c + 1)/(n + nV)
    se = np.sqrt(m * (1 - m) / (c.sum() + len(c) + 1) / DIRICHLET_SAMPLES)
    return [
        check("|MAP(α = 1) − MLE|", d[1], d[0], tol=1e-15),
        check(
            "max |Monte Carlo posterior mean − add-one| / standard error",
            np.max(np.abs(d[2] - d[3]) / se),
            0.0,
            tol=4.0,
        ),
    ]


def ridge_checks() -> list[str]:
    """Gradient descent against the closed form; the vaguest prior against least squares."""
    w_gd, w_map, _ = gradient_descent()
    rt = ridge_table()
    return [
        check("max |gradient descent − closed form|", w_gd, w_map, tol=1e-8),
        check(
            f"σ_w² = {PRIOR_VARS[-1]:g}: max |MAP − least squares|",
            rt[-2, :-1],
            rt[-1, :-1],
            tol=1e-5,
        ),
    ]


def tables() -> dict[str, Array]:
    return {
        "maximum-likelihood/probabilities": probabilities_table(),
        "maximum-likelihood/candidates": candidate_table(),
        "maximum-likelihood/dirichlet": dirichlet_check(),
        "maximum-likelihood/ridge": ridge_table(),
    }
