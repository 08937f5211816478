"""Worked examples for the linear-maps chapter: inputs chosen here, results computed by llmath."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

import llmath
from examples.linear_algebra.published import GPT2_CONTEXT, GPT2_D, GPT2_F

# A 2x2 map for the picture: its rows are the images of e_1 and e_2.
W_PLANE = np.array([[1.2, 0.4], [-0.3, 0.9]])

SEED = 7
WIDTHS = (4, 8, 8, 3)  # a three-layer stack N_1 -> N_2 -> N_3 -> N_4
T = 6  # rows (tokens) pushed through it

# XOR: inputs as rows, targets, and a two-layer ReLU network with hand-chosen weights.
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])
XOR_W1 = np.array([[1.0, 1.0], [1.0, 1.0]])
XOR_B1 = np.array([0.0, -1.0])
XOR_W2 = np.array([[1.0], [-2.0]])
XOR_B2 = np.array([0.0])

# GPT-2 small's linear layers (D = 768, F = 4D; see published.py) for the cost table,
# applied to a full context of T = 1024 tokens.
GPT2_LAYERS = (
    ("attention q, k, v", GPT2_D, 3 * GPT2_D),
    ("attention output", GPT2_D, GPT2_D),
    ("MLP up", GPT2_D, GPT2_F),
    ("MLP down", GPT2_F, GPT2_D),
)
GPT2_T = GPT2_CONTEXT


def basis_images() -> NDArray[np.float64]:
    """e_1 W and e_2 W, which are the rows of W."""
    return llmath.linear(np.eye(2), W_PLANE)  # (2, 2)


def random_stack() -> tuple[
    list[tuple[NDArray[np.float64], NDArray[np.float64]]], NDArray[np.float64]
]:
    """Three random affine layers with widths WIDTHS, and T random input rows."""
    rng = np.random.default_rng(SEED)
    layers = []
    for n, m in itertools.pairwise(WIDTHS):
        w = rng.standard_normal((n, m)) / np.sqrt(n)  # (N_l, N_{l+1})
        b = rng.standard_normal(m)  # (N_{l+1},)
        layers.append((w, b))
    x = rng.standard_normal((T, WIDTHS[0]))  # (T, N_1)
    return layers, x


def run_stack(
    layers: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
    x: NDArray[np.float64],
    *,
    activation: bool,
) -> NDArray[np.float64]:
    """Apply the layers in order, with ReLU between them (not after the last) if asked."""
    h = x
    for i, (w, b) in enumerate(layers):
        h = llmath.linear(h, w, b)
        if activation and i < len(layers) - 1:
            h = llmath.relu(h)
    return h


def composition() -> dict[str, NDArray[np.float64]]:
    """(x W1) W2 against x (W1 W2): equal in exact arithmetic, within rounding in floating point."""
    layers, x = random_stack()
    (w1, _), (w2, _) = layers[0], layers[1]
    one_at_a_time = llmath.linear(llmath.linear(x, w1), w2)  # (T, N_3)
    product_first = llmath.linear(x, w1 @ w2)  # (T, N_3)
    return {
        "one_at_a_time": one_at_a_time,
        "product_first": product_first,
        "max_abs_diff": np.max(np.abs(one_at_a_time - product_first)),
    }


def affine_is_not_linear() -> dict[str, NDArray[np.float64]]:
    """f(0) and f(2x) - 2 f(x) for the first layer of the random stack: both equal b, up to sign."""
    layers, x = random_stack()
    w, b = layers[0]
    return {
        "f(0)": llmath.linear(np.zeros(w.shape[0]), w, b),
        "f(2x) - 2f(x)": llmath.linear(2 * x[0], w, b) - 2 * llmath.linear(x[0], w, b),
        "b": b,
    }


def column_form() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x W + b, (W^T x^T + b^T)^T): the row and column conventions give the same numbers."""
    layers, x = random_stack()
    w, b = layers[0]
    rows = llmath.linear(x, w, b)  # (T, M)
    cols = (w.T @ x.T + b[:, None]).T  # (M, T) -> (T, M)
    return rows, cols


def column_form_gap() -> float:
    """max |(x W + b) - (W^T x^T + b^T)^T| (tests/linalg uses it)."""
    rows, cols = column_form()
    return float(np.max(np.abs(rows - cols)))


def midpoint_defect(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> float:
    """max |f((x + y) / 2) - (f(x) + f(y)) / 2|: zero for every affine f."""
    return float(np.max(np.abs(f((x + y) / 2) - (f(x) + f(y)) / 2)))


def collapse() -> dict[str, object]:
    """Stack vs its collapsed single layer, with and without ReLU; parameter counts."""
    layers, x = random_stack()
    W, b = llmath.compose_affine(layers)  # (N_1, N_4), (N_4,)
    single = llmath.linear(x, W, b)  # (T, N_4)
    plain = run_stack(layers, x, activation=False)
    with_relu = run_stack(layers, x, activation=True)
    y = x[::-1]  # a second set of inputs for the midpoint test

    def plain_f(z: NDArray[np.float64]) -> NDArray[np.float64]:
        return run_stack(layers, z, activation=False)

    def relu_f(z: NDArray[np.float64]) -> NDArray[np.float64]:
        return run_stack(layers, z, activation=True)

    return {
        "plain": plain,
        "single": single,
        "plain_vs_collapsed": float(np.max(np.abs(plain - single))),
        "relu_vs_collapsed": float(np.max(np.abs(with_relu - single))),
        "plain_midpoint": midpoint_defect(plain_f, x, y),
        "relu_midpoint": midpoint_defect(relu_f, x, y),
        "stack_params": float(sum(w.size + bb.size for w, bb in layers)),
        "collapsed_params": float(W.size + b.size),
    }


def xor_relu(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The hand-built network relu(x W1 + b1) W2 + b2, output shape (..., 1)."""
    h = llmath.relu(llmath.linear(x, XOR_W1, XOR_B1))  # (..., 2)
    return llmath.linear(h, XOR_W2, XOR_B2)  # (..., 1)


def xor_affine_fit() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The least-squares affine fit (w, b) to XOR, w of shape (2, 1) and b of shape (1,)."""
    augmented = np.hstack([XOR_X, np.ones((4, 1))])  # (4, 3): the bias as a weight on a 1
    coef, *_ = np.linalg.lstsq(augmented, XOR_Y, rcond=None)  # (3,)
    return coef[:2, None], coef[2:]


def xor() -> dict[str, object]:
    """Targets, best affine fit, ReLU network; errors and the affine identity's residual."""
    w, b = xor_affine_fit()
    affine = llmath.linear(XOR_X, w, b)[:, 0]  # (4,)
    relu_net = xor_relu(XOR_X)[:, 0]  # (4,)

    def alternating(v: NDArray[np.float64]) -> float:
        # v(0,0) + v(1,1) - v(0,1) - v(1,0): zero for every affine map.
        return float(v[0] + v[3] - v[1] - v[2])

    return {
        "table": np.stack([XOR_Y, affine, relu_net], axis=1),  # (4, 3)
        "w": w[:, 0],
        "b": float(b[0]),
        "affine_rms": float(np.sqrt(np.mean((affine - XOR_Y) ** 2))),
        "relu_max_err": float(np.max(np.abs(relu_net - XOR_Y))),
        "alternating_target": alternating(XOR_Y),
        "alternating_affine": alternating(affine),
        "alternating_relu": alternating(relu_net),
    }


def layer_cost() -> NDArray[np.float64]:
    """Rows: GPT-2 layers. Cols: N, M, params N M + M, FLOPs per row 2 N M, FLOPs for T rows."""
    rows = []
    for _, n, m in GPT2_LAYERS:
        rows.append([n, m, n * m + m, 2 * n * m, 2 * n * m * GPT2_T])
    return np.array(rows, dtype=np.float64)


def bias_trick() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x W + b, [x, 1] [[W], [b]]): an affine map in N dims is linear in N + 1."""
    layers, x = random_stack()
    w, b = layers[0]
    augmented_x = np.hstack([x, np.ones((x.shape[0], 1))])  # (T, N + 1)
    augmented_w = np.vstack([w, b])  # (N + 1, M)
    return llmath.linear(x, w, b), llmath.linear(augmented_x, augmented_w)


def bias_trick_gap() -> float:
    """max |x W + b - [x, 1] [[W], [b]]| (tests/linalg uses it)."""
    plain, augmented = bias_trick()
    return float(np.max(np.abs(plain - augmented)))


BOTTLENECK = (4, 2, 3)  # widths N_1 -> N_2 -> N_3 with a hidden layer narrower than both ends


def bottleneck() -> dict[str, int]:
    """Rank of the collapsed linear part of a stack with a narrow hidden layer, vs a generic layer.

    Two random affine layers 4 -> 2 -> 3 collapse to one 4 -> 3 layer whose W = W_1 W_2 has rank
    at most 2, so no choice of their weights gives a generic (rank 3) 4 -> 3 layer.
    """
    rng = np.random.default_rng(SEED + 1)
    layers = [
        (rng.standard_normal((n, m)), rng.standard_normal(m))
        for n, m in itertools.pairwise(BOTTLENECK)
    ]
    W, _ = llmath.compose_affine(layers)  # (N_1, N_3)
    generic = rng.standard_normal((BOTTLENECK[0], BOTTLENECK[-1]))  # (N_1, N_3)
    return {
        "rank_stack": int(np.linalg.matrix_rank(W)),
        "rank_generic": int(np.linalg.matrix_rank(generic)),
        "narrowest": min(BOTTLENECK[1:-1]),
    }


def abs_value() -> dict[str, float]:
    """|x| = relu(x) + relu(-x) as a ReLU network, and the best affine fit on [-1, 1]."""
    x = np.linspace(-1.0, 1.0, 201)[:, None]  # (201, 1)
    w1, w2 = np.array([[1.0, -1.0]]), np.array([[1.0], [1.0]])
    net = llmath.linear(llmath.relu(llmath.linear(x, w1)), w2)[:, 0]  # (201,)
    target = np.abs(x[:, 0])
    augmented = np.hstack([x, np.ones_like(x)])  # (201, 2)
    coef, *_ = np.linalg.lstsq(augmented, target, rcond=None)
    fit = llmath.linear(x, coef[:1, None], coef[1:])[:, 0]
    return {
        "relu_max_err": float(np.max(np.abs(net - target))),
        "affine_slope": float(coef[0]),
        "affine_intercept": float(coef[1]),
        "affine_max_err": float(np.max(np.abs(fit - target))),
    }


def order_cost(n: int = GPT2_D, m: int = GPT2_F, t: int = GPT2_T) -> dict[str, float]:
    """FLOPs of (X W1) W2 and of X (W1 W2) for X (t, n), W1 (n, m), W2 (m, n)."""
    return {
        "left_to_right": 2.0 * t * n * m + 2.0 * t * m * n,
        "product_first": 2.0 * n * m * n + 2.0 * t * n * n,
    }


def square_area() -> dict[str, float]:
    """Area of the image of the unit square under W_PLANE (shoelace formula) and det W_PLANE."""
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    p = llmath.linear(corners, W_PLANE)  # (4, 2)
    x, y = p[:, 0], p[:, 1]
    shoelace = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    return {"shoelace": shoelace, "det": float(np.linalg.det(W_PLANE))}


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the linear-maps page, keyed as on the page."""
    return {
        "linear-maps/weight": W_PLANE,
        "linear-maps/basis-images": basis_images(),
        "linear-maps/xor": xor()["table"],  # type: ignore[dict-item]
        "linear-maps/layer-cost": layer_cost(),
    }


# ---- figures -------------------------------------------------------------------------------


def figure_grid() -> str:
    """The unit square and a grid before and after the map x -> x W_PLANE."""
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    fig, axes = new_figure(8.0, 3.6, 1, 2, sharex=True, sharey=True)
    ticks = np.linspace(-1.0, 1.0, 9)
    line = np.linspace(-1.0, 1.0, 2)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    for ax, w, title in ((axes[0], np.eye(2), "before: x"), (axes[1], W_PLANE, "after: x W")):
        for c in ticks:
            for pts in (np.stack([line, np.full(2, c)], 1), np.stack([np.full(2, c), line], 1)):
                img = llmath.linear(pts, w)
                ax.plot(img[:, 0], img[:, 1], color="#888888", lw=0.6)
        sq = llmath.linear(square, w)
        ax.fill(sq[:, 0], sq[:, 1], color=ORANGE, alpha=0.35)
        e = llmath.linear(np.eye(2), w)
        for vec, colour, name in ((e[0], BLUE, "e₁"), (e[1], GREEN, "e₂")):
            ax.annotate(
                "", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2}
            )
            label = name if title.startswith("before") else f"{name}W"
            ax.text(vec[0] + 0.05, vec[1] + 0.05, label, color=colour)
        ax.set_title(title)
        ax.set_aspect("equal")
    fig.tight_layout()
    return svg(
        fig,
        alt="A square grid and the unit square, and their images under W: "
        "a sheared, rotated grid and a parallelogram",
        caption="The plane before and after x ↦ xW: straight, parallel, evenly spaced grid "
        "lines stay so, and the unit square becomes a parallelogram.",
    )


def figure_xor() -> str:
    """Output of the best affine fit and of the ReLU network over the square, with XOR points."""
    from examples.show import BLUE, RED, new_figure, svg

    fig, axes = new_figure(8.0, 3.4, 1, 2, sharey=True)
    g = np.linspace(-0.25, 1.25, 121)
    grid = np.stack(np.meshgrid(g, g), axis=-1)  # (121, 121, 2)
    w, b = xor_affine_fit()
    surfaces = (
        ("best affine map", llmath.linear(grid, w, b)[..., 0]),
        ("ReLU network", xor_relu(grid)[..., 0]),
    )
    for ax, (title, z) in zip(axes, surfaces, strict=True):
        im = ax.imshow(
            z,
            origin="lower",
            extent=(g[0], g[-1], g[0], g[-1]),
            vmin=-0.5,
            vmax=1.5,
            cmap="viridis",
        )
        if np.ptp(z) > 1e-9:  # the affine fit is flat: it has no level set at 1/2 to draw
            ax.contour(g, g, z, levels=[0.5], colors="white", linewidths=1.0)
        for target, colour in ((1.0, RED), (0.0, BLUE)):
            pts = XOR_X[XOR_Y == target]
            ax.scatter(
                pts[:, 0], pts[:, 1], s=90, c=colour, edgecolors="white", label=f"target {target:g}"
            )
        ax.set_title(title)
        ax.set_xlabel("x₁")
    axes[0].set_ylabel("x₂")
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.05, -0.18), ncol=2, frameon=False)
    fig.colorbar(im, ax=list(axes), shrink=0.85, label="output")
    return svg(
        fig,
        alt="XOR: the best affine map is 0.5 everywhere, "
        "while the ReLU network is 1 at (0,1) and (1,0) and 0 at (0,0) and (1,1)",
        caption="XOR: the best affine map (left) and the ReLU network (right); white lines are "
        "the network's level set at 1/2.",
    )
