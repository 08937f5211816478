"""Tests for llmath.linalg.linear and the linear-maps chapter's examples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.linear_algebra import linear_maps as ex
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.utils.flop_counter import FlopCounterMode

from llmath import ShapeError, compose_affine, linear, relu
from tests.oracles import t64

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
SIZES = st.integers(1, 5)


def _random_layers(rng: np.random.Generator, widths: tuple[int, ...]) -> list:
    return [
        (rng.standard_normal((n, m)), rng.standard_normal(m)) for n, m in itertools.pairwise(widths)
    ]


# ---- linear ---------------------------------------------------------------------------------


def test_linear_hand_values() -> None:
    w = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    np.testing.assert_array_equal(linear([1.0, 2.0], w, [0.5, 0.5, 0.5]), [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(linear([1.0, 2.0], w), [1.0, 2.0, 3.0])
    # Row i of W is the image of e_i.
    np.testing.assert_array_equal(linear(np.eye(2), w), w)


def test_linear_matches_torch(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 5, 4))  # (B, T, N)
    w = rng.standard_normal((4, 3))  # (N, M)
    b = rng.standard_normal(3)  # (M,)
    # torch stores the weight as (M, N): F.linear(x, w.T, b) = x w + b.
    expected = F.linear(t64(x), t64(w).T, t64(b))
    np.testing.assert_allclose(linear(x, w, b), expected, rtol=1e-12)
    np.testing.assert_allclose(linear(x, w), F.linear(t64(x), t64(w).T), rtol=1e-12)


def test_linear_matches_column_form(rng: np.random.Generator) -> None:
    x = rng.standard_normal((6, 4))
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    np.testing.assert_allclose(linear(x, w, b), (w.T @ x.T + b[:, None]).T, rtol=1e-14)


@given(
    st.tuples(SIZES, SIZES, SIZES).flatmap(
        lambda s: st.tuples(
            arrays(np.float64, (s[0], s[1]), elements=FLOATS),
            arrays(np.float64, (s[0], s[1]), elements=FLOATS),
            arrays(np.float64, (s[1], s[2]), elements=FLOATS),
        )
    ),
    st.floats(-5, 5),
)
def test_linear_without_bias_is_linear(
    xyw: tuple[np.ndarray, np.ndarray, np.ndarray], alpha: float
) -> None:
    x, y, w = xyw
    left = linear(alpha * x + y, w)
    right = alpha * linear(x, w) + linear(y, w)
    np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9)


@given(
    st.tuples(SIZES, SIZES, SIZES, SIZES).flatmap(
        lambda s: st.tuples(
            arrays(np.float64, (s[0], s[1]), elements=FLOATS),
            arrays(np.float64, (s[1], s[2]), elements=FLOATS),
            arrays(np.float64, (s[2], s[3]), elements=FLOATS),
        )
    )
)
def test_composition_is_the_matrix_product(xw: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, w1, w2 = xw
    np.testing.assert_allclose(linear(linear(x, w1), w2), linear(x, w1 @ w2), rtol=1e-9, atol=1e-8)


def test_linear_flops_and_params_match_torch_counters() -> None:
    t, n, m = 7, 5, 3
    layer = torch.nn.Linear(n, m)
    assert sum(p.numel() for p in layer.parameters()) == n * m + m
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(t, n))
    assert counter.get_total_flops() == 2 * t * n * m


def test_linear_bad_input() -> None:
    with pytest.raises(ShapeError, match="must share N"):
        linear(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ShapeError, match=r"w must have shape \(N, M\)"):
        linear(np.ones(3), np.ones(3))
    with pytest.raises(ShapeError, match=r"b must have shape \(M,\)"):
        linear(np.ones(3), np.ones((3, 2)), np.ones(3))
    with pytest.raises(ShapeError, match=r"x must have shape"):
        linear(1.0, np.ones((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        linear([np.nan, 1.0], np.ones((2, 2)))


# ---- relu -----------------------------------------------------------------------------------


def test_relu_hand_values_and_torch(rng: np.random.Generator) -> None:
    np.testing.assert_array_equal(relu([-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0])
    x = rng.standard_normal((3, 4, 5))
    np.testing.assert_array_equal(relu(x), torch.relu(t64(x)).numpy())


@given(arrays(np.float64, st.integers(1, 10), elements=FLOATS), st.floats(0, 10))
def test_relu_invariants(x: np.ndarray, c: float) -> None:
    r = relu(x)
    assert np.all(r >= 0)
    np.testing.assert_array_equal(r - relu(-x), x)  # relu(x) - relu(-x) = x
    np.testing.assert_array_equal(r + relu(-x), np.abs(x))  # relu(x) + relu(-x) = |x|
    np.testing.assert_allclose(relu(c * x), c * r)  # positively homogeneous


def test_relu_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        relu([np.inf])
    with pytest.raises(ValueError, match="real numbers"):
        relu(["a"])


# ---- compose_affine -------------------------------------------------------------------------


def test_compose_affine_hand_value() -> None:
    W, b = compose_affine([([[2.0]], [1.0]), ([[3.0]], [-1.0])])
    # (2x + 1) 3 - 1 = 6x + 2
    np.testing.assert_array_equal(W, [[6.0]])
    np.testing.assert_array_equal(b, [2.0])


def test_compose_affine_matches_torch_sequential(rng: np.random.Generator) -> None:
    layers = _random_layers(rng, (4, 8, 6, 3))
    model = torch.nn.Sequential(*(torch.nn.Linear(w.shape[0], w.shape[1]) for w, _ in layers))
    with torch.no_grad():
        for module, (w, b) in zip(model, layers, strict=True):
            module.weight.copy_(t64(w).T)
            module.bias.copy_(t64(b))
    x = rng.standard_normal((5, 4))
    W, b = compose_affine(layers)
    with torch.no_grad():
        expected = model(t64(x)).numpy()
    np.testing.assert_allclose(linear(x, W, b), expected, rtol=1e-12, atol=1e-13)


def test_compose_affine_single_layer_is_a_copy(rng: np.random.Generator) -> None:
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    W, bb = compose_affine([(w, b)])
    np.testing.assert_array_equal(W, w)
    np.testing.assert_array_equal(bb, b)
    W[0, 0] += 1.0
    bb[0] += 1.0
    assert W[0, 0] != w[0, 0] and bb[0] != b[0]  # the caller's arrays are untouched


@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=5).flatmap(
        lambda widths: st.tuples(
            st.tuples(
                *(
                    st.tuples(
                        arrays(np.float64, (n, m), elements=st.floats(-2, 2)),
                        arrays(np.float64, (m,), elements=st.floats(-2, 2)),
                    )
                    for n, m in itertools.pairwise(widths)
                )
            ),
            arrays(np.float64, (3, widths[0]), elements=st.floats(-2, 2)),
        )
    )
)
def test_compose_affine_equals_running_the_stack(case: tuple) -> None:
    layers, x = case
    h = x
    for w, b in layers:
        h = h @ w + b
    W, b = compose_affine(list(layers))
    assert W.shape == (x.shape[1], layers[-1][0].shape[1])
    np.testing.assert_allclose(linear(x, W, b), h, rtol=1e-9, atol=1e-9)


def test_compose_affine_bad_input() -> None:
    with pytest.raises(ValueError, match="layers must be a non-empty sequence"):
        compose_affine([])
    with pytest.raises(ShapeError, match="must have 3 rows"):
        compose_affine([(np.ones((2, 3)), np.ones(3)), (np.ones((4, 1)), np.ones(1))])
    with pytest.raises(ShapeError, match=r"b must have shape \(3,\)"):
        compose_affine([(np.ones((2, 3)), np.ones(2))])
    with pytest.raises(ShapeError, match=r"layers\[0\]\.w must have shape"):
        compose_affine([(np.ones(3), np.ones(3))])


# ---- the chapter's examples -----------------------------------------------------------------


def test_example_tables_have_page_keys() -> None:
    assert set(ex.tables()) == {
        "linear-maps/weight",
        "linear-maps/basis-images",
        "linear-maps/xor",
        "linear-maps/layer-cost",
    }


def test_example_basis_images_are_rows() -> None:
    t = ex.tables()
    np.testing.assert_array_equal(t["linear-maps/basis-images"], t["linear-maps/weight"])


def test_example_xor_against_closed_form_and_torch() -> None:
    t = ex.tables()["linear-maps/xor"]
    np.testing.assert_array_equal(t[:, 0], [0.0, 1.0, 1.0, 0.0])
    # Least squares: by symmetry w = 0 and b = mean(target) = 1/2.
    np.testing.assert_allclose(t[:, 1], 0.5, atol=1e-14)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(t64(ex.XOR_W1).T)
        net[0].bias.copy_(t64(ex.XOR_B1))
        net[2].weight.copy_(t64(ex.XOR_W2).T)
        net[2].bias.copy_(t64(ex.XOR_B2))
        expected = net(t64(ex.XOR_X))[:, 0].numpy()
    np.testing.assert_array_equal(t[:, 2], expected)
    x = ex.xor()
    assert x["affine_rms"] == pytest.approx(0.5, abs=1e-14)
    assert x["alternating_affine"] == pytest.approx(0.0, abs=1e-14)
    assert x["alternating_target"] == -2.0 and x["relu_max_err"] == 0.0


def test_example_layer_cost_matches_torch_counters() -> None:
    t = ex.layer_cost()
    for (_, n, m), row in zip(ex.GPT2_LAYERS, t, strict=True):
        layer = torch.nn.Linear(n, m)
        assert row[2] == sum(p.numel() for p in layer.parameters())
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            layer(torch.zeros(1, n))
        assert row[3] == counter.get_total_flops()
        assert row[4] == ex.GPT2_T * row[3]


def test_example_collapse_and_midpoints() -> None:
    c = ex.collapse()
    assert c["plain_vs_collapsed"] < 1e-12 and c["plain_midpoint"] < 1e-12
    assert c["relu_vs_collapsed"] > 0.1 and c["relu_midpoint"] > 0.1
    assert c["stack_params"] == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert c["collapsed_params"] == 4 * 3 + 3
    assert ex.composition()["max_abs_diff"] < 1e-12
    assert ex.column_form_gap() < 1e-14
    a = ex.affine_is_not_linear()
    np.testing.assert_allclose(a["f(0)"], a["b"])
    np.testing.assert_allclose(a["f(2x) - 2f(x)"], -a["b"], atol=1e-14)


def test_example_exercises() -> None:
    assert ex.bias_trick_gap() < 1e-14
    v = ex.abs_value()
    assert v["relu_max_err"] == 0.0
    # Least squares of |x| on a symmetric grid: slope 0, intercept = mean |x| = 101/201.
    assert v["affine_slope"] == pytest.approx(0.0, abs=1e-14)
    assert v["affine_intercept"] == pytest.approx(101 / 201, rel=1e-14)
    o = ex.order_cost()
    t, d, f = ex.GPT2_T, 768, 3072
    assert o["left_to_right"] == 4 * t * d * f
    assert o["product_first"] == 2 * d * f * d + 2 * t * d * d
    s = ex.square_area()
    w = ex.W_PLANE
    assert s["shoelace"] == pytest.approx(abs(w[0, 0] * w[1, 1] - w[0, 1] * w[1, 0]), rel=1e-14)
