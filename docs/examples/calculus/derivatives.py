"""Worked examples for the derivatives chapter: inputs chosen here, derivatives computed by llmath.

Closed forms (sigmoid, softmax, W^T, A + A^T, exp) appear only as the *check* on llmath's
finite-difference estimates.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

import llmath
from llmath.calculus.numerical import (
    EPS,
    default_step,
    grad_check,
    numerical_grad,
    numerical_hessian,
    numerical_jacobian,
)

SEED = 1671  # Newton's fluxions manuscript
X0 = 1.0  # the point for the step-size experiment; f = exp, so f = f' = f'' = f''' = e there
H_GRID = np.logspace(-14, 0, 141)  # 10 points per decade
NEAR = np.linspace(1.0, 1.05, 16)  # nearby points: the median error over them is the typical error
H_HALVING = 0.1 * 0.5 ** np.arange(4)  # truncation regime: 0.1, 0.05, 0.025, 0.0125
H_TINY = 1e-12

# Worked examples: small, fixed inputs.
X_SOFTPLUS = 0.5
X_LSE = np.array([1.0, 2.0, 0.5, -1.0])  # (N,)
X_LIN = np.array([1.0, -2.0, 0.5])  # (N,) = (3,)
W_LIN = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # (N, M) = (3, 2)
B_LIN = np.array([0.5, -0.5])  # (M,)
A_QUAD = np.array([[1.0, 2.0, 0.0], [0.0, 3.0, -1.0], [4.0, 0.0, 2.0]])  # (N, N), not symmetric
X_QUAD = np.array([1.0, -1.0, 2.0])  # (N,)
LAMBDA = 1e-3  # weight decay in the gradient-check example


def softplus(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """log(1 + e^x), computed stably."""
    return np.logaddexp(0.0, x)


def derivative_example() -> NDArray[np.float64]:
    """[numerical f'(x), sigmoid(x), |difference|] for f = softplus at x = 0.5."""
    est = float(numerical_grad(softplus, X_SOFTPLUS))
    exact = 1.0 / (1.0 + np.exp(-X_SOFTPLUS))
    return np.array([est, exact, abs(est - exact)])


def logsumexp(x: NDArray[np.float64]) -> float:
    """log sum_i exp(x_i), with the max subtracted."""
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def gradient_example() -> NDArray[np.float64]:
    """Rows: numerical gradient of log-sum-exp at X_LSE, and softmax(X_LSE)."""
    return np.array([numerical_grad(logsumexp, X_LSE), llmath.softmax(X_LSE)])


def affine(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """y = x W + b with the chapter's W (3, 2) and b (2,)."""
    return llmath.linear(x, W_LIN, B_LIN)


def jacobian_example() -> NDArray[np.float64]:
    """Numerical Jacobian of y = x W + b, shape (M, N) = (2, 3)."""
    return numerical_jacobian(affine, X_LIN)


@cache
def batched_jacobian() -> dict[str, object]:
    """Jacobian of Y = X W + b for X (T, N) = (2, 3): shape (T, M, T, N), block diagonal."""
    x = np.array([X_LIN, -X_LIN[::-1]])  # (T, N)
    jac = numerical_jacobian(affine, x)  # (T, M, T, N)
    off = max(np.abs(jac[0, :, 1, :]).max(), np.abs(jac[1, :, 0, :]).max())
    diag = max(np.abs(jac[t, :, t, :] - W_LIN.T).max() for t in range(2))
    return {"shape": jac.shape, "off": float(off), "diag": float(diag)}


def quadratic(x: NDArray[np.float64]) -> float:
    """x A x^T with the chapter's non-symmetric A."""
    return float(x @ A_QUAD @ x)


def hessian_example() -> NDArray[np.float64]:
    """Numerical Hessian of x A x^T at X_QUAD, shape (3, 3)."""
    return numerical_hessian(quadratic, X_QUAD)


# ---- step size ---------------------------------------------------------------------------------


def predicted(method: str, m0: float = np.e, mk: float = np.e) -> dict[str, float]:
    """Optimal step and error from the error model, with m0 = |f| and mk = |f''| or |f'''|.

    forward: E(h) = h mk / 2 + 2 eps m0 / h;  central: E(h) = h^2 mk / 6 + eps m0 / h.
    """
    if method == "forward":
        h = 2.0 * np.sqrt(EPS * m0 / mk)
        return {"h": h, "err": 2.0 * np.sqrt(EPS * m0 * mk)}
    h = np.cbrt(3.0 * EPS * m0 / mk)
    return {"h": h, "err": 1.5 * EPS * m0 / h}


def model_error(method: str, h: NDArray[np.float64]) -> NDArray[np.float64]:
    """The error model E(h) for f = exp at X0 (|f| = |f''| = |f'''| = e)."""
    if method == "forward":
        return h * np.e / 2 + 2 * EPS * np.e / h
    return h**2 * np.e / 6 + EPS * np.e / h


def error_at(x0: float, h: float | None, method: str) -> float:
    """|numerical exp'(x0) - exp(x0)|, the derivative estimated by llmath."""
    return abs(float(numerical_grad(np.exp, x0, h=h, method=method)) - np.exp(x0))


@cache
def error_curves() -> dict[str, NDArray[np.float64]]:
    """Errors over H_GRID: at X0 alone, and the median over the NEAR points, for both methods."""
    out = {}
    for m in ("forward", "central"):
        grid = np.array([[error_at(x, h, m) for h in H_GRID] for x in NEAR])  # (P, G)
        out[m] = np.array([error_at(X0, h, m) for h in H_GRID])
        out[m + "-median"] = np.median(grid, axis=0)
    return out


@cache
def optimum_table() -> NDArray[np.float64]:
    """Rows forward, central; columns: predicted h*, measured h*, default h, predicted error,
    measured minimum (median curve), error at the default step (median over NEAR)."""
    curves = error_curves()
    rows = []
    for m in ("forward", "central"):
        med = curves[m + "-median"]
        k = int(np.argmin(med))
        pred = predicted(m)
        default_h = float(default_step(X0, m))
        at_default = np.median([error_at(x, None, m) for x in NEAR])
        rows.append([pred["h"], H_GRID[k], default_h, pred["err"], med[k], at_default])
    return np.array(rows)


def scaling_table() -> NDArray[np.float64]:
    """Columns: h, forward E(h), E(h)/E(h/2), central E(h), E(h)/E(h/2), at X0."""
    rows = []
    for h in H_HALVING:
        ef, ef2 = error_at(X0, h, "forward"), error_at(X0, h / 2, "forward")
        ec, ec2 = error_at(X0, h, "central"), error_at(X0, h / 2, "central")
        rows.append([h, ef, ef / ef2, ec, ec / ec2])
    return np.array(rows)


def tiny_step() -> dict[str, float]:
    """Median errors over NEAR at h = 1e-12 and at the default step, both methods."""
    out = {}
    for m in ("forward", "central"):
        out[m + "-tiny"] = float(np.median([error_at(x, H_TINY, m) for x in NEAR]))
        out[m + "-default"] = float(np.median([error_at(x, None, m) for x in NEAR]))
    return out


def figure_error() -> str:
    """Log-log plot of the derivative error of exp at x = 1 against h, both methods."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    curves = error_curves()
    table = optimum_table()
    fig, ax = new_figure(6.4, 3.8)
    for row, m, colour in ((0, "forward", BLUE), (1, "central", ORANGE)):
        ax.loglog(H_GRID, curves[m], color=colour, alpha=0.3, lw=0.8)
        ax.loglog(H_GRID, curves[m + "-median"], color=colour, lw=1.8, label=f"{m}: measured")
        ax.loglog(H_GRID, model_error(m, H_GRID), color=colour, ls="--", lw=1, label=f"{m}: model")
        ax.axvline(table[row, 0], color=colour, ls=":", lw=1)
        ax.plot(table[row, 1], table[row, 4], "o", color=colour, ms=7, mfc="none", mew=1.6)
    ax.set_ylim(1e-12, 10)
    ax.set_xlabel("step h")
    ax.set_ylabel("|estimate − exp′(x)|")
    ax.legend(frameon=False, fontsize=8, loc="upper center", ncol=2)
    return svg(
        fig,
        alt="Error of forward and central differences against the step h, log-log",
        caption="Error of the derivative of exp at x = 1 against the step h",
    )


# ---- gradient checking -------------------------------------------------------------------------


@cache
def check_problem() -> dict[str, NDArray[np.float64]]:
    """x (D,) = (5,), W (D, nV) = (5, 7), seeded."""
    rng = np.random.default_rng(SEED)
    return {"x": rng.standard_normal(5), "w": rng.standard_normal((5, 7))}


def loss(x: NDArray[np.float64]) -> float:
    """f(x) = log sum_v exp((x W)_v) + (lambda / 2) ||x||^2."""
    w = check_problem()["w"]
    return logsumexp(llmath.linear(x, w)) + 0.5 * LAMBDA * float(x @ x)


def grad_correct(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """softmax(x W) W^T + lambda x."""
    w = check_problem()["w"]
    return llmath.softmax(llmath.linear(x, w)) @ w.T + LAMBDA * x


def grad_unnormalised(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bug: exp(x W) W^T, the softmax without its denominator."""
    w = check_problem()["w"]
    return np.exp(llmath.linear(x, w)) @ w.T + LAMBDA * x


def grad_no_decay(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bug: the weight-decay term lambda x forgotten."""
    w = check_problem()["w"]
    return llmath.softmax(llmath.linear(x, w)) @ w.T


GRADIENTS = {
    "correct": grad_correct,
    "forgot the softmax denominator": grad_unnormalised,
    "forgot the weight decay λx": grad_no_decay,
}


@cache
def check_table() -> NDArray[np.float64]:
    """grad_check of each candidate gradient, one column."""
    x = check_problem()["x"]
    return np.array([[grad_check(loss, g, x)] for g in GRADIENTS.values()])


# ---- exercises ---------------------------------------------------------------------------------


def exercise_sin(h: float = 1e-3, x: float = 1.0) -> NDArray[np.float64]:
    """Rows forward, central: [measured error, predicted truncation error] for sin at x."""
    fwd = abs(float(numerical_grad(np.sin, x, h=h, method="forward")) - np.cos(x))
    cen = abs(float(numerical_grad(np.sin, x, h=h, method="central")) - np.cos(x))
    return np.array([[fwd, h * np.sin(x) / 2], [cen, h**2 * np.cos(x) / 6]])


def exercise_tanh() -> dict[str, NDArray[np.float64]]:
    """Numerical Jacobian of elementwise tanh and the closed form diag(1 - tanh^2)."""
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    return {"J": numerical_jacobian(np.tanh, x), "exact": np.diag(1 - np.tanh(x) ** 2)}


OFFSET = 1e6


def exercise_offset() -> NDArray[np.float64]:
    """f = 1e6 + sin at x = 1, central: rows default step and predicted optimum; [h, error]."""
    f = lambda z: OFFSET + np.sin(z)  # noqa: E731
    pred = predicted("central", m0=OFFSET + np.sin(1.0), mk=np.cos(1.0))["h"]
    rows = []
    for h in (None, pred):
        est = float(numerical_grad(f, 1.0, h=h))
        rows.append([float(default_step(1.0)) if h is None else h, abs(est - np.cos(1.0))])
    return np.array(rows)


def tables() -> dict[str, NDArray[np.float64]]:
    return {
        "derivatives/softplus": derivative_example()[None, :],
        "derivatives/gradient": gradient_example(),
        "derivatives/jacobian": jacobian_example(),
        "derivatives/w-transpose": W_LIN.T,
        "derivatives/a": A_QUAD,
        "derivatives/hessian": hessian_example(),
        "derivatives/a-plus-at": A_QUAD + A_QUAD.T,
        "derivatives/optimum": np.log10(optimum_table()),
        "derivatives/scaling": scaling_table(),
        "derivatives/grad-check": check_table(),
        "derivatives/ex-sin": exercise_sin(),
        "derivatives/ex-tanh": exercise_tanh()["J"],
        "derivatives/ex-offset": exercise_offset(),
        "derivatives/gd-step": gd_step()["rows"],
    }


# ---- gradient descent --------------------------------------------------------------------------

# A tiny softmax regression: n = 4 inputs of width D = 3, a vocabulary of nV = 4 classes.
GD_X = np.array([[1.0, 0.5, -1.0], [0.0, 1.0, 0.5], [-1.0, 0.2, 1.0], [0.5, -0.5, 0.0]])  # (n, D)
GD_Y = np.array([0, 1, 2, 3])  # (n,) target class of each input
GD_W = np.array(
    [[0.2, -0.1, 0.0, 0.3], [0.0, 0.1, -0.2, 0.1], [-0.3, 0.2, 0.1, 0.0]]
)  # (D, nV) current weights
GD_ETAS = (0.5, 0.25, 0.125)  # learning rates for the one step, halving


def gd_loss(w: NDArray[np.float64]) -> float:
    """Mean cross-entropy of the softmax regression with weights w (D, nV)."""
    from llmath.calculus.cross_entropy import cross_entropy

    return cross_entropy(GD_X @ w, GD_Y)


def gd_grad(w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Its gradient in w: X^T (softmax(XW) - onehot) / n, by the chain rule through Z = XW."""
    from llmath.calculus.cross_entropy import cross_entropy_grad

    return GD_X.T @ cross_entropy_grad(GD_X @ w, GD_Y)  # (D, nV)


@cache
def gd_step() -> dict[str, object]:
    """One gradient-descent step W <- W - eta grad at several eta: the loss after it and the
    first-order prediction L(W) - eta ||grad||^2."""
    g = gd_grad(GD_W)  # (D, nV)
    loss0 = gd_loss(GD_W)
    rows = [[eta, gd_loss(GD_W - eta * g), loss0 - eta * float(np.sum(g * g))] for eta in GD_ETAS]
    return {
        "grad": g,
        "grad_fd": numerical_grad(gd_loss, GD_W),
        "loss0": loss0,
        "rows": np.array(rows),
    }
