"""Worked examples for "Gradient descent": every trajectory is run by llmath's `SGD` (plain
gradient descent when momentum is 0), every Hessian estimated by Part 2's `numerical_hessian`.

Inputs are chosen here: a 2-D quadratic with eigenvalues 1 and 10, quadratics of growing
condition number, a function with one strict saddle and two minima, and a one-unit ReLU network
for the reparametrisation argument of Dinh et al. (2017).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, check, new_figure, svg
from llmath.calculus.numerical import numerical_grad, numerical_hessian
from llmath.training.optimizers import SGD

Array = NDArray[np.float64]
Grad = Callable[[Array], Array]

# ---------------------------------------------------------------- the quadratic

LAMBDAS = np.array([1.0, 10.0])  # eigenvalues of A: kappa = 10
ANGLE = np.pi / 6  # the eigenvectors, rotated away from the axes
Q = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])  # columns: q_i
A = Q @ np.diag(LAMBDAS) @ Q.T  # (2, 2), symmetric positive definite
THETA0 = np.array([2.0, 1.5])
ETA_ONE = 0.05  # the learning rate of the worked step
LIMIT = 2.0 / LAMBDAS.max()  # eta < 2 / lambda_max
ETA_OPT = 2.0 / (LAMBDAS.min() + LAMBDAS.max())
ETAS = (0.05, 0.1, ETA_OPT, 0.19, 0.99 * LIMIT, LIMIT, 1.01 * LIMIT)
ETA_NAMES = ("0.05", "0.1", "η* = 2/11", "0.19", "0.99 · 2/λmax", "2/λmax", "1.01 · 2/λmax")
T_RATE = 200  # steps run for every learning rate of the table


def loss(theta: Array) -> float:
    """The quadratic L(theta) = theta A theta^T / 2, minimum 0 at theta = 0."""
    return float(0.5 * theta @ A @ theta)


def grad(theta: Array) -> Array:
    """Its gradient, A theta (A is symmetric)."""
    return A @ theta  # (2,)


def run(g: Grad, theta0: Array, lr: float, steps: int) -> Array:
    """Plain gradient descent with llmath's SGD; returns the trajectory, shape (steps + 1, n)."""
    theta = np.array(theta0, dtype=np.float64)
    opt = SGD([theta], lr=lr)
    out = [theta.copy()]
    for _ in range(steps):
        opt.step([g(theta)])  # theta <- theta - lr * grad, in place
        out.append(theta.copy())
    return np.array(out)


def closed_form(lr: float, t: Array, theta0: Array = THETA0) -> Array:
    """theta_t = Q diag((1 - lr lambda)^t) Q^T theta_0, for each t: shape (len(t), 2)."""
    c0 = Q.T @ theta0  # coordinates in the eigenbasis
    factors = (1.0 - lr * LAMBDAS)[None, :] ** np.asarray(t, dtype=np.float64)[:, None]
    return (factors * c0) @ Q.T


def one_step() -> dict[str, Array | float]:
    """The worked step at theta_0: gradient (closed form and finite differences), new theta."""
    g = grad(THETA0)
    g_fd = numerical_grad(loss, THETA0)
    theta1 = run(grad, THETA0, ETA_ONE, 1)[1]
    return {
        "g": g,
        "g_fd": g_fd,
        "theta1": theta1,
        "loss0": loss(THETA0),
        "loss1": loss(theta1),
        "predicted": loss(THETA0) - ETA_ONE * float(g @ g),  # first order
        "second_order": 0.5 * ETA_ONE**2 * float(g @ A @ g),  # the exact remainder
    }


@functools.cache
def rate_table() -> Array:
    """Per learning rate: |1 - eta l_min|, |1 - eta l_max|, rho = max, the rate measured from
    the last 20 of T_RATE steps, and ||theta_T|| / ||theta_0||."""
    rows = []
    for lr in ETAS:
        f = np.abs(1.0 - lr * LAMBDAS)
        traj = run(grad, THETA0, lr, T_RATE)
        norms = np.linalg.norm(traj, axis=1)
        measured = (norms[-1] / norms[-21]) ** (1 / 20)
        rows.append([f[0], f[1], f.max(), measured, norms[-1] / norms[0]])
    return np.array(rows)


def rate_checks() -> list[str]:
    out = []
    for lr in (0.05, ETA_OPT, 1.01 * LIMIT):
        t = np.arange(T_RATE + 1)
        out.append(
            check(
                f"η = {lr:.4g}: max |SGD trajectory − closed form|",
                run(grad, THETA0, lr, T_RATE),
                closed_form(lr, t),
                tol=0,
                rtol=1e-12,
            )
        )
    tab = rate_table()
    out.append(check("max |measured rate − max|1 − ηλ||", tab[:, 3], tab[:, 2], tol=1e-9))
    return out


@functools.cache
def eta_scan() -> tuple[Array, Array]:
    """rho(eta) = max_i |1 - eta lambda_i| on a grid up to just past the limit."""
    etas = np.linspace(0.001, 1.05 * LIMIT, 421)
    rho = np.abs(1.0 - etas[:, None] * LAMBDAS[None, :]).max(axis=1)
    return etas, rho


def rate_figure() -> str:
    """Left: trajectories on the contours; right: loss against step (log scale)."""
    fig, (ax, bx) = new_figure(7.2, 3.4, ncols=2)
    grid = np.linspace(-2.6, 2.6, 51)
    X, Y = np.meshgrid(grid, grid)
    Z = 0.5 * (A[0, 0] * X**2 + 2 * A[0, 1] * X * Y + A[1, 1] * Y**2)
    ax.contour(X, Y, Z, levels=[0.25, 1, 3, 7, 14, 24], colors="#9ca3af", linewidths=0.6)
    left = [(0.05, BLUE, "η = 0.05", 40), (0.19, ORANGE, "η = 0.19", 40)]
    left.append((1.01 * LIMIT, RED, "η = 1.01 · 2/λmax", 60))
    for lr, color, label, n in left:
        traj = run(grad, THETA0, lr, n)
        ax.plot(traj[:, 0], traj[:, 1], ".-", color=color, lw=0.8, ms=2.5, label=label)
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-2.6, 2.6)
    ax.set_aspect("equal")
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    steps = np.arange(T_RATE + 1)
    right = [(0.05, BLUE, "η = 0.05"), (ETA_OPT, GREEN, "η* = 2/11")]
    right += [(0.99 * LIMIT, PURPLE, "η = 0.99 · 2/λmax"), (1.01 * LIMIT, RED, "")]
    for lr, color, label in right:
        traj = run(grad, THETA0, lr, T_RATE)
        losses = 0.5 * np.einsum("ti,ij,tj->t", traj, A, traj)
        keep = steps[::4]
        bx.semilogy(keep, losses[keep], color=color, lw=1.2, label=label or None)
    bx.set_xlabel("step t")
    bx.set_ylabel("loss L(θₜ)")
    bx.set_ylim(1e-20, 1e5)
    fig.subplots_adjust(wspace=0.45)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = bx.get_legend_handles_labels()
    fig.legend(handles + h2[1:3], labels + l2[1:3], loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, -0.2), fontsize=9)  # fmt: skip
    return svg(
        fig,
        alt="Gradient-descent trajectories on an ill-conditioned quadratic and their losses",
        caption="Gradient descent on ½θᵀAθ with eigenvalues 1 and 10, from θ₀ = (2, 1.5). "
        "Left: the first steps on the contours; the step of 0.19 zigzags across the steep "
        "direction, and the step just above 2/λmax = 0.2 overshoots by a little more at every "
        "step. Right: "
        "the loss over 200 steps (log scale); η* = 2/11 is fastest, 0.99 · 2/λmax barely "
        "converges and 1.01 · 2/λmax diverges.",
    )


KAPPAS = (1.0, 10.0, 100.0, 1000.0)
EPS = 1e-6


@functools.cache
def condition_table() -> Array:
    """Per kappa (lambda = 1 and kappa): eta*, its rate, steps to shrink ||theta|| by EPS measured
    with SGD at eta* and at eta = 1/lambda_max, and the steps the rate predicts at eta*."""
    rows = []
    theta0 = np.array([1.0, 1.0])
    for kappa in KAPPAS:
        h = np.diag([1.0, kappa])
        eta = 2.0 / (1.0 + kappa)
        rho = (kappa - 1.0) / (kappa + 1.0)
        predicted = 1 if rho == 0 else math.ceil(math.log(EPS) / math.log(rho))
        counts = []
        for lr in (eta, 1.0 / kappa):
            theta = theta0.copy()
            opt = SGD([theta], lr=lr)
            n0 = np.linalg.norm(theta0)
            while np.linalg.norm(theta) > EPS * n0:
                opt.step([h @ theta])
            counts.append(opt.t)
        rows.append([kappa, eta, rho, counts[0], predicted, counts[1]])
    return np.array(rows)


# ---------------------------------------------------------------- saddle points

ETA_SADDLE = 0.1
CRITICAL = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
Y0S = (1e-2, 1e-4, 1e-8, 1e-12)


def saddle_loss(theta: Array) -> float:
    """f(x, y) = x^2/2 - y^2/2 + y^4/4: a strict saddle at 0, minima -1/4 at (0, +-1)."""
    x, y = theta
    return float(0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4)


def saddle_grad(theta: Array) -> Array:
    x, y = theta
    return np.array([x, -y + y**3])


@functools.cache
def critical_table() -> Array:
    """Per critical point: x, y, f, and the two Hessian eigenvalues from numerical_hessian."""
    rows = []
    for p in CRITICAL:
        ev = np.linalg.eigvalsh(numerical_hessian(saddle_loss, p))
        rows.append([p[0], p[1], saddle_loss(p), ev[0], ev[1]])
    return np.array(rows)


def hessian_checks() -> list[str]:
    exact = np.array([[-1.0, 1.0], [1.0, 2.0], [1.0, 2.0]])  # diag(1, -1 + 3y^2), sorted
    return [
        check(
            "max |numerical_hessian eigenvalues − exact|", critical_table()[:, 3:], exact, tol=1e-6
        )
    ]


@functools.cache
def saddle_runs() -> dict[str, Array]:
    """GD from (1, 0) exactly (on the stable manifold) and from (1, y0) for each y0 in Y0S."""
    out = {"on_manifold": run(saddle_grad, np.array([1.0, 0.0]), ETA_SADDLE, 400)}
    for y0 in Y0S:
        out[f"{y0:g}"] = run(saddle_grad, np.array([1.0, y0]), ETA_SADDLE, 400)
    return out


@functools.cache
def escape_table() -> Array:
    """Per y0: steps until |y| >= 1/2 (measured) and ln(1/(2 y0)) / ln(1 + eta) (linearised),
    and the final distance to the minimum (0, 1)."""
    rows = []
    for y0 in Y0S:
        traj = saddle_runs()[f"{y0:g}"]
        t = int(np.argmax(np.abs(traj[:, 1]) >= 0.5))
        predicted = math.log(0.5 / y0) / math.log(1 + ETA_SADDLE)
        rows.append([y0, t, predicted, np.linalg.norm(traj[-1] - [0.0, 1.0])])
    return np.array(rows)


def saddle_figure() -> str:
    """Left: trajectories on the contours of f; right: f against step."""
    fig, (ax, bx) = new_figure(7.2, 3.3, ncols=2)
    gx, gy = np.linspace(-1.2, 1.2, 41), np.linspace(-1.5, 1.5, 41)
    X, Y = np.meshgrid(gx, gy)
    Z = 0.5 * X**2 - 0.5 * Y**2 + 0.25 * Y**4
    ax.contour(X, Y, Z, levels=[-0.2, -0.1, 0.0, 0.1, 0.3, 0.6], colors="#9ca3af", linewidths=0.6)
    runs = saddle_runs()
    show = [("on_manifold", BLUE, "y₀ = 0 (stable manifold)"), ("0.01", GREEN, "y₀ = 10⁻²")]
    show += [("1e-08", ORANGE, "y₀ = 10⁻⁸")]
    for key, color, label in show:
        traj = runs[key][:250:5]
        ax.plot(traj[:, 0], traj[:, 1], ".-", color=color, ms=2.5, lw=0.8, label=label)
        f = np.array([saddle_loss(p) for p in runs[key]])[::5]
        bx.plot(np.arange(0, 401, 5), f, color=color, lw=1.2)
    ax.plot([0, 0, 0], [0, 1, -1], "k+", ms=8)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    bx.axhline(0.0, color="#9ca3af", lw=0.6, ls=":")
    bx.axhline(-0.25, color="#9ca3af", lw=0.6, ls=":")
    bx.set_xlabel("step t")
    bx.set_ylabel("f(θₜ)")
    fig.subplots_adjust(wspace=0.4)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, -0.16),
               ncol=3, frameon=False, fontsize=9)  # fmt: skip
    return svg(
        fig,
        alt="Gradient descent near a strict saddle point",
        caption="Gradient descent (η = 0.1) on f(x, y) = x²/2 − y²/2 + y⁴/4 from x₀ = 1. Started "
        "exactly on the x-axis it converges to the saddle at the origin (f = 0); started a "
        "distance y₀ off it, it is first drawn towards the saddle, lingers there, and leaves "
        "along the negative-curvature direction y for a minimum (f = −1/4). The smaller y₀, "
        "the longer the plateau.",
    )


# ---------------------------------------------------------------- flat minima (Dinh et al.)

XS = np.array([0.5, 1.0, 2.0])
YS = 2.0 * XS  # fitted exactly by w2 * relu(w1 x) whenever w1 w2 = 2, w1 > 0
ALPHAS = (1.0, 4.0, 16.0)


def relu_net_loss(w: Array) -> float:
    """Mean squared error of the one-unit network x -> w2 relu(w1 x), halved."""
    pred = w[1] * np.maximum(w[0] * XS, 0.0)
    return float(0.5 * np.mean((pred - YS) ** 2))


@functools.cache
def flatness_table() -> Array:
    """Per alpha: w1 = alpha * sqrt2, w2 = sqrt2 / alpha (the same function), the loss, the two
    Hessian eigenvalues, and the prediction at x = 3."""
    rows = []
    for a in ALPHAS:
        w = np.array([a * np.sqrt(2.0), np.sqrt(2.0) / a])
        ev = np.linalg.eigvalsh(numerical_hessian(relu_net_loss, w))
        rows.append([a, w[0], w[1], relu_net_loss(w), ev[0], ev[1], w[1] * max(w[0] * 3.0, 0.0)])
    return np.array(rows)


# ---------------------------------------------------------------- exercises

EX_A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])


@functools.cache
def exercise_limit() -> dict[str, float]:
    """The step-size limit of EX_A, and ||theta_T|| / ||theta_0|| just below and above it."""
    lam = np.linalg.eigvalsh(EX_A)
    limit = 2.0 / lam.max()
    theta0 = np.ones(3)
    ratios = {}
    for name, lr in (("below", 0.99 * limit), ("above", 1.01 * limit)):
        traj = run(lambda th: EX_A @ th, theta0, lr, 500)
        ratios[name] = float(np.linalg.norm(traj[-1]) / np.linalg.norm(traj[0]))
    return {"lmax": float(lam.max()), "lmin": float(lam.min()), "limit": limit, **ratios}


def exercise_newton() -> dict[str, float]:
    """One preconditioned step theta - H^-1 grad on the kappa = 1000 quadratic."""
    h = np.diag([1.0, 1000.0])
    theta = np.array([1.0, 1.0])
    opt = SGD([theta], lr=1.0)
    opt.step([np.linalg.solve(h, h @ theta)])
    return {"norm_after": float(np.linalg.norm(theta)), "gd_steps": float(condition_table()[-1, 3])}


def degenerate_grad(theta: Array) -> Array:
    """Gradient of f(x, y) = x^2 + y^3, whose Hessian at 0 is diag(2, 0)."""
    return np.array([2 * theta[0], 3 * theta[1] ** 2])


@functools.cache
def exercise_degenerate() -> dict[str, float]:
    ev = np.linalg.eigvalsh(numerical_hessian(lambda t: float(t[0] ** 2 + t[1] ** 3), np.zeros(2)))
    up = run(degenerate_grad, np.array([1.0, 0.1]), 0.1, 1000)
    down = np.array([1.0, -0.1])
    opt = SGD([down], lr=0.1)
    while down[1] > -1.0:  # y_{t+1} = y_t - 0.3 y_t^2 runs away once y < 0
        opt.step([degenerate_grad(down)])
    below = opt.t
    return {"ev0": float(ev[0]), "ev1": float(ev[1]), "y_up": float(up[-1, 1]),
            "predicted_up": 0.1 / (1 + 3 * 0.1 * 0.1 * 1000), "steps_down": float(below)}  # fmt: skip


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    step = one_step()
    return {
        "gradient-descent/one-step": np.vstack([THETA0, step["g"], step["theta1"]]),
        "gradient-descent/rates": rate_table(),
        "gradient-descent/condition": condition_table(),
        "gradient-descent/critical": critical_table(),
        "gradient-descent/escape": escape_table()[:, 1:],
        "gradient-descent/flatness": flatness_table()[:, 1:],
    }
