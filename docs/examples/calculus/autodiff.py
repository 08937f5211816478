"""Worked examples for the autodiff chapter: inputs chosen here, results computed by llmath."""

from __future__ import annotations

import math
import sys
from functools import cache

import numpy as np
from numpy.typing import NDArray

import llmath
from llmath.calculus.autodiff import Value, count_ops, topological_order

# The worked example: one neuron o = tanh(x1 w1 + x2 w2 + b).
NEURON = {"x1": 2.0, "w1": 0.3, "x2": -1.0, "w2": -0.5, "b": -0.2}
NEURON_ROWS = ("x1", "w1", "x1·w1", "x2", "w2", "x2·w2", "s", "b", "n", "o")

CHAIN_X = 0.7  # h(x) = tanh(x^2) for the scalar chain rule
VJP_X = np.array([[0.5, -1.0, 2.0]])  # (1, N): one row
VJP_W = np.array([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]])  # (N, M)
COST_NS = (1, 4, 16, 64, 256)  # input sizes for the cost table
PLOT_NS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LAYER = (4, 8, 4)  # T, N, M of the linear layer whose cost is counted
CHAIN_DEPTH = 5000  # deep chain for the memory measurement
TRUNK, OUTPUTS, TRUNK_T = 20, 6, 1.0  # exercise: a shared trunk with many outputs


def _sum(terms: list[Value]) -> Value:
    """Add Values left to right without an extra constant leaf (sum() would start at 0)."""
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def neuron() -> dict[str, Value]:
    """Build o = tanh(x1 w1 + x2 w2 + b), run backward, and return every node by name."""
    v = {k: Value(d, label=k) for k, d in NEURON.items()}
    v["x1·w1"] = v["x1"] * v["w1"]
    v["x2·w2"] = v["x2"] * v["w2"]
    v["s"] = v["x1·w1"] + v["x2·w2"]
    v["n"] = v["s"] + v["b"]
    v["o"] = v["n"].tanh()
    for name, node in v.items():
        node.label = name
    v["o"].backward()
    return v


def neuron_table() -> NDArray[np.float64]:
    """Rows NEURON_ROWS (topological order), columns: data, grad = d o / d node."""
    v = neuron()
    return np.array([[v[k].data, v[k].grad] for k in NEURON_ROWS])


def neuron_torch_gap() -> float:
    """max |engine - torch.autograd| over the values and gradients of every node."""
    import torch

    t = {k: torch.tensor(d, dtype=torch.float64, requires_grad=True) for k, d in NEURON.items()}
    t["x1·w1"] = t["x1"] * t["w1"]
    t["x2·w2"] = t["x2"] * t["w2"]
    t["s"] = t["x1·w1"] + t["x2·w2"]
    t["n"] = t["s"] + t["b"]
    t["o"] = torch.tanh(t["n"])
    for name in NEURON_ROWS:
        if name not in NEURON:
            t[name].retain_grad()
    t["o"].backward()
    ref = np.array([[t[k].item(), t[k].grad.item()] for k in NEURON_ROWS])
    return float(np.max(np.abs(neuron_table() - ref)))


def scalar_chain() -> dict[str, float]:
    """h(x) = tanh(x^2): the engine's dh/dx and the chain rule by hand, (1 - tanh^2(x^2)) 2x."""
    x = Value(CHAIN_X)
    h = (x * x).tanh()
    h.backward()
    by_hand = (1.0 - math.tanh(CHAIN_X**2) ** 2) * 2.0 * CHAIN_X
    return {"h": h.data, "engine": x.grad, "by_hand": by_hand}


def vjp() -> NDArray[np.float64]:
    """loss = sum(tanh(x W)): row 1 the engine's dloss/dx, row 2 the product (1,..,1) J_z/y J_y/x."""
    x = [Value(float(v)) for v in VJP_X[0]]
    n, m = VJP_W.shape
    y = [_sum([x[i] * float(VJP_W[i, j]) for i in range(n)]) for j in range(m)]
    loss = _sum([yj.tanh() for yj in y])
    loss.backward()
    z = np.tanh(llmath.linear(VJP_X, VJP_W))  # (1, M)
    jacobian_z_y = np.diag(1.0 - z[0] ** 2)  # (M, M)
    jacobian_y_x = VJP_W.T  # (M, N): row convention, y = x W
    product = np.ones((1, m)) @ jacobian_z_y @ jacobian_y_x  # (1, N)
    return np.vstack([[v.grad for v in x], product])


def logsumexp(x: list[Value]) -> Value:
    """log(sum_i exp(x_i)) built from Values: f: R^n -> R, whose gradient is softmax(x)."""
    return _sum([v.exp() for v in x]).log()


def lse_inputs(n: int) -> NDArray[np.float64]:
    return np.sin(np.arange(1, n + 1))  # fixed, spread over [-1, 1]


@cache
def cost(n: int) -> tuple[int, int]:
    """(forward ops F, backward multiply-adds E) of logsumexp on n inputs, counted in its graph."""
    c = count_ops(logsumexp([Value(float(v)) for v in lse_inputs(n)]))
    return c.ops, c.edges


def cost_table(ns: tuple[int, ...] = COST_NS) -> NDArray[np.float64]:
    """Columns: n, F, E, E/F, reverse F + E, forward mode F + n E, central differences 2 n F."""
    rows = []
    for n in ns:
        f, e = cost(n)
        rows.append([n, f, e, e / f, f + e, f + n * e, 2 * n * f])
    return np.array(rows, dtype=np.float64)


def lse_softmax_gap(n: int = 16) -> float:
    """max |engine gradient of logsumexp - llmath.softmax(x)|: the gradient is the softmax."""
    x = [Value(float(v)) for v in lse_inputs(n)]
    logsumexp(x).backward()
    return float(np.max(np.abs(np.array([v.grad for v in x]) - llmath.softmax(lse_inputs(n)))))


@cache
def linear_layer_cost() -> NDArray[np.float64]:
    """Y = X W + b with T, N, M = LAYER. Row 1: the engine's ops and multiply-adds, counted in its
    graph. Row 2: FLOPs of the matrix products, forward X W and backward dY W^T and X^T dY."""
    t, n, m = LAYER
    rng = np.random.default_rng(0)
    X = [[Value(float(v)) for v in row] for row in rng.standard_normal((t, n))]
    W = [[Value(float(v)) for v in row] for row in rng.standard_normal((n, m))]
    b = [Value(float(v)) for v in rng.standard_normal(m)]
    Y = [_sum([X[r][i] * W[i][j] for i in range(n)]) + b[j] for r in range(t) for j in range(m)]
    c = count_ops(*Y)
    forward, backward = (
        2 * t * n * m,
        2 * t * m * n + 2 * n * t * m,
    )  # (T,N)(N,M); (T,M)(M,N) + (N,T)(T,M)
    return np.array(
        [[c.ops, c.edges, c.edges / c.ops], [forward, backward, backward / forward]],
        dtype=np.float64,
    )


@cache
def chain_memory(depth: int = CHAIN_DEPTH) -> dict[str, float]:
    """Bytes held to evaluate tanh^depth(x): the graph kept for backward() against plain floats.

    Counted with `sys.getsizeof` (each node, its value, its parents tuple and the closure that
    gives its local derivatives), which
    is deterministic; a peak measured with `tracemalloc` also counts the interpreter's own
    allocations and changes from run to run.
    """
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y.tanh()
    nodes = topological_order(y)
    graph = sum(
        sys.getsizeof(n)
        + sys.getsizeof(n.data)
        + sys.getsizeof(n.parents)
        + sys.getsizeof(n._local)
        for n in nodes
    )
    y.backward()
    floats = 2 * sys.getsizeof(0.5)  # the current value and the one being computed from it
    return {
        "graph_bytes": float(graph),
        "float_bytes": float(floats),
        "per_node": graph / len(nodes),
        "grad": x.grad,
        "nodes": float(len(nodes)),
    }


# ---- exercises ------------------------------------------------------------------------------


def reuse() -> dict[str, float]:
    """x * x and x * x * x at x = 3: the engine's gradients, and the edges into x."""
    x = Value(3.0)
    sq = x * x
    sq.backward()
    g2 = x.grad
    x.grad = 0.0
    cube = x * x * x
    cube.backward()
    return {
        "x": x.data,
        "square_grad": g2,
        "cube_grad": x.grad,
        "square_edges": count_ops(sq).edges,
    }


def _sweep_without_reset(root: Value) -> None:
    """A reverse sweep that forgets to zero interior gradients first (a deliberate bug)."""
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node._local(), strict=True):
            parent.grad += local * node.grad


def backward_twice() -> NDArray[np.float64]:
    """Gradients of w1, w2, b, n: after one o.backward(), after two, and after two sweeps that
    do not reset the interior gradients."""
    names = ("w1", "w2", "b", "n")
    v = neuron()
    once = [v[k].grad for k in names]
    v["o"].backward()
    twice = [v[k].grad for k in names]
    v = neuron()
    for node in topological_order(v["o"]):
        node.grad = 0.0
    _sweep_without_reset(v["o"])
    _sweep_without_reset(v["o"])
    buggy = [v[k].grad for k in names]
    return np.array([once, twice, buggy])


def trunk_outputs() -> tuple[Value, list[Value]]:
    """t -> h = tanh applied TRUNK times -> y_k = tanh(k h) for k = 1..OUTPUTS (f: R -> R^m)."""
    t = Value(TRUNK_T, label="t")
    h = t
    for _ in range(TRUNK):
        h = h.tanh()
    return t, [(k * h).tanh() for k in range(1, OUTPUTS + 1)]


def forward_mode_wins() -> dict[str, object]:
    """Reverse mode needs one sweep per output; count its work against one forward-mode sweep."""
    t, ys = trunk_outputs()
    grads = []
    for y in ys:
        t.grad = 0.0
        y.backward()
        grads.append(t.grad)
    # Closed form: dh/dt = prod (1 - h_i^2) along the trunk, dy_k/dt = k (1 - tanh^2(k h)) dh/dt.
    h, dh = TRUNK_T, 1.0
    for _ in range(TRUNK):
        h = math.tanh(h)
        dh *= 1.0 - h * h
    closed = [k * (1.0 - math.tanh(k * h) ** 2) * dh for k in range(1, OUTPUTS + 1)]
    reverse = sum(count_ops(y).edges for y in ys)  # one backward sweep per output
    forward = count_ops(*ys).edges  # one tangent sweep: each edge once
    table = np.array(
        [[k, g, c] for k, g, c in zip(range(1, OUTPUTS + 1), grads, closed, strict=True)]
    )
    return {"table": table, "reverse": reverse, "forward": forward}


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the autodiff page, keyed as on the page."""
    return {
        "autodiff/neuron": neuron_table(),
        "autodiff/vjp": vjp(),
        "autodiff/cost": cost_table()[:, [0, 1, 2, 4, 5, 6]],
        "autodiff/linear-cost": linear_layer_cost(),
        "autodiff/backward-twice": backward_twice(),
        "autodiff/forward-wins": forward_mode_wins()["table"][:, 1:],  # type: ignore[index]
    }


# ---- figures --------------------------------------------------------------------------------


def graph_layout(root: Value) -> dict[int, tuple[float, float]]:
    """(column, row) for every node: column = longest path from a leaf, leaves just left of their
    first child; leaves stacked in topological order, operations at the mean row of their parents."""
    order = topological_order(root)
    col: dict[int, float] = {}
    for v in order:
        col[id(v)] = 1.0 + max(col[id(p)] for p in v.parents) if v.parents else 0.0
    placed: set[int] = set()
    for v in order:  # pull each leaf next to its first child in topological order
        for p in v.parents:
            if not p.parents and id(p) not in placed:
                col[id(p)] = col[id(v)] - 1
                placed.add(id(p))
    row: dict[int, float] = {}
    leaves = 0
    for v in order:
        if v.parents:
            row[id(v)] = float(np.mean([row[id(p)] for p in v.parents]))
        else:
            row[id(v)] = float(leaves)
            leaves += 1
    return {k: (col[k], -row[k]) for k in col}


def figure_graph() -> str:
    """The neuron's computational graph, every node with its value and gradient."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    v = neuron()
    root = v["o"]
    pos = graph_layout(root)
    fig, ax = new_figure(7.4, 3.8)
    for node in topological_order(root):
        x, y = pos[id(node)]
        for p in node.parents:
            px, py = pos[id(p)]
            ax.annotate(
                "",
                xy=(x - 0.36, y),
                xytext=(px + 0.36, py),
                arrowprops={"arrowstyle": "->", "color": "#888888", "lw": 1.0},
            )
        colour = ORANGE if node.parents else BLUE
        title = f"{node.label} = {node.op}" if node.op else node.label
        ax.text(
            x,
            y,
            f"{title}\ndata {node.data:.4f}\ngrad {node.grad:.4f}",
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.35", "fc": "none", "ec": colour, "lw": 1.5},
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    return svg(
        fig,
        alt="Computational graph of tanh(x1 w1 + x2 w2 + b): leaves on the left, operations to "
        "the right, each node labelled with its value and its gradient",
        caption="The graph of one neuron, with each node's value and gradient",
    )


def figure_cost() -> str:
    """Work to get the whole gradient of logsumexp on n inputs, by method, from the op counts."""
    from examples.show import BLUE, GREEN, RED, new_figure, svg

    c = cost_table(PLOT_NS)
    fig, ax = new_figure(6.5, 3.6)
    ax.loglog(c[:, 0], c[:, 4], "o-", color=BLUE, label="reverse mode: forward + 1 backward sweep")
    ax.loglog(c[:, 0], c[:, 5], "s-", color=GREEN, label="forward mode: n tangent sweeps")
    ax.loglog(c[:, 0], c[:, 6], "^-", color=RED, label="central differences: 2n evaluations")
    ax.loglog(c[:, 0], c[:, 1], ":", color="#888888", label="one forward evaluation")
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel("scalar operations")
    ax.legend(frameon=False, fontsize=8)
    return svg(
        fig,
        alt="Log-log plot: reverse mode's cost grows like n, a small multiple of one evaluation; "
        "forward mode and finite differences grow like n squared",
        caption="Work for the whole gradient of log-sum-exp, by method",
    )
