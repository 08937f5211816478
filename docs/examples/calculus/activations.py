"""Worked examples for the activations chapter: inputs chosen here, every result computed by llmath.

The deep stack and the RNN use seeded Gaussian weights; their backward passes call llmath's
derivative functions, `linear_backward` and `rnn_backward`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, new_figure, svg
from llmath.calculus.activations import (
    gelu,
    gelu_grad,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from llmath.calculus.attention_grad import linear_backward
from llmath.calculus.rnn import rnn_backward, rnn_forward
from llmath.linalg.linear import linear, relu

Array = NDArray[np.float64]

GRID = np.linspace(-5.0, 5.0, 2001)  # step 0.005; contains 0 exactly
FINE = np.linspace(-8.0, 8.0, 160001)  # step 1e-4, for the GELU approximation error
X0 = 1.0  # where the derivative check is printed
H_FD = 1e-5  # central-difference step

ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
}
# Deep stack x_{l+1} = act(x_l W_l): W_l has i.i.d. N(0, g^2 / D) entries.
D, DEPTH, BATCH, STACK_SEED = 128, 50, 8, 0
SCALES = (1.0, math.sqrt(2.0), 4.0, 16.0)
# RNN h_t = tanh(h_{t-1} W_hh + x_t W_xh + b): hidden width DH, input width N.
DH, N, T_MAX, RNN_SEED = 32, 8, 100, 1
RHOS = (0.5, 0.9, 1.1, 1.5, 2.0, 3.0)
T_SHOWN = (10, 50, 100)
T_GRID = tuple(sorted({*range(1, T_MAX + 1, 4), *T_SHOWN}))  # the lengths T that are run
RELU_SCALES = (1.0, 1.2, math.sqrt(2.0), 1.6, 2.0)


FUNCTIONS = {  # every activation of the chapter with its derivative; the first four are drawn
    **ACTIVATIONS,
    "gelu": (gelu, gelu_grad),
    "gelu (tanh)": (
        functools.partial(gelu, approximate="tanh"),
        functools.partial(gelu_grad, approximate="tanh"),
    ),
}


# ---- the functions and their derivatives -----------------------------------------------------


def derivative_check() -> Array:
    """Rows per activation: the derivative formula at X0 and the central difference at X0."""
    rows = []
    for f, fp in FUNCTIONS.values():
        fd0 = (f(X0 + H_FD) - f(X0 - H_FD)) / (2 * H_FD)
        rows.append([float(fp(X0)), float(fd0)])
    return np.array(rows)


def derivative_check_grid() -> float:
    """Max |formula - central difference| over GRID (away from ReLU's kink) and activations."""
    grid = GRID[np.abs(GRID) > 2 * H_FD]  # at the kink a difference straddles two slopes
    worst = 0.0
    for f, fp in FUNCTIONS.values():
        fd = (f(grid + H_FD) - f(grid - H_FD)) / (2 * H_FD)
        worst = max(worst, float(np.abs(fp(grid) - fd).max()))
    return worst


def max_slopes() -> Array:
    """Rows sigmoid, tanh: grid argmax, grid max, closed-form argmax, closed-form max."""
    out = []
    for fp, closed in ((sigmoid_grad, 0.25), (tanh_grad, 1.0)):
        d = fp(GRID)
        i = int(np.argmax(d))
        out.append([GRID[i], d[i], 0.0, closed])
    return np.array(out)


@functools.cache
def gelu_tanh_error() -> Array:
    """Rows GELU, GELU': max |tanh approximation - exact| on FINE and the x where it occurs."""
    out = []
    for f in (gelu, gelu_grad):
        err = np.abs(f(FINE, approximate="tanh") - f(FINE))
        i = int(np.argmax(err))
        out.append([err[i], FINE[i]])
    return np.array(out)


def tanh_grad_precision() -> Array:
    """At x = 5, 10, 15: relative error of 1 - tanh^2 and of tanh_grad against 1 / cosh^2."""
    x = np.array([5.0, 10.0, 15.0])
    exact = 1.0 / np.cosh(x) ** 2  # accurate to a few ulp for these x
    naive = 1.0 - np.tanh(x) ** 2
    return np.stack([np.abs(naive - exact) / exact, np.abs(tanh_grad(x) - exact) / exact])


def _curves(derivative: bool) -> tuple[Any, Any]:
    """Sigmoid, tanh, ReLU and GELU, or their derivatives, on [-4, 4]."""
    fig, ax = new_figure(6.0, 3.4)
    x = np.linspace(-4, 4, 801)
    drawn = list(FUNCTIONS.items())[:4]
    for (name, pair), c in zip(drawn, (BLUE, ORANGE, GREEN, PURPLE), strict=True):
        ax.plot(x, pair[derivative](x), color=c, label=name + "'" * derivative)
    ax.axhline(0, color="#000000", lw=0.5)
    ax.set_xlabel("x")
    ax.legend(frameon=False, loc="upper left")
    return fig, ax


def functions_figure() -> str:
    fig, ax = _curves(derivative=False)
    ax.set_ylim(-1.2, 2.2)
    ax.set_title("activations")
    return svg(
        fig,
        alt="sigmoid, tanh, ReLU and GELU between x = -4 and 4",
        caption="The four activations",
    )


def derivatives_figure() -> str:
    fig, ax = _curves(derivative=True)
    ax.axhline(0.25, color=BLUE, lw=0.8, ls=":")
    ax.set_title("derivatives (dotted: 1/4)")
    return svg(
        fig,
        alt="derivatives of sigmoid, tanh, ReLU and GELU between x = -4 and 4",
        caption="Their derivatives; the dotted line is 1/4",
    )


# ---- gradients through a deep stack --------------------------------------------------------


@functools.cache
def _stack_inputs() -> tuple[Array, Array, Array]:
    """x_0 (B, D), DEPTH standard normal (D, D) matrices, and dloss/dx_n (B, D); one seed for all."""
    rng = np.random.default_rng(STACK_SEED)
    x = rng.standard_normal((BATCH, D))
    w = rng.standard_normal((DEPTH, D, D))
    return x, w, rng.standard_normal((BATCH, D))


# --8<-- [start:stack]
@functools.cache
def stack_gradients(name: str, g: float) -> tuple[Array, Array]:
    """||dloss/dx_l|| for l = 0..DEPTH, and mean act'(z_l) per layer,
    for x_{l+1} = act(x_l W_l)."""
    act, act_grad = ACTIVATIONS[name]
    x, w_std, dx = _stack_inputs()  # x_0 (B, D), N(0, 1) weights (DEPTH, D, D), (B, D)
    ws = [w * g / math.sqrt(D) for w in w_std]  # W_l with N(0, g^2 / D) entries
    xs, zs = [], []
    for w in ws:  # forward: keep every layer's input and pre-activation
        z = linear(x, w)  # (B, D)
        xs.append(x)
        zs.append(z)
        x = act(z)
    # dx = dloss/dx_n: the loss is sum(r * x_n) for a fixed random r
    norms = [np.linalg.norm(dx)]
    for x_l, z, w in zip(reversed(xs), reversed(zs), reversed(ws), strict=True):
        dz = dx * act_grad(z)  # (B, D): through the activation
        dx, _, _ = linear_backward(dz, x_l, w)  # (B, D): through the weights, dz W^T
        norms.append(np.linalg.norm(dx))
    return np.array(norms[::-1]), np.array([act_grad(z).mean() for z in zs])


# --8<-- [end:stack]


def per_layer_factor(name: str, g: float) -> float:
    """Geometric-mean factor by which ||dloss/dx_l|| changes per layer, going back to the input."""
    norms, _ = stack_gradients(name, g)
    return float((norms[0] / norms[-1]) ** (1.0 / DEPTH))


def stack_table() -> Array:
    """Rows (sigmoid, tanh, relu) x (per-layer gradient factor, mean act'(z)); cols SCALES."""
    rows = []
    for name in ACTIVATIONS:
        rows.append([per_layer_factor(name, g) for g in SCALES])
        rows.append([stack_gradients(name, g)[1].mean() for g in SCALES])
    return np.array(rows)


def relu_dead_fraction() -> float:
    """Fraction of ReLU units with zero derivative, over all layers, g = sqrt 2.

    relu'(z) is 0 or 1, so the fraction of zeros is 1 minus its mean, which the stack records.
    """
    _, mean_slopes = stack_gradients("relu", math.sqrt(2.0))  # (DEPTH,), equal-sized layers
    return float(1.0 - mean_slopes.mean())


def stack_figure() -> str:
    fig, axes = new_figure(7.5, 3.0, 1, 3, sharey=True)
    colours = (BLUE, ORANGE, GREEN, RED)
    for ax, name in zip(axes, ACTIVATIONS, strict=True):
        for g, c in zip(SCALES, colours, strict=True):
            ax.semilogy(stack_gradients(name, g)[0], color=c, label=f"g = {g:.3g}")
        ax.set_title(name)
        ax.set_xlabel("layer l")
    axes[0].set_ylabel("‖∂loss/∂x_l‖")
    axes[2].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return svg(
        fig,
        alt="gradient norm against layer for sigmoid, tanh and ReLU stacks",
        caption="Gradient norm at each layer of a 50-layer stack, by init scale g",
    )


def relu_critical() -> Array:
    """Rows per g in RELU_SCALES: measured per-layer factor, and g / sqrt 2."""
    return np.array([[per_layer_factor("relu", g), g / math.sqrt(2.0)] for g in RELU_SCALES])


# ---- gradients through time in a tanh RNN --------------------------------------------------


@functools.cache
def _rnn_inputs(rho: float) -> tuple[Array, ...]:
    rng = np.random.default_rng(RNN_SEED)
    w_hh = rng.standard_normal((DH, DH))  # (D, D)
    w_hh *= rho / np.abs(np.linalg.eigvals(w_hh)).max()  # spectral radius exactly rho
    w_xh = rng.standard_normal((N, DH)) / math.sqrt(N)  # (N, D)
    x = rng.standard_normal((T_MAX, N))  # (T, N)
    r = rng.standard_normal(DH)  # (D,): the loss is r . h_T
    return x, w_xh, w_hh, r


# --8<-- [start:rnn]
@functools.cache
def rnn_gradients(rho: float) -> tuple[Array, Array]:
    """||dloss/dh_0|| for loss = r . h_T, T in T_GRID;
    and mean tanh'(a_t) along the longest run."""
    x, w_xh, w_hh, r = _rnn_inputs(rho)
    h0, b = np.zeros(DH), np.zeros(DH)
    norms = []
    for T in T_GRID:
        _, cache = rnn_forward(x[:T], h0, w_xh, w_hh, b)  # (T, D) states
        dh = np.zeros((T, DH))
        dh[-1] = r  # only h_T enters the loss
        _, dh0, _, _, _ = rnn_backward(dh, cache)  # (D,)
        norms.append(np.linalg.norm(dh0))
    return np.array(norms), tanh_grad(cache.a).mean(axis=-1)


# --8<-- [end:rnn]


def rnn_table() -> Array:
    """Rows per rho: largest singular value of W_hh, log10 ||dloss/dh_0|| at T_SHOWN, mean tanh'."""
    rows = []
    for rho in RHOS:
        norms, tg = rnn_gradients(rho)
        s_max = np.linalg.norm(_rnn_inputs(rho)[2], 2)
        rows.append([s_max, *(np.log10(norms[T_GRID.index(T)]) for T in T_SHOWN), tg.mean()])
    return np.array(rows)


def rnn_figure() -> str:
    fig, ax = new_figure(6.0, 3.4)
    colours = (BLUE, GREEN, ORANGE, PURPLE, RED, "#6b7280")
    t = np.array(T_GRID)
    for rho, c in zip(RHOS, colours, strict=True):
        ax.semilogy(t, rnn_gradients(rho)[0], color=c, label=f"ρ = {rho:g}")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("‖∂loss/∂h₀‖")
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return svg(
        fig,
        alt="gradient norm at h_0 against sequence length for six spectral radii",
        caption="Gradient at h₀ of a tanh RNN against sequence length T",
    )


# ---- exercises -----------------------------------------------------------------------------


def tanh_from_sigmoid() -> Array:
    """max |tanh(x) - (2 sigma(2x) - 1)| and max |tanh'(x) - 4 sigma'(2x)| over GRID."""
    return np.array(
        [
            [
                np.abs(tanh(GRID) - (2 * sigmoid(2 * GRID) - 1)).max(),
                np.abs(tanh_grad(GRID) - 4 * sigmoid_grad(2 * GRID)).max(),
            ]
        ]
    )


def gelu_extrema() -> Array:
    """Rows min, max of GELU': grid location, grid value, closed-form location, value there."""
    d = gelu_grad(GRID)
    out = []
    for i, x_star in ((int(np.argmin(d)), -math.sqrt(2.0)), (int(np.argmax(d)), math.sqrt(2.0))):
        out.append([GRID[i], d[i], x_star, float(gelu_grad(x_star))])
    return np.array(out)


# ---- PyTorch as a second witness, and SwiGLU ------------------------------------------------


@functools.cache
def torch_differences() -> dict[str, tuple[float, float]]:
    """Per activation: max |llmath - torch| over GRID for the function and for its derivative
    (torch autograd of the sum, float64)."""
    import torch
    import torch.nn.functional as F

    twins = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "gelu": F.gelu,
        "gelu (tanh)": functools.partial(F.gelu, approximate="tanh"),
    }
    out = {}
    for name, (f, fp) in FUNCTIONS.items():
        xt = torch.tensor(GRID, requires_grad=True)
        yt = twins[name](xt)
        yt.sum().backward()
        out[name] = (
            float(np.abs(f(GRID) - yt.detach().numpy()).max()),
            float(np.abs(fp(GRID) - xt.grad.numpy()).max()),
        )
    return out


def silu_grad(x: Array) -> Array:
    """Derivative of SiLU(x) = x sigma(x) by the product rule, from llmath's sigmoid pieces."""
    return sigmoid(x) + x * sigmoid_grad(x)


@functools.cache
def swiglu_check() -> dict[str, float]:
    """SiLU' from llmath's sigmoid and sigmoid_grad against torch autograd of F.silu on GRID,
    and the gated unit's input gradient against central differences."""
    import torch
    import torch.nn.functional as F

    from llmath.calculus.numerical import numerical_grad

    xt = torch.tensor(GRID, requires_grad=True)
    F.silu(xt).sum().backward()
    rng = np.random.default_rng(2020)  # Shazeer 2020
    x = rng.standard_normal(4)  # (D,)
    w1, w3 = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))  # (D, F)
    up = rng.standard_normal(6)  # (F,): a fixed upstream gradient

    def loss(v: Array) -> float:
        a, b = v @ w1, v @ w3  # (F,), (F,)
        return float(up @ (a * sigmoid(a) * b))

    a, b = x @ w1, x @ w3
    # chain rule: d loss / d a = up * b * SiLU'(a), d loss / d b = up * SiLU(a)
    dx = (up * b * silu_grad(a)) @ w1.T + (up * a * sigmoid(a)) @ w3.T  # (D,)
    return {
        "silu_grad_vs_torch": float(np.abs(silu_grad(GRID) - xt.grad.numpy()).max()),
        "swiglu_dx_vs_fd": float(np.abs(dx - numerical_grad(loss, x)).max()),
    }


def tables() -> dict[str, Array]:
    """Every numeric table the activations page prints, by key."""
    return {
        "activations/derivative-check": derivative_check(),
        "activations/max-slope": max_slopes(),
        "activations/gelu-tanh-error": gelu_tanh_error(),
        "activations/stack": stack_table(),
        "activations/rnn": rnn_table(),
        "activations/ex-tanh-sigmoid": tanh_from_sigmoid(),
        "activations/ex-gelu-extrema": gelu_extrema(),
        "activations/ex-relu-critical": relu_critical(),
    }
