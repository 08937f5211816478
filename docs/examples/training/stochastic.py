"""Worked examples for "Stochastic gradients": inputs chosen here, every result computed by llmath.

The real small problem is ridge regression on a generated dataset of N = 256 examples with
D = 4 features; its mean loss is Part 3's `gaussian_neg_log_posterior` with the noise variance
set to N, and its minimum Part 3's `map_linear_regression`. Minibatch variances come from Part
3's `minibatch_mean_variance` and `minibatch_means`; every run is llmath's `SGD`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import solve_discrete_lyapunov

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, check, new_figure, svg
from llmath.probability.distributions import minibatch_mean_variance, minibatch_means
from llmath.probability.mle import gaussian_neg_log_posterior, map_linear_regression
from llmath.training.optimizers import SGD

Array = NDArray[np.float64]

# ---------------------------------------------------------------- the dataset

N, D = 256, 4
PRIOR_VAR = 100.0  # a weak ridge penalty |w|^2 / (2 * 100) per example
W_TRUE = np.array([1.0, -2.0, 0.5, 3.0])
SCALES = np.array([1.0, 0.5, 1.5, 1.0])  # feature scales: an ill-conditioned H
NOISE = 0.5
SEED = 2026


@functools.cache
def data() -> tuple[Array, Array]:
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(N, D)) * SCALES  # (N, D)
    y = x @ W_TRUE + NOISE * rng.normal(size=N)  # (N,)
    return x, y


def loss(w: Array) -> float:
    """The mean loss (1/N) sum_n [(y_n - x_n w)^2 / 2 + |w|^2 / (2 prior_var)]: Part 3's negative
    log posterior with noise variance N."""
    x, y = data()
    return gaussian_neg_log_posterior(w, x, y, noise_var=float(N), prior_var=PRIOR_VAR)[0]


def full_grad(w: Array) -> Array:
    x, y = data()
    return gaussian_neg_log_posterior(w, x, y, noise_var=float(N), prior_var=PRIOR_VAR)[1]


@functools.cache
def w_star() -> Array:
    x, y = data()
    return map_linear_regression(x, y, noise_var=float(N), prior_var=PRIOR_VAR)


def per_example_grads(w: Array, idx: Array | None = None) -> Array:
    """Rows: the gradient of example n's loss, -(y_n - x_n w) x_n + w / prior_var: (N, D)."""
    x, y = data()
    if idx is not None:
        x, y = x[idx], y[idx]
    r = y - x @ w  # (N,) residuals
    return -r[:, None] * x + w[None, :] / PRIOR_VAR  # (N, D)


def hessian() -> Array:
    x, _ = data()
    return x.T @ x / N + np.eye(D) / PRIOR_VAR  # (D, D)


def grad_checks() -> list[str]:
    w0 = np.zeros(D)
    return [
        check(
            "max |mean of per-example gradients − full gradient|",
            per_example_grads(w0).mean(axis=0),
            full_grad(w0),
            tol=1e-12,
        ),
        check("max |∇𝓛(w*)|", full_grad(w_star()), 0.0, tol=1e-12),
    ]


# ---------------------------------------------------------------- minibatch variance

BATCHES = (1, 4, 16, 64, 256)
N_SIM = 4000


@functools.cache
def variance_table() -> Array:
    """Per B: total variance E|g_B - g|^2 at w = 0 from minibatch_mean_variance (sum over the D
    coordinates) with and without replacement, and simulated with minibatch_means."""
    G = per_example_grads(np.zeros(D))  # (N, D)
    rows = []
    for b in BATCHES:
        row = [float(b)]
        for replace in (True, False):
            exact = sum(minibatch_mean_variance(G[:, j], b, replace=replace) for j in range(D))
            # the same seed draws the same batches for every coordinate: whole gradient vectors
            sims = np.stack(
                [
                    minibatch_means(G[:, j], b, N_SIM, np.random.default_rng(b), replace=replace)
                    for j in range(D)
                ],
                axis=1,
            )  # (N_SIM, D)
            simulated = float(np.mean(np.sum((sims - G.mean(axis=0)) ** 2, axis=1)))
            row += [exact, simulated]
        rows.append(row)
    return np.array(rows)


def variance_checks() -> list[str]:
    tab = variance_table()
    out = []
    for col, name in ((1, "with"), (3, "without")):
        exact, sim = tab[:, col], tab[:, col + 1]
        # a mean of N_SIM squared norms: relative standard error about sqrt(2/N_SIM) per axis
        out.append(
            check(
                f"max |simulated / exact − 1|, {name} replacement",
                np.divide(sim, exact, out=np.ones_like(sim), where=exact > 0),
                1.0,
                tol=5 * math.sqrt(2 / N_SIM),
            )
        )
    return out


@functools.cache
def unbiased() -> tuple[Array, Array, Array]:
    """The mean of N_SIM batch gradients (B = 16, without replacement), the full gradient, and
    the standard error of each coordinate of that mean."""
    G = per_example_grads(np.zeros(D))
    sims = np.stack(
        [minibatch_means(G[:, j], 16, N_SIM, np.random.default_rng(7), replace=False) for j in range(D)],
        axis=1,
    )  # fmt: skip
    se = np.sqrt(
        np.array([minibatch_mean_variance(G[:, j], 16, replace=False) for j in range(D)]) / N_SIM
    )
    return sims.mean(axis=0), G.mean(axis=0), se


# ---------------------------------------------------------------- SGD on the problem


def excess(w: Array) -> Array:
    """L(w) - L(w*) = (w - w*) H (w - w*)^T / 2, exactly (the loss is quadratic); w: (..., D)."""
    e = w - w_star()  # (..., D)
    return 0.5 * np.einsum("...i,ij,...j->...", e, hessian(), e)  # type: ignore[no-any-return]


def excess_check() -> str:
    w = np.array([0.3, -1.0, 2.0, 0.5])
    return check(
        "|quadratic form − (𝓛(w) − 𝓛(w*))|", excess(w), loss(w) - loss(w_star()), tol=1e-12
    )


def sgd_run(lr: float, batch: int, steps: int, seeds: int, *, replace: bool = True) -> Array:
    """Minibatch SGD from w = 0, `seeds` independent runs at once (one row of the parameter per
    run); returns the excess loss L(w_t) - L(w*), shape (steps + 1, seeds)."""
    x, y = data()
    rng = np.random.default_rng(seeds * 1000 + batch)
    w = np.zeros((seeds, D))
    opt = SGD([w], lr=lr)
    out = [excess(w)]
    order = np.argsort(rng.random((seeds, N)), axis=1)  # one shuffle per run
    pos = 0
    for _ in range(steps):
        if replace:
            idx = rng.integers(0, N, size=(seeds, batch))  # (seeds, B)
        else:  # shuffled epochs, as a data loader does
            if pos + batch > N:
                order, pos = np.argsort(rng.random((seeds, N)), axis=1), 0
            idx, pos = order[:, pos : pos + batch], pos + batch
        xb, yb = x[idx], y[idx]  # (seeds, B, D), (seeds, B)
        r = yb - np.einsum("sbd,sd->sb", xb, w)  # (seeds, B) residuals
        g = -np.einsum("sb,sbd->sd", r, xb) / batch + w / PRIOR_VAR  # (seeds, D)
        opt.step([g])
        out.append(excess(w))
        if out[-1].max() > 1e6:  # diverged: stop before float64 overflows
            break
    return np.array(out)


FLOOR_RUNS = ((0.02, 1), (0.04, 2), (0.08, 4), (0.04, 1), (0.08, 1))
FLOOR_STEPS, FLOOR_BURN, FLOOR_SEEDS = 4000, 1000, 8


def predicted_floor(lr: float, batch: int) -> tuple[float, float]:
    """Stationary excess loss of SGD linearised at w*, with the gradient noise at w*:
    (1/2) tr(H V), V = (I - lr H) V (I - lr H) + lr^2 Sigma / B; and its small-lr limit
    lr tr(Sigma) / (4 B)."""
    G = per_example_grads(w_star())
    sigma = np.cov(G.T, bias=True)  # (D, D), the population covariance of per-example gradients
    h = hessian()
    a = np.eye(D) - lr * h
    v = solve_discrete_lyapunov(a, lr**2 * sigma / batch)
    return 0.5 * float(np.trace(h @ v)), lr * float(np.trace(sigma)) / (4 * batch)


@functools.cache
def floor_table() -> Array:
    """Per (lr, B): lr/B, the measured mean excess loss after burn-in (averaged over 8 runs),
    the Lyapunov prediction and the small-lr formula."""
    rows = []
    for lr, b in FLOOR_RUNS:
        measured = float(sgd_run(lr, b, FLOOR_STEPS, FLOOR_SEEDS)[FLOOR_BURN:].mean())
        exact, small = predicted_floor(lr, b)
        rows.append([lr, b, lr / b, measured, exact, small])
    return np.array(rows)


SCALING = ((0.02, 1), (0.08, 4), (0.32, 16), (1.28, 64))
EPOCHS = 4


def lambda_max() -> float:
    return float(np.linalg.eigvalsh(hessian()).max())


@functools.cache
def scaling_runs() -> dict[tuple[float, int], Array]:
    """Shuffled-epoch SGD for EPOCHS epochs at each (lr, B) with lr / B fixed."""
    return {(lr, b): sgd_run(lr, b, EPOCHS * N // b, 1, replace=False)[:, 0] for lr, b in SCALING}


@functools.cache
def scaling_table() -> Array:
    """Per (lr, B): lr, B, lr * lambda_max, excess loss after 1 and after EPOCHS epochs (inf if
    the run blew up)."""
    rows = []
    for (lr, b), r in scaling_runs().items():
        one = N // b
        after1 = r[one] if len(r) > one else np.inf
        after = r[-1] if len(r) == EPOCHS * N // b + 1 else np.inf
        rows.append([lr, b, lr * lambda_max(), after1, after])
    return np.array(rows)


def scaling_figure() -> str:
    """Excess loss against epochs for the linear-scaling runs (log scale)."""
    fig, ax = new_figure(6.2, 3.3)
    colors = (BLUE, GREEN, ORANGE, RED)
    for ((lr, b), r), color in zip(scaling_runs().items(), colors, strict=True):
        epochs = np.arange(len(r)) * b / N
        keep = np.unique(np.linspace(0, len(r) - 1, 120).astype(int))
        ax.semilogy(epochs[keep], r[keep], color=color, lw=1.2, label=f"η = {lr:g}, B = {b}")
    ax.set_xlabel("epochs")
    ax.set_ylabel("excess loss L(w) − L(w*)")
    ax.set_ylim(1e-4, 1e3)
    ax.legend(frameon=False, fontsize=9, ncol=2)
    return svg(
        fig,
        alt="SGD excess loss against epochs for learning rate proportional to batch size",
        caption="Minibatch SGD on the regression problem with η/B fixed at 0.02 (shuffled "
        "epochs). The first three curves nearly coincide per epoch, as the linear scaling rule "
        "predicts; at B = 64, η = 1.28 exceeds 2/λmax and the run diverges.",
    )


def noise_scale() -> tuple[float, float, float]:
    """McCandlish et al.'s simple noise scale B_simple = tr(Sigma) / |G|^2 at w = 0, halfway and
    near the optimum."""
    out = []
    for frac in (0.0, 0.5, 0.99):
        w = frac * w_star()
        G = per_example_grads(w)
        sigma_tr = float(np.sum(np.var(G, axis=0)))
        g = G.mean(axis=0)
        out.append(sigma_tr / float(g @ g))
    return out[0], out[1], out[2]


# ---------------------------------------------------------------- Robbins-Monro in 1-D

S = 1.0  # standard deviation of the gradient noise
THETA0 = 5.0
SEEDS = 2000
T = 10_000
SCHEDULES = ("constant 0.1", "1/t", "1/√t", "1/t²")


def eta(schedule: str, t: int) -> float:
    """The learning rate at step t = 1, 2, ..."""
    return {"constant 0.1": 0.1, "1/t": 1 / t, "1/√t": 1 / math.sqrt(t), "1/t²": 1 / t**2}[schedule]


@functools.cache
def rm_runs() -> dict[str, Array]:
    """f(theta) = theta^2 / 2 observed through g = theta + noise; SEEDS independent runs as one
    parameter vector, one SGD step per t with opt.lr set by the schedule. Returns the mean
    squared error over seeds at t = 0..T (every 10th step) for each schedule."""
    out = {}
    for schedule in SCHEDULES:
        rng = np.random.default_rng(1)
        theta = np.full(SEEDS, THETA0)
        opt = SGD([theta], lr=0.1)
        mse = [float(np.mean(theta**2))]
        for t in range(1, T + 1):
            opt.lr = eta(schedule, t)
            opt.step([theta + S * rng.normal(size=SEEDS)])
            if t % 10 == 0:
                mse.append(float(np.mean(theta**2)))
        out[schedule] = np.array(mse)
    return out


def rm_exact(schedule: str) -> Array:
    """The exact mean squared error: m_{t} = (1 - eta_t)^2 m_{t-1} + eta_t^2 s^2, every 10th t."""
    m, out = THETA0**2, [THETA0**2]
    for t in range(1, T + 1):
        e = eta(schedule, t)
        m = (1 - e) ** 2 * m + e**2 * S**2
        if t % 10 == 0:
            out.append(m)
    return np.array(out)


@functools.cache
def rm_table() -> Array:
    """Per schedule: sum eta_t and sum eta_t^2 up to T, simulated and exact MSE at T."""
    rows = []
    for schedule in SCHEDULES:
        etas = np.array([eta(schedule, t) for t in range(1, T + 1)])
        rows.append([etas.sum(), (etas**2).sum(), rm_runs()[schedule][-1], rm_exact(schedule)[-1]])
    return np.array(rows)


def rm_checks() -> list[str]:
    out = []
    for schedule in SCHEDULES:
        sim, exact = rm_runs()[schedule], rm_exact(schedule)
        # each simulated MSE is a mean of SEEDS squares: relative error about sqrt(2/SEEDS)
        out.append(
            check(
                f"{schedule}: max |simulated / exact MSE − 1|",
                sim[1:] / exact[1:],
                1.0,
                tol=6 * math.sqrt(2 / SEEDS),
            )
        )
    return out


def partial_sums() -> Array:
    """Sum of eta_t^2 up to T for 1/t and 1/sqrt(t), for T = 10^2, 10^4, 10^6."""
    rows = []
    for k in (2, 4, 6):
        t = np.arange(1, 10**k + 1, dtype=np.float64)
        rows.append([10.0**k, np.sum(1 / t**2), np.sum(1 / t)])
    return np.array(rows)


def rm_figure() -> str:
    fig, ax = new_figure(6.2, 3.3)
    t = np.arange(0, T + 1, 10)
    for schedule, color in zip(SCHEDULES, (RED, BLUE, GREEN, PURPLE), strict=True):
        mse = rm_runs()[schedule]
        keep = np.unique(np.geomspace(1, len(t) - 1, 80).astype(int))
        ax.loglog(t[keep], mse[keep], color=color, lw=1.3, label=f"η_t = {schedule}")
    ax.loglog(t[1:], S**2 / t[1:], color="#9ca3af", lw=0.8, ls=":", label="s²/t")
    ax.set_xlabel("step t")
    ax.set_ylabel("mean squared error")
    ax.legend(frameon=False, fontsize=9, ncol=2)
    return svg(
        fig,
        alt="Mean squared error against step for four learning-rate schedules",
        caption=f"SGD on f(θ) = θ²/2 with unit gradient noise, from θ₀ = {THETA0:g}: mean "
        f"squared error over {SEEDS} runs. The constant step stalls at a noise floor, 1/t² "
        "stops moving (its steps add up to a finite distance), 1/√t converges but more slowly "
        "than 1/t, which follows s²/t.",
    )


# ---------------------------------------------------------------- exercises


def exercise_enumeration() -> tuple[Array, Array]:
    """All C(6, 3) batches of the first 6 examples, without replacement: the mean batch gradient
    and the full gradient of those 6 (at w = 0)."""
    from itertools import combinations

    G = per_example_grads(np.zeros(D))[:6]
    batches = [G[list(c)].mean(axis=0) for c in combinations(range(6), 3)]
    return np.mean(batches, axis=0), G.mean(axis=0)


def exercise_floor() -> tuple[float, float]:
    """Constant eta = 0.1 in 1-D: the limit eta s^2 / (2 - eta) and the simulated MSE at T."""
    return 0.1 * S**2 / (2 - 0.1), float(rm_runs()["constant 0.1"][-1])


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "stochastic/variance": variance_table()[:, 1:],
        "stochastic/floor": floor_table()[:, 2:],
        "stochastic/scaling": scaling_table()[:, 2:],
        "stochastic/robbins-monro": rm_table(),
        "stochastic/partial-sums": partial_sums()[:, 1:],
    }
