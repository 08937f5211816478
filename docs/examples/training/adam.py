"""Worked examples for "Momentum, RMSProp and Adam": every trajectory is run by llmath's optimisers.

The running problem is the ill-conditioned quadratic L(θ) = ½(h₁θ₁² + h₂θ₂²) with curvatures
h = (1, 100), condition number κ = 100; the weight-decay section reuses Part 3's Bayesian linear
regression (map_linear_regression).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from scipy.optimize import lsq_linear

from examples.show import BLUE, ORANGE, PURPLE, RED, check, new_figure, svg
from llmath.probability.mle import gaussian_neg_log_posterior, map_linear_regression
from llmath.training.optimizers import SGD, Adam, AdamW, RMSProp
from llmath.training.schedules import cosine_schedule

Array = NDArray[np.float64]

H = np.array([1.0, 100.0])  # curvatures: kappa = 100
KAPPA = H[1] / H[0]
THETA0 = np.array([-3.0, 1.0])
TOL = 1e-6  # "converged": |theta| below TOL * |theta0|
BETAS = (0.9, 0.999)  # Adam's defaults (Kingma and Ba 2015, Algorithm 1)


def quad_loss(theta: Array) -> float:
    return float(0.5 * np.sum(H * theta**2))


def quad_grad(theta: Array) -> Array:
    return H * theta


def run(make: Callable[[list[Array]], Any], steps: int, grad: Callable[[Array], Array] = quad_grad,
        theta0: Array = THETA0) -> Array:  # fmt: skip
    """The trajectory (steps + 1, 2) of the optimiser `make([theta])` from theta0."""
    theta = theta0.copy()
    opt = make([theta])
    out = [theta.copy()]
    for _ in range(steps):
        opt.step([grad(theta)])
        out.append(theta.copy())
    return np.array(out)


# ---------------------------------------------------------------- momentum


def momentum_hyper() -> dict[str, float]:
    """The best constant step for gradient descent, 2/(h_min + h_max), and Polyak's optimal
    heavy-ball pair: eta = 4/(sqrt(L) + sqrt(mu))^2, momentum = ((sqrt(k) - 1)/(sqrt(k) + 1))^2."""
    lo, hi = H.min(), H.max()
    root = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)
    return {
        "eta_gd": 2 / (lo + hi),
        "rate_gd": (KAPPA - 1) / (KAPPA + 1),
        "eta_hb": 4 / (math.sqrt(hi) + math.sqrt(lo)) ** 2,
        "mu_hb": root**2,
        "rate_hb": root,
    }


def steps_to(traj: Array) -> int:
    """The first step at which |theta_t| < TOL * |theta_0|."""
    norms = np.linalg.norm(traj, axis=1)
    return int(np.argmax(norms < TOL * norms[0]))


@functools.cache
def momentum_runs() -> dict[str, Array]:
    p = momentum_hyper()
    return {
        "gd": run(lambda ps: SGD(ps, lr=p["eta_gd"]), 900),
        "hb": run(lambda ps: SGD(ps, lr=p["eta_hb"], momentum=p["mu_hb"]), 900),
    }


def momentum_table() -> Array:
    """Rows GD, heavy ball: eta, mu, predicted rate per step, measured rate over steps 40-80 of
    the distance, steps to reduce |theta| by 1e-6."""
    p, runs = momentum_hyper(), momentum_runs()
    rows = []
    for key, eta, mu, rate in (("gd", p["eta_gd"], 0.0, p["rate_gd"]),
                               ("hb", p["eta_hb"], p["mu_hb"], p["rate_hb"])):  # fmt: skip
        norms = np.linalg.norm(runs[key], axis=1)
        a, b = (400, 600) if key == "gd" else (40, 80)
        measured = (norms[b] / norms[a]) ** (1 / (b - a))
        rows.append([eta, mu, rate, measured, steps_to(runs[key])])
    return np.array(rows)


def ema_check() -> tuple[Array, Array]:
    """SGD's momentum buffer and Adam's first moment (beta1 = mu) after 30 random gradients."""
    rng = np.random.default_rng(7)
    mu = 0.9
    a, b = np.zeros(4), np.zeros(4)
    sgd, adam = SGD([a], lr=0.0, momentum=mu), Adam([b], lr=0.0, betas=(mu, 0.999))
    for _ in range(30):
        g = rng.normal(size=4)
        sgd.step([g])
        adam.step([g])
    return sgd.m[0], adam.m[0] / (1 - mu)


def momentum_figure() -> str:
    runs = momentum_runs()
    fig, (ax, bx) = new_figure(7.2, 3.3, ncols=2)
    gx, gy = np.linspace(-3.3, 3.3, 61), np.linspace(-4.5, 4.5, 61)
    X, Y = np.meshgrid(gx, gy)
    ax.contour(X, Y, 0.5 * (H[0] * X**2 + H[1] * Y**2), levels=[0.5, 5, 50, 200, 500],
               colors="#9ca3af", linewidths=0.6)  # fmt: skip
    for key, color, label in (("gd", BLUE, "gradient descent"), ("hb", ORANGE, "heavy ball")):
        t = runs[key][:40]
        ax.plot(t[:, 0], t[:, 1], ".-", color=color, lw=0.8, ms=2.5, label=label)
        losses = np.array([quad_loss(th) for th in runs[key]])
        keep = np.arange(0, 901, 5)
        bx.semilogy(keep, np.maximum(losses[keep], 1e-30), color=color, lw=1.2)
    ax.set_xlabel("θ₁ (curvature 1)")
    ax.set_ylabel("θ₂ (curvature 100)")
    bx.set_xlabel("step t")
    bx.set_ylabel("loss")
    bx.set_ylim(1e-25, 1e3)
    fig.subplots_adjust(wspace=0.4)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, -0.12),
               ncol=2, frameon=False, fontsize=9)  # fmt: skip
    return svg(
        fig,
        alt="Gradient descent and heavy-ball momentum on an ill-conditioned quadratic",
        caption="Gradient descent with its best constant step 2/101 and heavy-ball momentum "
        "with Polyak's optimal pair, on ½(θ₁² + 100θ₂²) from (−3, 1). Left: the first 40 steps; "
        "gradient descent crawls along the flat direction θ₁, the heavy ball overshoots and "
        "swings back, and reaches the minimum in far fewer steps. Right: the loss over 900 "
        "steps (log scale).",
    )


# ---------------------------------------------------------------- RMSProp


RMS_G = np.array([1e-3, 1.0, 1e3])  # gradient scales of three coordinates


def rmsprop_first_steps() -> Array:
    """|first step| / lr of RMSProp (alpha = 0.99) and Adam for gradients of three scales."""
    a, b = np.zeros(3), np.zeros(3)
    RMSProp([a], lr=1.0, alpha=0.99).step([RMS_G])
    Adam([b], lr=1.0).step([RMS_G])
    return np.vstack([np.abs(a), np.abs(b)])


def rmsprop_steady() -> Array:
    """RMSProp on the quadratic: |steps| of both coordinates after 200 steps, and their
    gradients (the flat coordinate's gradient is 100 times smaller at the same distance)."""
    traj = run(lambda ps: RMSProp(ps, lr=1e-3, alpha=0.99), 200, theta0=np.array([1.0, 1.0]))
    step = np.abs(traj[-1] - traj[-2])
    return np.vstack([quad_grad(traj[-2]), step])


# ---------------------------------------------------------------- bias correction

BIAS_TS = (1, 2, 5, 10, 12, 20, 100, 1000, 5000)


@functools.cache
def constant_gradient_steps() -> tuple[Array, Array]:
    """Step lengths of Adam with and without bias correction under a constant gradient g = 1."""
    n = max(BIAS_TS)
    a, b = np.zeros(1), np.zeros(1)
    plain, corr = Adam([a], lr=1.0, bias_correction=False), Adam([b], lr=1.0)
    s_plain, s_corr = np.empty(n), np.empty(n)
    for t in range(n):
        pa, pb = a[0], b[0]
        plain.step([np.ones(1)])
        corr.step([np.ones(1)])
        s_plain[t], s_corr[t] = pa - a[0], pb - b[0]
    return s_plain, s_corr


def bias_ratio_closed_form(t: Array) -> Array:
    """(1 - beta1^t) / sqrt(1 - beta2^t): uncorrected over corrected step, constant gradient."""
    b1, b2 = BETAS
    return (1 - b1**t) / np.sqrt(1 - b2**t)


def bias_table() -> Array:
    """Columns: t, corrected step / lr, uncorrected step / lr, closed-form ratio."""
    s_plain, s_corr = constant_gradient_steps()
    t = np.array(BIAS_TS)
    return np.column_stack([t, s_corr[t - 1], s_plain[t - 1], bias_ratio_closed_form(t)])


MOM_MEAN, MOM_SD, N_COORDS = 0.5, 2.0, 20_000
MOM_TS = (1, 10, 100, 1000)


@functools.cache
def moments_table() -> Array:
    """Stationary gradients g ~ N(0.5, 2²) in 20 000 independent coordinates: the mean over
    coordinates of m_t, m_t/(1-b1^t), v_t, v_t/(1-b2^t), with the theory E[g] = 0.5 and
    E[g²] = 0.5² + 2² = 4.25, and the standard errors of the two corrected means."""
    rng = np.random.default_rng(11)
    w = np.zeros(N_COORDS)
    opt = Adam([w], lr=0.0)
    b1, b2 = BETAS
    rows = []
    for t in range(1, max(MOM_TS) + 1):
        opt.step([rng.normal(MOM_MEAN, MOM_SD, size=N_COORDS)])
        if t in MOM_TS:
            m, v = opt.m[0], opt.v[0]
            mh, vh = m / (1 - b1**t), v / (1 - b2**t)
            se_m, se_v = mh.std() / math.sqrt(N_COORDS), vh.std() / math.sqrt(N_COORDS)
            rows.append([t, m.mean(), mh.mean(), se_m, v.mean(), vh.mean(), se_v])
    return np.array(rows)


def bias_runs() -> dict[str, Array]:
    make = {
        "corrected": lambda ps: Adam(ps, lr=0.1),
        "uncorrected": lambda ps: Adam(ps, lr=0.1, bias_correction=False),
    }
    return {k: run(m, 150) for k, m in make.items()}


def bias_figure() -> str:
    runs = bias_runs()
    s_plain, s_corr = constant_gradient_steps()
    fig, (ax, bx) = new_figure(7.2, 3.3, ncols=2)
    gx, gy = np.linspace(-3.3, 1.0, 50), np.linspace(-1.3, 1.3, 41)
    X, Y = np.meshgrid(gx, gy)
    ax.contour(X, Y, 0.5 * (H[0] * X**2 + H[1] * Y**2), levels=[0.5, 2, 5, 12, 25, 45],
               colors="#9ca3af", linewidths=0.6)  # fmt: skip
    for key, color in (("corrected", BLUE), ("uncorrected", RED)):
        t = runs[key][:60]
        ax.plot(t[:, 0], t[:, 1], ".-", color=color, lw=0.8, ms=2.5, label=f"Adam, {key}")
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    steps = np.r_[1:30, 30:5001:50]
    bx.semilogx(steps, s_plain[steps - 1], color=RED, lw=1.2)
    bx.semilogx(steps, s_corr[steps - 1], color=BLUE, lw=1.2)
    bx.set_xlabel("step t")
    bx.set_ylabel("step length / η")
    fig.subplots_adjust(wspace=0.4)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, -0.12),
               ncol=2, frameon=False, fontsize=9)  # fmt: skip
    return svg(
        fig,
        alt="Adam with and without bias correction",
        caption="Left: Adam (η = 0.1, default betas) on ½(θ₁² + 100θ₂²) from (−3, 1), the "
        "first 60 steps; without the correction the first steps are several times longer and "
        "overshoot in both coordinates. Right: the length of each step under a constant "
        "gradient, in units of η; corrected it is 1 from the first step, uncorrected it starts "
        "at 3.16, peaks near step 12 and only returns to 1 after thousands of steps.",
    )


# ---------------------------------------------------------------- weight decay

N_REG, D_REG, NOISE_VAR = 30, 3, 0.25
W_TRUE = np.array([2.0, -1.0, 0.5])
LAMBDA = 1.0  # weight decay = 1 / prior variance
T_WD, LR_WD, BETAS_WD = 5000, 0.05, (0.9, 0.99)


@functools.cache
def regression() -> tuple[Array, Array]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N_REG, D_REG))
    return x, x @ W_TRUE + rng.normal(size=N_REG) * math.sqrt(NOISE_VAR)


def nll_grad(w: Array) -> Array:
    """The gradient of the negative log-likelihood ||y - xw||² / (2σ²), without the prior."""
    x, y = regression()
    return -(x.T @ (y - x @ w)) / NOISE_VAR


def nll_grad_check() -> str:
    """nll_grad plus w/σ_w² is Part 3's gradient of the negative log posterior."""
    x, y = regression()
    w = np.array([0.3, -0.2, 0.1])
    _, full = gaussian_neg_log_posterior(w, x, y, noise_var=NOISE_VAR, prior_var=1 / LAMBDA)
    return check("max |∇NLL + λw − Part 3's ∇(−log posterior)|", nll_grad(w) + LAMBDA * w, full,
                 tol=1e-12)  # fmt: skip


def sgd_decay_equal() -> tuple[Array, Array]:
    """Plain SGD, 200 steps: weight_decay=λ in the gradient, and decoupled by hand
    (θ ← (1 - ηλ)θ, then the step on the loss gradient alone)."""
    eta = 1e-3
    a, b = np.zeros(D_REG), np.zeros(D_REG)
    l2, plain = SGD([a], lr=eta, weight_decay=LAMBDA), SGD([b], lr=eta)
    for _ in range(200):
        l2.step([nll_grad(a)])
        g = nll_grad(b)
        b *= 1 - eta * LAMBDA  # decoupled decay, in place
        plain.step([g])
    return a, b


@functools.cache
def decay_endpoints() -> dict[str, Array]:
    """Adam with L2 (weight_decay in the gradient) and AdamW, the same λ and cosine schedule,
    with the MAP estimate (Part 3), least squares and the box-constrained least squares
    (|w_i| <= 1/λ, scipy's bounded-variable solver) as witnesses."""
    x, y = regression()
    out = {}
    for name, cls in (("adam_l2", Adam), ("adamw", AdamW)):
        w = np.zeros(D_REG)
        opt = cls([w], lr=LR_WD, betas=BETAS_WD, weight_decay=LAMBDA)
        for s in range(T_WD):
            opt.lr = cosine_schedule(s, max_lr=LR_WD, warmup_steps=0, total_steps=T_WD)
            opt.step([nll_grad(w)])
        out[name] = w
    out["map"] = map_linear_regression(x, y, noise_var=NOISE_VAR, prior_var=1 / LAMBDA)
    out["lstsq"] = np.linalg.lstsq(x, y, rcond=None)[0]
    bound = 1 / LAMBDA
    out["box"] = lsq_linear(x, y, bounds=(-bound, bound), method="bvls", tol=1e-15).x
    return out


def decay_table() -> Array:
    e = decay_endpoints()
    return np.vstack([e["lstsq"], e["map"], e["adam_l2"], e["box"], e["adamw"]])


ZERO_LAMBDAS = (1e-3, 1e-2, 1e-1)
ZERO_STEPS, ZERO_LR = 100, 1e-3


def zero_gradient_decay() -> Array:
    """A weight whose loss gradient is 0 (an unused embedding row), θ₀ = 1, 100 steps of
    η = 1e-3: θ after Adam with L2 and after AdamW, for three λ; AdamW's closed form."""
    rows = []
    for lam in ZERO_LAMBDAS:
        a, b = np.ones(1), np.ones(1)
        l2, dec = Adam([a], lr=ZERO_LR, weight_decay=lam), AdamW([b], lr=ZERO_LR, weight_decay=lam)
        for _ in range(ZERO_STEPS):
            l2.step([np.zeros(1)])
            dec.step([np.zeros(1)])
        rows.append([lam, a[0], b[0], (1 - ZERO_LR * lam) ** ZERO_STEPS])
    return np.array(rows)


# ---------------------------------------------------------------- epsilon

EPS_VALUES = (1e-8, 1e-6, 1e-3)
G_GRID = np.logspace(-12, 0, 49)


def eps_curves() -> Array:
    """|first Adam step| / η for |g| on G_GRID, one row per ε: one step on a vector of
    gradients, since every coordinate is updated on its own."""
    rows = []
    for eps in EPS_VALUES:
        w = np.zeros(G_GRID.size)
        Adam([w], lr=1.0, eps=eps).step([G_GRID])
        rows.append(np.abs(w))
    return np.array(rows)


def eps_figure() -> str:
    curves = eps_curves()
    fig, ax = new_figure(6.0, 3.0)
    for eps, row, color in zip(EPS_VALUES, curves, (BLUE, ORANGE, PURPLE), strict=True):
        ax.loglog(G_GRID, row, color=color, lw=1.4, label=f"ε = {eps:g}")
        ax.axvline(eps, color=color, lw=0.6, ls=":")
    ax.set_xlabel("|g| (first gradient)")
    ax.set_ylabel("first step / η")
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return svg(
        fig,
        alt="The size of Adam's first step against the gradient's size, for three epsilons",
        caption="Adam's first step, |g|/(|g| + ε) in units of η, for gradients from 10⁻¹² "
        "to 1. Above ε (dotted lines) the step is η whatever the gradient; below it the step "
        "is proportional to g, with learning rate η/ε: Adam turns into gradient descent.",
    )


def scale_runs(c: float) -> tuple[float, float]:
    """Max |θ difference| over 100 steps between Adam on L and on c·L, with ε fixed and with
    ε scaled by c."""
    base = run(lambda ps: Adam(ps, lr=0.05), 100)
    fixed = run(lambda ps: Adam(ps, lr=0.05), 100, grad=lambda th: c * quad_grad(th))
    scaled = run(lambda ps: Adam(ps, lr=0.05, eps=1e-8 * c), 100,
                 grad=lambda th: c * quad_grad(th))  # fmt: skip
    return float(np.abs(fixed - base).max()), float(np.abs(scaled - base).max())


SCALES = (1e3, 1e-3, 1e-6, 1e-9)


def scale_table() -> Array:
    return np.array([[c, *scale_runs(c)] for c in SCALES])


# ---------------------------------------------------------------- torch


def torch_check() -> str:
    """All four optimisers, with momentum and weight decay on, 150 steps on the quadratic,
    against torch.optim."""
    cases = (
        (
            SGD,
            torch.optim.SGD,
            {"lr": 0.005, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
        ),
        (RMSProp, torch.optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}),
        (Adam, torch.optim.Adam, {"lr": 0.1, "weight_decay": 0.1}),
        (AdamW, torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.1}),
    )
    diffs = []
    for ours, theirs, hyper in cases:
        traj = run(lambda ps, o=ours, h=hyper: o(ps, **h), 150)
        t = torch.tensor(THETA0, requires_grad=True)
        opt = theirs([t], **hyper)
        ref = [THETA0.copy()]
        for _ in range(150):
            opt.zero_grad()
            (0.5 * (torch.tensor(H) * t**2).sum()).backward()
            opt.step()
            ref.append(t.detach().numpy().copy())
        diffs.append(np.abs(traj - np.array(ref)).max())
    return check(
        "max |llmath − torch.optim|, SGD (Nesterov), RMSProp, Adam, AdamW, 150 steps",
        max(diffs),
        0.0,
        tol=1e-12,
    )


# ---------------------------------------------------------------- exercises


def buffer_fill(mu: float = 0.9) -> tuple[int, int]:
    """Steps until SGD's momentum buffer reaches 99% of g/(1 - mu) under a constant gradient,
    measured and from (1 - mu^t) >= 0.99."""
    w = np.zeros(1)
    opt = SGD([w], lr=0.0, momentum=mu)
    t = 0
    while True:
        t += 1
        opt.step([np.ones(1)])
        if opt.m[0][0] >= 0.99 / (1 - mu):
            break
    return t, math.ceil(math.log(0.01) / math.log(mu))


def worst_ratio() -> tuple[int, float, int, float]:
    """The step t with the largest uncorrected/corrected ratio: closed form and measured."""
    s_plain, s_corr = constant_gradient_steps()
    t = np.arange(1, s_plain.size + 1)
    closed = bias_ratio_closed_form(t)
    measured = s_plain / s_corr
    return (
        int(t[closed.argmax()]),
        float(closed.max()),
        int(t[measured.argmax()]),
        float(measured.max()),
    )


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "adam/momentum": momentum_table(),
        "adam/rmsprop-first": rmsprop_first_steps(),
        "adam/rmsprop-steady": rmsprop_steady(),
        "adam/bias": bias_table()[:, 1:],
        "adam/moments": moments_table()[:, [1, 2, 4, 5]],
        "adam/decay": decay_table(),
        "adam/zero-gradient": zero_gradient_decay(),
    }
