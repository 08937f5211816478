"""Tests for llmath.calculus.autodiff (the scalar Value engine) and the autodiff chapter's examples."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from examples.calculus import autodiff as ex
from hypothesis import given
from hypothesis import strategies as st

from llmath.calculus.autodiff import OpCount, Value, count_ops, topological_order

FLOATS = st.floats(-5, 5, allow_nan=False, allow_infinity=False)

# Each step of a random program: (name, arity, f). The same f runs on Values and on torch
# tensors, because both spell the operations the same way. Domains are kept valid by
# construction: log and ** act on something positive, division by something >= 1.
STEPS: list[tuple[str, int, Callable[..., Any]]] = [
    ("add", 2, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / (b * b + 1.0)),
    ("rdiv", 1, lambda a: 2.0 / (a * a + 1.0)),
    ("radd", 1, lambda a: 2.5 + a),
    ("rsub", 1, lambda a: 1.5 - a),
    ("rmul", 1, lambda a: -0.7 * a),
    ("neg", 1, lambda a: -a),
    ("pow-int", 1, lambda a: a**3),
    ("pow-frac", 1, lambda a: (a * a + 0.5) ** -1.5),
    ("exp", 1, lambda a: a.tanh().exp()),
    ("log", 1, lambda a: (a * a + 1.0).log()),
    ("tanh", 1, lambda a: a.tanh()),
    ("sigmoid", 1, lambda a: a.sigmoid()),
    ("relu", 1, lambda a: a.relu()),
]


def random_program(
    rng: np.random.Generator, n_leaves: int, n_steps: int
) -> list[tuple[int, list[int]]]:
    """A list of (step index, argument node indices); node i < n_leaves is a leaf."""
    program = []
    for k in range(n_steps):
        step = int(rng.integers(len(STEPS)))
        args = [int(a) for a in rng.integers(0, n_leaves + k, size=STEPS[step][1])]
        program.append((step, args))
    return program


def run(program: list[tuple[int, list[int]]], leaves: list[Any]) -> Any:
    """Run the program on Values or on torch tensors; the output is the sum of the last 4 nodes."""
    nodes = list(leaves)
    for step, args in program:
        nodes.append(STEPS[step][2](*(nodes[a] for a in args)))
    out = nodes[-4]
    for v in nodes[-3:]:
        out = out + v
    return out


def _program_and_data(seed: int) -> tuple[list[tuple[int, list[int]]], np.ndarray]:
    rng = np.random.default_rng(seed)
    n_leaves = 4
    return random_program(rng, n_leaves, 40), rng.uniform(-2, 2, n_leaves)


# ---- hand values ----------------------------------------------------------------------------


def test_hand_values_and_repr() -> None:
    x, y = Value(3.0, label="x"), Value(-2.0)
    z = x * y + x
    z.backward()
    assert z.data == -3.0
    assert (x.grad, y.grad) == (-1.0, 3.0)  # d/dx (xy + x) = y + 1, d/dy = x
    assert repr(x) == "Value(data=3.0, grad=-1.0, label='x')"
    assert repr(z) == "Value(data=-3.0, grad=1.0, op='+')"
    assert (Value(6.0) / 4).data == 1.5
    assert (Value(2.0) ** 3).data == 8.0
    assert (1 - Value(0.25)).data == 0.75
    assert (3 / Value(2.0)).data == 1.5
    assert Value(0.0).sigmoid().data == 0.5
    assert Value(-800.0).sigmoid().data == 0.0  # the stable form does not overflow
    assert Value(800.0).sigmoid().data == 1.0
    assert Value(np.float32(1.5)).data == 1.5


def test_neuron_worked_example_by_hand() -> None:
    v = ex.neuron()
    o = math.tanh(2.0 * 0.3 + (-1.0) * (-0.5) - 0.2)
    assert v["o"].data == pytest.approx(o, rel=1e-15)
    dn = 1.0 - o * o
    assert v["w1"].grad == pytest.approx(2.0 * dn, rel=1e-15)
    assert v["x2"].grad == pytest.approx(-0.5 * dn, rel=1e-15)
    assert v["b"].grad == pytest.approx(dn, rel=1e-15)


# ---- torch.autograd and finite differences on random programs -------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_random_programs_match_torch(seed: int) -> None:
    program, data = _program_and_data(seed)
    leaves = [Value(float(d)) for d in data]
    out = run(program, leaves)
    out.backward()
    tleaves = [torch.tensor(float(d), dtype=torch.float64, requires_grad=True) for d in data]
    tout = run(program, tleaves)
    tout.backward()
    np.testing.assert_allclose(out.data, tout.item(), rtol=1e-12)
    ours = np.array([v.grad for v in leaves])
    ref = np.array([t.grad.item() if t.grad is not None else 0.0 for t in tleaves])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-13 * max(1.0, np.abs(ref).max()))


def test_every_step_is_exercised_by_the_random_programs() -> None:
    used = {STEPS[s][0] for seed in range(8) for s, _ in _program_and_data(seed)[0]}
    assert used == {name for name, _, _ in STEPS}


@pytest.mark.parametrize("seed", range(4))
def test_random_programs_match_central_differences(seed: int) -> None:
    program, data = _program_and_data(seed)
    leaves = [Value(float(d)) for d in data]
    run(program, leaves).backward()
    h = 1e-6
    for i in range(len(data)):
        up, down = data.copy(), data.copy()
        up[i] += h
        down[i] -= h
        fd = (
            run(program, [Value(float(d)) for d in up]).data
            - run(program, [Value(float(d)) for d in down]).data
        ) / (2 * h)
        assert leaves[i].grad == pytest.approx(fd, rel=1e-6, abs=1e-7)


# ---- accumulation, repeated backward, deep graphs -------------------------------------------


def test_reused_nodes_accumulate() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    x.grad = 0.0
    (x * x * x).backward()
    assert x.grad == 27.0
    # x reaches the output along three paths: through a, through b, and directly.
    x.grad = 0.0
    a, b = x.tanh(), x.exp()
    (a * b + x).backward()
    t = math.tanh(3.0)
    assert x.grad == pytest.approx((1 - t * t) * math.exp(3.0) + t * math.exp(3.0) + 1.0, rel=1e-14)


def test_backward_twice_matches_torch() -> None:
    twice = ex.backward_twice()
    t = {k: torch.tensor(d, requires_grad=True) for k, d in ex.NEURON.items()}
    n = t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]
    n.retain_grad()
    o = torch.tanh(n)
    o.backward(retain_graph=True)
    first = [t["w1"].grad.item(), t["w2"].grad.item(), t["b"].grad.item(), n.grad.item()]
    n.grad = None  # torch also recomputes interior gradients on each call
    o.backward()
    second = [t["w1"].grad.item(), t["w2"].grad.item(), t["b"].grad.item(), n.grad.item()]
    np.testing.assert_allclose(twice[:2], [first, second], rtol=1e-14)
    # Without the reset, a node k steps below the output gets (k + 1) times its gradient, and a
    # leaf one step further down adds its own stale copy: n 2x, b 3x, w1 and w2 5x.
    np.testing.assert_allclose(twice[2] / twice[0], [5.0, 5.0, 3.0, 2.0], rtol=1e-14)


def test_deep_chain_does_not_hit_the_recursion_limit() -> None:
    depth = max(5000, sys.getrecursionlimit() + 100)
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y + x  # y = (depth + 1) x
    y.backward()
    assert x.grad == depth + 1
    assert count_ops(y) == OpCount(leaves=1, ops=depth, edges=2 * depth)
    z = x
    for _ in range(depth):
        z = z.tanh()
    assert len(topological_order(z)) == depth + 1


# ---- closed forms (hypothesis) --------------------------------------------------------------

CLOSED_FORMS: list[tuple[Callable[[Value], Value], Callable[[float], float]]] = [
    (lambda v: v.tanh().exp(), lambda x: math.exp(math.tanh(x)) * (1 - math.tanh(x) ** 2)),
    (lambda v: (1 + v * v).log(), lambda x: 2 * x / (1 + x * x)),
    (lambda v: v * v.sigmoid(), lambda x: (s := 1 / (1 + math.exp(-x))) + x * s * (1 - s)),
    (lambda v: (v * v + 1) ** 1.5, lambda x: 1.5 * math.sqrt(x * x + 1) * 2 * x),
    (lambda v: 1 / (1 + (-v).exp()), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    (lambda v: (v - 2) / (v * v + 1), lambda x: ((x * x + 1) - (x - 2) * 2 * x) / (x * x + 1) ** 2),
    (lambda v: v.relu() * 3 - (-v).relu(), lambda x: 3.0 if x > 0 else 1.0),
]


@given(FLOATS.filter(lambda x: x != 0.0), st.integers(0, len(CLOSED_FORMS) - 1))
def test_derivatives_of_composed_ops_match_closed_forms(x: float, which: int) -> None:
    f, df = CLOSED_FORMS[which]
    v = Value(x)
    f(v).backward()
    assert v.grad == pytest.approx(df(x), rel=1e-12, abs=1e-14)


@given(FLOATS)
def test_sigmoid_and_relu_identities(x: float) -> None:
    assert (Value(x).sigmoid() + Value(-x).sigmoid()).data == pytest.approx(1.0, rel=1e-15)
    assert (Value(x).relu() - Value(-x).relu()).data == x
    assert Value(x).sigmoid().data == pytest.approx(
        torch.sigmoid(torch.tensor(x)).item(), rel=1e-14
    )


# ---- graph helpers --------------------------------------------------------------------------


def test_topological_order_and_count_ops() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    a = x * y
    out = a + a.tanh()
    order = topological_order(out)
    assert [v.label or v.op for v in order] == ["x", "y", "*", "tanh", "+"]
    assert count_ops(out) == OpCount(leaves=2, ops=3, edges=5)
    assert count_ops(a, out) == count_ops(out)  # shared nodes counted once
    assert count_ops(Value(1.0)) == OpCount(1, 0, 0)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_input() -> None:
    x = Value(2.0)
    with pytest.raises(ValueError, match="data must be a real number"):
        Value("a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="data must be a real number"):
        Value(True)
    with pytest.raises(ValueError, match="data must be a real number"):
        Value(x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="data must be a finite number; got an integer too large"):
        Value(10**400)
    with pytest.raises(ValueError, match="label must be a string"):
        Value(1.0, label=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Value(math.nan)
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"  # type: ignore[operator]
    with pytest.raises(TypeError, match="unsupported operand"):
        x * None  # type: ignore[operator]
    with pytest.raises(TypeError, match="constant int or float"):
        x ** Value(2.0)
    with pytest.raises(TypeError, match="unsupported operand"):
        2.0**x  # type: ignore[operator]
    with pytest.raises(ValueError, match="positive"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="integer exponent"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        x / 0
    with pytest.raises(ValueError, match="overflows"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match="not finite"):
        Value(1e200) * 1e200
    with pytest.raises(ValueError, match="infinite at x = 0"):
        (Value(0.0) ** 0.5).backward()
    with pytest.raises(ValueError, match="root must be a Value"):
        topological_order(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"roots\[1\] must be a Value"):
        count_ops(x, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        count_ops()


# ---- the chapter's examples, against independent computations -------------------------------


def test_example_tables_against_torch_and_closed_forms() -> None:
    tables = ex.tables()
    # Neuron: every value and gradient against torch.autograd.
    assert ex.neuron_torch_gap() < 1e-15
    # VJP: row 1 (engine) against torch.autograd of sum(tanh(x W)).
    xt = torch.tensor(ex.VJP_X, requires_grad=True)
    torch.tanh(xt @ torch.tensor(ex.VJP_W)).sum().backward()
    np.testing.assert_allclose(tables["autodiff/vjp"], np.vstack([xt.grad.numpy()] * 2), rtol=1e-13)
    # Cost table: log-sum-exp has F = 2n ops and E = 3n - 1 edges.
    n = np.array(ex.COST_NS, dtype=float)
    f, e = 2 * n, 3 * n - 1
    expected = np.stack([n, f, e, e / f, f + e, f + n * e, 2 * n * f], axis=1)
    np.testing.assert_array_equal(ex.cost_table(), expected)
    np.testing.assert_array_equal(tables["autodiff/cost"], expected[:, [0, 1, 2, 4, 5, 6]])
    # Forward-mode exercise: engine derivatives against torch.autograd, one output at a time.
    table = ex.forward_mode_wins()["table"]
    np.testing.assert_array_equal(tables["autodiff/forward-wins"], table[:, 1:])
    for k, grad, closed in table:
        t = torch.tensor(ex.TRUNK_T, requires_grad=True)
        h = t
        for _ in range(ex.TRUNK):
            h = torch.tanh(h)
        torch.tanh(k * h).backward()
        assert grad == pytest.approx(t.grad.item(), rel=1e-12)
        assert closed == pytest.approx(t.grad.item(), rel=1e-12)
    assert ex.lse_softmax_gap() < 1e-15


def test_linear_layer_cost_against_torch_flop_counter() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    t, n, m = ex.LAYER
    lc = ex.linear_layer_cost()
    x = torch.zeros(t, n, requires_grad=True)
    w = torch.zeros(n, m, requires_grad=True)
    with FlopCounterMode(display=False) as fwd:
        y = x @ w
    with FlopCounterMode(display=False) as bwd:
        y.backward(torch.ones_like(y))
    np.testing.assert_array_equal(lc[1], [fwd.get_total_flops(), bwd.get_total_flops(), 2.0])
    # The engine: T N M products and T M N additions (N - 1 in each sum, one bias), all binary.
    np.testing.assert_array_equal(lc[0], [2 * t * n * m, 4 * t * n * m, 2.0])


def test_chain_memory_counts_every_node() -> None:
    m = ex.chain_memory()
    assert m["nodes"] == ex.CHAIN_DEPTH + 1
    assert m["graph_bytes"] > 100 * m["float_bytes"]
    h, d = 0.5, 1.0
    for _ in range(ex.CHAIN_DEPTH):
        h = math.tanh(h)
        d *= 1 - h * h
    assert m["grad"] == pytest.approx(d, rel=1e-10)


def test_overflow_is_a_value_error_in_values_and_in_gradients() -> None:
    with pytest.raises(ValueError, match=r"\*\*2"):
        Value(1e200) ** 2  # Python raises OverflowError for float ** float
    with pytest.raises(ValueError, match="integer too large for float64"):
        Value(1.0) + 10**400
    x = Value(1e-200)
    y = x**-1.5  # 1e300, finite; its derivative -1.5 x^-2.5 = 1.5e500 is not
    with pytest.raises(ValueError, match="gradient overflows float64"):
        y.backward()
    c = Value(1e200)
    d = (c * 1e-100).tanh() * 1e300  # tanh saturates; the chain 1e300 * 0 * 1e-100 is finite
    d.backward()
    assert math.isfinite(c.grad)
