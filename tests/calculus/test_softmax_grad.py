"""softmax_jacobian and softmax_backward against torch, finite differences and invariants."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given

from llmath import ShapeError, softmax
from llmath.calculus.numerical import numerical_grad, numerical_jacobian
from llmath.calculus.softmax_grad import softmax_backward, softmax_jacobian

logits = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    elements=st.floats(-10, 10),
)


def test_jacobian_hand_value() -> None:
    # softmax([0, ln 2, ln 3]) = (1, 2, 3) / 6, so J = diag(s) - s^T s is known exactly
    s = np.array([1.0, 2.0, 3.0]) / 6
    expected = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(
        softmax_jacobian([0.0, np.log(2), np.log(3)]), expected, rtol=1e-14, atol=1e-16
    )
    np.testing.assert_array_equal(softmax_jacobian([0.0, 0.0]), [[0.25, -0.25], [-0.25, 0.25]])


def test_jacobian_of_a_single_logit_is_zero() -> None:
    np.testing.assert_array_equal(softmax_jacobian([[3.0], [-2.0]]), np.zeros((2, 1, 1)))


@given(logits)
def test_jacobian_matches_torch_autograd(z: np.ndarray) -> None:
    N = z.shape[-1]
    tz = torch.from_numpy(z).requires_grad_(True)
    s = torch.softmax(tz, dim=-1)
    rows = []
    for j in range(N):  # row j of the torch Jacobian: the gradient of s_j, for every leading index
        (grad,) = torch.autograd.grad(s[..., j].sum(), tz, retain_graph=True)  # (..., N): ds_j/dz_i
        rows.append(grad.numpy())
    expected = np.stack(rows, axis=-1)  # (..., i, j) = ds_j/dz_i
    np.testing.assert_allclose(softmax_jacobian(z), expected, rtol=1e-10, atol=1e-15)


def test_jacobian_matches_torch_functional_jacobian(rng: np.random.Generator) -> None:
    z = rng.normal(size=7) * 3
    jac = torch.autograd.functional.jacobian(lambda r: torch.softmax(r, -1), torch.from_numpy(z))
    np.testing.assert_allclose(softmax_jacobian(z), jac.numpy().T, rtol=1e-12, atol=1e-16)  # (j, i)


def test_jacobian_finite_differences(rng: np.random.Generator) -> None:
    z = rng.normal(size=6)
    numeric = numerical_jacobian(softmax, z)  # (j, i) = ds_j/dz_i
    np.testing.assert_allclose(softmax_jacobian(z), numeric.T, rtol=1e-6, atol=1e-9)


@given(logits)
def test_jacobian_invariants(z: np.ndarray) -> None:
    J = softmax_jacobian(z)
    N = z.shape[-1]
    assert J.shape == (*z.shape, N)
    scale = 1e-12
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), rtol=0, atol=scale)  # symmetric
    np.testing.assert_allclose(J.sum(axis=-1), 0.0, rtol=0, atol=scale)  # rows sum to zero
    eig = np.linalg.eigvalsh(J)  # (..., N), ascending
    assert np.all(eig >= -scale)  # positive semidefinite
    np.testing.assert_allclose(eig[..., 0], 0.0, atol=scale)  # the constant vector: null space


@given(
    hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-3, 3)),
    st.floats(-50, 50),
)
def test_jacobian_rank_and_shift_invariance(z: np.ndarray, c: float) -> None:
    J = softmax_jacobian(z)
    assert np.linalg.matrix_rank(J, tol=1e-10) == z.size - 1
    np.testing.assert_allclose(softmax_jacobian(z + c), J, rtol=1e-9, atol=1e-13)


def test_jacobian_extreme_logits_are_finite() -> None:
    J = softmax_jacobian([-1e6, 0.0, 1e6, 1e300])
    assert np.all(np.isfinite(J))
    np.testing.assert_array_equal(J, np.zeros((4, 4)))  # a one-hot softmax has zero derivative


@given(logits, st.integers(-3, 2), st.integers(0, 2**32 - 1))
def test_backward_matches_torch(z: np.ndarray, axis: int, seed: int) -> None:
    axis = axis % z.ndim
    dout = np.random.default_rng(seed).normal(size=z.shape)
    tz = torch.from_numpy(z).requires_grad_(True)
    torch.softmax(tz, dim=axis).backward(torch.from_numpy(dout))
    ours = softmax_backward(dout, softmax(z, axis=axis), axis=axis)
    np.testing.assert_allclose(ours, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


@given(logits, st.integers(0, 2**32 - 1))
def test_backward_is_the_vjp_with_the_jacobian(z: np.ndarray, seed: int) -> None:
    g = np.random.default_rng(seed).normal(size=z.shape)
    via_jacobian = np.einsum("...j,...ij->...i", g, softmax_jacobian(z))  # sum_j g_j ds_j/dz_i
    dz = softmax_backward(g, softmax(z))
    np.testing.assert_allclose(dz, via_jacobian, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dz.sum(axis=-1), 0.0, atol=1e-12)  # sums to zero along the axis


def test_backward_finite_differences(rng: np.random.Generator) -> None:
    z = rng.normal(size=(3, 5))
    r = rng.normal(size=(5, 5))  # L = sum(r * softmax(z, axis=0)), so dL/ds = r
    numeric = numerical_grad(lambda x: np.sum(r[:3] * softmax(x, axis=0)), z)
    ours = softmax_backward(r[:3], softmax(z, axis=0), axis=0)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3.0,), {}, ShapeError, r"z must have shape \(\.\.\., N\)"),
        (([1.0, np.nan],), {}, ValueError, "finite"),
    ],
)
def test_jacobian_bad_input(args: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        softmax_jacobian(*args, **kwargs)


@pytest.mark.parametrize(
    ("dout", "s", "kwargs", "error", "match"),
    [
        ([1.0, 2.0], [0.5, 0.5, 0.0], {}, ShapeError, r"dout must have the shape of s, \(3,\)"),
        ([1.0, 2.0], [0.5, 0.5], {"axis": 1}, ShapeError, "axis 1 is out of range"),
        ([1.0, 2.0], [2.0, -1.0], {}, ValueError, "were the logits passed"),
        ([1.0, 2.0], [0.2, 0.3], {}, ValueError, "summing to 1"),
        ([1.0, np.inf], [0.5, 0.5], {}, ValueError, "dout must be finite"),
        ([1.0, 2.0], 1.0, {}, ShapeError, r"s must have shape \(\.\.\., N\)"),
    ],
)
def test_backward_bad_input(dout: object, s: object, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        softmax_backward(dout, s, **kwargs)  # type: ignore[arg-type]


def test_inputs_not_mutated() -> None:
    z = np.array([1.0, 2.0, 3.0])
    s = softmax(z)
    g = np.array([1.0, 0.0, -1.0])
    s_copy = s.copy()
    softmax_jacobian(z)
    softmax_backward(g, s)
    np.testing.assert_array_equal(z, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s, s_copy)
    np.testing.assert_array_equal(g, [1.0, 0.0, -1.0])
