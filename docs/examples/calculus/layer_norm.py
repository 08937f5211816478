"""Worked examples for the layer-norm chapter: inputs chosen here, every result computed by llmath.

The three `wrong_*` functions are the *incorrect* backward formulas that the chapter corrects;
they live here, not in the package, so that they can be measured against the right answer.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from examples.calculus import rel_error
from llmath.calculus.layernorm import layer_norm, layer_norm_backward
from llmath.calculus.numerical import numerical_grad

Array = NDArray[np.float64]

# Three tokens of width D = 4. The third has a small variance, so eps = 0.1 matters for it.
X = np.array(
    [
        [1.0, -2.0, 0.5, 2.5],
        [0.3, 0.8, -0.6, 0.1],
        [0.05, -0.1, 0.15, 0.0],
    ]
)
GAMMA = np.array([1.5, -0.5, 2.0, 0.8])
BETA = np.array([0.1, 0.0, -0.2, 0.3])
EPS = 0.1
DOUT = np.array(
    [
        [0.5, -1.0, 0.2, 0.3],
        [-0.4, 0.6, 1.0, -0.2],
        [0.7, 0.1, -0.3, 0.9],
    ]
)
SEED = 2016


@cache
def worked() -> dict[str, Array]:
    """Forward and backward of the worked example, plus per-token statistics."""
    out, c = layer_norm(X, GAMMA, BETA, eps=EPS)
    dx, dgamma, dbeta = layer_norm_backward(DOUT, c)
    mu = X.mean(axis=-1)  # (T,)
    var = ((X - mu[:, None]) ** 2).mean(axis=-1)  # (T,)
    stats = np.stack([mu, var, c.inv_std[:, 0]], axis=1)  # (T, 3)
    return {
        "stats": stats,
        "x_hat": c.x_hat,
        "out": out,
        "dx": dx,
        "dgamma": dgamma,
        "dbeta": dbeta,
    }


@cache
def torch_reference() -> dict[str, Array]:
    """The same forward and gradients from torch.nn.functional.layer_norm and autograd, float64."""
    import torch

    x, gamma, beta = (
        torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, GAMMA, BETA)
    )
    out = torch.nn.functional.layer_norm(x, (X.shape[-1],), gamma, beta, eps=EPS)
    out.backward(torch.tensor(DOUT, dtype=torch.float64))
    return {
        "out": out.detach().numpy(),
        "dx": x.grad.numpy(),
        "dgamma": gamma.grad.numpy(),
        "dbeta": beta.grad.numpy(),
    }


@cache
def finite_differences() -> dict[str, Array]:
    """Central-difference gradients of loss = sum(dout * layer_norm(x)), independent of torch."""

    def loss(x: Array = X, gamma: Array = GAMMA, beta: Array = BETA) -> float:
        return float(np.sum(DOUT * layer_norm(x, gamma, beta, eps=EPS)[0]))

    return {
        "dx": numerical_grad(lambda x: loss(x=x), X),
        "dgamma": numerical_grad(lambda g: loss(gamma=g), GAMMA),
        "dbeta": numerical_grad(lambda b: loss(beta=b), BETA),
    }


# ---- the wrong formulas -----------------------------------------------------------------------


def wrong_gamma_outside(x: Array, gamma: Array, dout: Array, eps: float) -> Array:
    """gamma/(D s) (D dy - sum dy - x_hat sum(dy x_hat)), s = sqrt(var + eps): gamma pulled out."""
    _, c = layer_norm(x, gamma, np.zeros_like(gamma), eps=eps)
    D = x.shape[-1]
    s = dout.sum(axis=-1, keepdims=True)
    p = (dout * c.x_hat).sum(axis=-1, keepdims=True)
    return gamma * c.inv_std / D * (D * dout - s - c.x_hat * p)


def wrong_eps_dropped(x: Array, gamma: Array, dout: Array, eps: float) -> Array:
    """The right structure with sigma = std(x) (no eps) in the prefactor and in x_hat."""
    del eps  # ignored: that is the mistake
    D = x.shape[-1]
    xc = x - x.mean(axis=-1, keepdims=True)
    sigma = np.sqrt((xc * xc).mean(axis=-1, keepdims=True))
    x_hat0 = xc / sigma
    g = dout * gamma
    return (D * g - g.sum(-1, keepdims=True) - x_hat0 * (g * x_hat0).sum(-1, keepdims=True)) / (
        D * sigma
    )


def wrong_printed(x: Array, gamma: Array, dout: Array, eps: float) -> Array:
    """The formula as printed for scalar gamma and eps = 0, used with per-feature gamma, eps > 0."""
    return gamma * wrong_eps_dropped(x, np.ones_like(gamma), dout, eps)


def wrong_unit_projection(x: Array, gamma: Array, dout: Array, eps: float) -> Array:
    """r (g - mean g - x_hat (g.x_hat)/|x_hat|^2): projects out x_hat as if mean(x_hat^2) = 1."""
    _, c = layer_norm(x, gamma, np.zeros_like(gamma), eps=eps)
    g = dout * gamma
    coef = (g * c.x_hat).sum(-1, keepdims=True) / (c.x_hat**2).sum(-1, keepdims=True)
    return c.inv_std * (g - g.mean(-1, keepdims=True) - c.x_hat * coef)


WRONG = {
    "printed formula (γ outside, σ = std)": wrong_printed,
    "γ outside only": wrong_gamma_outside,
    "ε dropped only (σ = std)": wrong_eps_dropped,
    "projection with mean(x̂²) = 1": wrong_unit_projection,
}


@cache
def wrong_on_example() -> Array:
    """Rows: the WRONG formulas; columns: relative error of dx per token of the worked example."""
    ref = torch_reference()["dx"]
    return np.array(
        [
            [rel_error(f(X, GAMMA, DOUT, EPS)[t], ref[t]) for t in range(len(X))]
            for f in WRONG.values()
        ]
    )


@cache
def wrong_vs_eps(n_tokens: int = 64, D: int = 16) -> dict[str, Array]:
    """Relative error of each wrong dx against torch, as eps/var runs over 1e-6 .. 1e2.

    Tokens are standard normal rows standardised to variance exactly 1 (so eps/var = eps);
    gamma ~ N(1, 0.2^2), like a trained model's; dout standard normal.
    """
    import torch

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((n_tokens, D))
    x = (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)  # (T, D), var = 1
    gamma = 1 + 0.2 * rng.standard_normal(D)
    dout = rng.standard_normal((n_tokens, D))
    ratios = np.logspace(-6, 2, 33)
    errs = {name: [] for name in WRONG}
    for eps in ratios:
        xt = torch.tensor(x, requires_grad=True)
        out = torch.nn.functional.layer_norm(xt, (D,), torch.tensor(gamma), eps=float(eps))
        out.backward(torch.tensor(dout))
        ref = xt.grad.numpy()
        for name, f in WRONG.items():
            errs[name].append(rel_error(f(x, gamma, dout, float(eps)), ref))
    return {"ratio": ratios, **{k: np.array(v) for k, v in errs.items()}}


# ---- geometry ---------------------------------------------------------------------------------


@cache
def geometry() -> Array:
    """Per token: var, eps/(var+eps), mean(x_hat^2), dx.1, dx.x_hat, r g.x_hat, their ratio."""
    _, c = layer_norm(X, GAMMA, BETA, eps=EPS)
    dx, _, _ = layer_norm_backward(DOUT, c)
    var = worked()["stats"][:, 1]
    r = c.inv_std[:, 0]
    g = DOUT * GAMMA
    along = (dx * c.x_hat).sum(-1)  # dx . x_hat
    unprojected = r * (g * c.x_hat).sum(-1)  # r (g - mean g) . x_hat
    return np.stack(
        [
            var,
            EPS / (var + EPS),
            (c.x_hat**2).mean(-1),
            dx.sum(-1),
            along,
            unprojected,
            along / unprojected,
        ],
        axis=1,
    )


def geometry_eps_zero() -> tuple[float, float]:
    """Largest |dx . 1| and |dx . x_hat| for the worked example with eps = 0."""
    _, c = layer_norm(X, GAMMA, BETA, eps=0.0)
    dx, _, _ = layer_norm_backward(DOUT, c)
    return float(np.abs(dx.sum(-1)).max()), float(np.abs((dx * c.x_hat).sum(-1)).max())


# ---- exercises --------------------------------------------------------------------------------


def constant_upstream() -> Array:
    """Rows: dx of token 1 for dout = all ones, with gamma = 1 and with the example's gamma."""
    ones = np.ones_like(X[:1])
    _, c1 = layer_norm(X[:1], np.ones(4), BETA, eps=EPS)
    _, cg = layer_norm(X[:1], GAMMA, BETA, eps=EPS)
    return np.concatenate([layer_norm_backward(ones, c1)[0], layer_norm_backward(ones, cg)[0]])


def jacobian_eigenvalues() -> Array:
    """Rows per token: eigenvalues of d x_hat / d x (gamma = 1), and the predicted 0, r eps/(var+eps), r."""
    rows = []
    D = X.shape[-1]
    for t in range(len(X)):
        xs = np.repeat(X[t : t + 1], D, axis=0)  # (D, D): the token D times
        _, c = layer_norm(xs, np.ones(D), np.zeros(D), eps=EPS)
        jac = layer_norm_backward(np.eye(D), c)[0]  # row i = e_i J = row i of J
        eig = np.linalg.eigvalsh((jac + jac.T) / 2)
        rows.append(eig)
    return np.array(rows)


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    w = worked()
    return {
        "layer-norm/x": X,
        "layer-norm/gamma-beta": np.stack([GAMMA, BETA]),
        "layer-norm/dout": DOUT,
        "layer-norm/stats": w["stats"],
        "layer-norm/x-hat": w["x_hat"],
        "layer-norm/out": w["out"],
        "layer-norm/dx": w["dx"],
        "layer-norm/dgamma-dbeta": np.stack([w["dgamma"], w["dbeta"]]),
        "layer-norm/wrong": wrong_on_example(),
        "layer-norm/geometry": geometry(),
        "layer-norm/constant-upstream": constant_upstream(),
        "layer-norm/jacobian-eigenvalues": jacobian_eigenvalues(),
    }


# ---- exercise 4: RMSNorm ------------------------------------------------------------------------


def rms_norm_exercise(eps: float = EPS) -> dict[str, Array]:
    """The exercise's answer for RMSNorm, dx = r (g - x_hat mean(g x_hat)), against torch's
    rms_norm with autograd and against llmath's central differences, on the worked example."""
    import torch

    from llmath.calculus.numerical import numerical_grad

    D = X.shape[-1]
    r = 1.0 / np.sqrt((X**2).mean(axis=-1, keepdims=True) + eps)  # (T, 1)
    x_hat = X * r  # (T, D)
    g = DOUT * GAMMA  # (T, D)
    answer = r * (g - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))  # (T, D)

    xt = torch.tensor(X, requires_grad=True)
    yt = torch.nn.functional.rms_norm(xt, (D,), torch.tensor(GAMMA), eps=eps)
    yt.backward(torch.tensor(DOUT))

    def loss(x: Array) -> float:
        rx = 1.0 / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)
        return float(np.sum(DOUT * GAMMA * x * rx))

    return {"answer": answer, "torch": xt.grad.numpy(), "fd": numerical_grad(loss, X)}
