"""cross_entropy and cross_entropy_grad against torch, finite differences and invariants;
and the chapter's worked examples against torch."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.calculus import softmax_cross_entropy as ex
from hypothesis import given

from llmath import ShapeError
from llmath.calculus.cross_entropy import cross_entropy, cross_entropy_grad
from llmath.calculus.numerical import numerical_grad


@st.composite
def batches(draw: st.DrawFn, bound: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits (..., V) with 0-2 leading axes and matching integer targets (...)."""
    lead = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    V = draw(st.integers(1, 6))
    z = draw(hnp.arrays(np.float64, (*lead, V), elements=st.floats(-bound, bound)))
    y = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, V - 1)))
    return z, y


def _torch_loss(z: np.ndarray, y: np.ndarray, reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Loss and d(loss)/d(logits) from F.cross_entropy and autograd, in float64."""
    tz = torch.from_numpy(z).requires_grad_(True)
    V = z.shape[-1]
    loss = F.cross_entropy(
        tz.reshape(-1, V), torch.from_numpy(np.asarray(y)).reshape(-1), reduction=reduction
    )
    loss.backward()
    return loss.item(), tz.grad.numpy()


def test_hand_values() -> None:
    # equal logits: every token's loss is log V, the gradient (1/V - e_y)/n
    z = np.zeros((2, 4))
    assert cross_entropy(z, [1, 3]) == pytest.approx(np.log(4), rel=1e-15)
    expected = (np.full((2, 4), 0.25) - np.eye(4)[[1, 3]]) / 2
    np.testing.assert_allclose(cross_entropy_grad(z, [1, 3]), expected, rtol=1e-15)
    # two logits (0, a), target 0: loss log(1 + e^a), closed form
    assert cross_entropy([0.0, 2.0], 0) == pytest.approx(np.log1p(np.exp(2.0)), rel=1e-15)


@given(batches())
def test_matches_torch(batch: tuple[np.ndarray, np.ndarray]) -> None:
    z, y = batch
    loss, grad = _torch_loss(z, y)
    assert cross_entropy(z, y) == pytest.approx(loss, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(cross_entropy_grad(z, y), grad, rtol=1e-10, atol=1e-15)


@given(batches())
def test_mean_gradient_is_sum_gradient_over_n(batch: tuple[np.ndarray, np.ndarray]) -> None:
    z, y = batch
    _, grad_sum = _torch_loss(z, y, reduction="sum")  # per-token softmax - one_hot
    n = max(y.size, 1)
    np.testing.assert_allclose(cross_entropy_grad(z, y) * n, grad_sum, rtol=1e-10, atol=1e-14)


def test_finite_differences(rng: np.random.Generator) -> None:
    z = rng.normal(size=(2, 3, 5))
    y = rng.integers(0, 5, size=(2, 3))
    numeric = numerical_grad(lambda x: cross_entropy(x, y), z)
    np.testing.assert_allclose(cross_entropy_grad(z, y), numeric, rtol=1e-6, atol=1e-10)


@given(batches(), st.floats(-100, 100))
def test_invariants(batch: tuple[np.ndarray, np.ndarray], c: float) -> None:
    z, y = batch
    loss, grad = cross_entropy(z, y), cross_entropy_grad(z, y)
    assert loss >= 0
    assert grad.shape == z.shape
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-14)  # each row sums to zero
    # the target entry is the only negative one: s_y - 1 <= 0 <= s_j
    target = np.take_along_axis(grad, y[..., None], axis=-1)
    assert np.all(target <= 0)
    assert np.all(np.sum(grad < 0, axis=-1) <= 1)
    # adding a constant to a row of logits changes neither the loss nor the gradient
    assert cross_entropy(z + c, y) == pytest.approx(loss, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(cross_entropy_grad(z + c, y), grad, rtol=1e-9, atol=1e-12)


@given(batches(bound=1e6))
def test_extreme_logits_stay_finite(batch: tuple[np.ndarray, np.ndarray]) -> None:
    z, y = batch
    assert np.isfinite(cross_entropy(z, y))
    assert np.all(np.isfinite(cross_entropy_grad(z, y)))


def test_large_logits_closed_form() -> None:
    # (1000, 1001) behaves like (0, 1): loss log(1 + e^{-1}) for target 1, where exp(1000) overflows
    assert cross_entropy([1000.0, 1001.0], 1) == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-15)
    assert cross_entropy([0.0, 800.0], 0) == 800.0
    e = np.e
    np.testing.assert_allclose(
        cross_entropy_grad([1000.0, 1001.0], 1), [1 / (1 + e), e / (1 + e) - 1], rtol=1e-14
    )


def test_perfect_prediction_is_zero_not_negative_zero() -> None:
    loss = cross_entropy([0.0, -1000.0], 0)
    assert loss == 0.0 and np.copysign(1.0, loss) == 1.0


@pytest.mark.parametrize(
    ("logits", "targets", "error", "match"),
    [
        ([[0.0, 1.0]], [2], ValueError, r"targets must lie in \[0, nV\) = \[0, 2\)"),
        ([[0.0, 1.0]], [-1], ValueError, r"targets must lie in \[0, nV\)"),
        (
            [[0.0, 1.0]],
            [1.0],
            ValueError,
            "targets must be integers of shape .*; got dtype float64",
        ),
        ([[0.0, 1.0]], [True], ValueError, "targets must be integers .*; got booleans"),
        ([[0.0, 1.0], [1.0, 0.0]], [0], ShapeError, r"targets must have shape \(\.\.\.\) = \(2,\)"),
        ([[0.0, 1.0]], 0, ShapeError, r"leading axes of logits"),
        ([[0.0, np.nan]], [0], ValueError, "logits must be finite"),
        (2.0, 0, ShapeError, r"logits must have shape \(\.\.\., nV\)"),
        (np.zeros((2, 0)), [0, 0], ShapeError, "logits must not be empty"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), ShapeError, "logits must not be empty"),
    ],
)
def test_bad_input(logits: object, targets: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        cross_entropy(logits, targets)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        cross_entropy_grad(logits, targets)  # type: ignore[arg-type]


def test_inputs_not_mutated() -> None:
    z = np.array([[1.0, 2.0, 3.0]])
    y = np.array([2])
    cross_entropy(z, y)
    cross_entropy_grad(z, y)
    np.testing.assert_array_equal(z, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(y, [2])


# --- the chapter's examples, recomputed by torch from the inputs alone ------------------------


def test_example_tables_against_torch() -> None:
    t = ex.tables()
    z = torch.tensor(ex.Z)
    s = torch.softmax(z, -1)
    J = torch.autograd.functional.jacobian(
        lambda r: torch.softmax(r, -1), z
    ).T  # (i, j) = ds_j/dz_i
    np.testing.assert_allclose(t["softmax-ce/z-s"], np.stack([ex.Z, s.numpy()]), rtol=1e-14)
    np.testing.assert_allclose(t["softmax-ce/jacobian"], J.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t["softmax-ce/from-vjps"], J.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        t["softmax-ce/eigenvalues"], torch.linalg.eigvalsh(J).numpy(), atol=1e-14
    )
    np.testing.assert_allclose(t["softmax-ce/diag-only"], torch.diag(s * (1 - s)).numpy())
    # the three rows of the VJP table: g J (twice, two methods) and the diagonal-only product
    tz = z.clone().requires_grad_(True)
    torch.softmax(tz, -1).backward(torch.tensor(ex.G))
    g_true = tz.grad.numpy()
    g_wrong = ex.G * (s * (1 - s)).numpy()
    expected = np.array([[*g, g.sum()] for g in (g_true, g_true, g_wrong)])
    np.testing.assert_allclose(t["softmax-ce/vjp-compare"], expected, rtol=1e-10, atol=1e-15)
    # the three-token cross-entropy example
    np.testing.assert_array_equal(t["softmax-ce/logits"], ex.LOGITS)
    loss, grad = _torch_loss(ex.LOGITS, ex.TARGETS)
    _, grad_sum = _torch_loss(ex.LOGITS, ex.TARGETS, reduction="sum")
    probs = torch.softmax(torch.tensor(ex.LOGITS), -1).numpy()
    np.testing.assert_allclose(t["softmax-ce/probs"], probs, rtol=1e-12)
    np.testing.assert_allclose(t["softmax-ce/grad"], grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(t["softmax-ce/sum-vs-mean"], [grad_sum[0], grad[0]], rtol=1e-10)
    assert ex.ce_example()["loss"] == pytest.approx(loss, rel=1e-12)
    # uniform probabilities over 4: eigenvalues 0, 1/4, 1/4, 1/4
    np.testing.assert_allclose(t["softmax-ce/uniform-eig"], [0, 0.25, 0.25, 0.25], atol=1e-15)


def test_example_figure_and_stability_data() -> None:
    mc = ex.margin_curve()
    rows = np.stack([mc["x"], np.full_like(mc["x"], 1.0), np.full_like(mc["x"], 0.1)], axis=-1)
    tz = torch.tensor(rows, requires_grad=True)
    loss = F.cross_entropy(tz, torch.zeros(len(rows), dtype=torch.long), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(mc["loss"], loss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mc["grad"], tz.grad.numpy(), rtol=1e-10, atol=1e-15)
    cases = ex.stability()
    for case in cases:
        expected = F.cross_entropy(torch.tensor([case["z"]]), torch.tensor([case["y"]])).item()
        assert case["stable"] == pytest.approx(expected, rel=1e-12)
    assert cases[0]["naive"] == pytest.approx(cases[0]["stable"], rel=1e-12)
    assert np.isnan(cases[1]["naive"]) and np.isinf(cases[2]["naive"])
    np.testing.assert_allclose(
        ex.chain_rule_grad(), _torch_loss(ex.LOGITS[:1], ex.TARGETS[:1])[1][0]
    )
    vc = ex.vocab_cost()
    assert vc["entries"] == 50_257**2
