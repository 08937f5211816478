"""softmax and log_softmax against torch, closed forms and invariants."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given

from llmath import ShapeError, log_softmax, softmax

logits = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    elements=st.floats(-50, 50),
)


def test_hand_value() -> None:
    # softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6 exactly in real arithmetic
    np.testing.assert_allclose(
        softmax([0.0, np.log(2), np.log(3)]), [1 / 6, 2 / 6, 3 / 6], rtol=1e-15
    )


def test_two_logits_is_the_logistic_function() -> None:
    z = np.linspace(-30, 30, 61)
    p = softmax(np.stack([np.zeros_like(z), z], axis=-1))[:, 1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-14)


def test_large_logits_do_not_overflow() -> None:
    p = softmax([1000.0, 1001.0])
    np.testing.assert_allclose(p, [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-15)
    assert np.all(np.isfinite(softmax([-1e300, 1e300])))


@given(logits, st.integers(-3, 2))
def test_matches_torch(z: np.ndarray, axis: int) -> None:
    axis = axis % z.ndim
    expected = torch.softmax(torch.from_numpy(z), dim=axis).numpy()
    np.testing.assert_allclose(softmax(z, axis=axis), expected, rtol=1e-12, atol=1e-300)
    expected_log = torch.log_softmax(torch.from_numpy(z), dim=axis).numpy()
    np.testing.assert_allclose(log_softmax(z, axis=axis), expected_log, rtol=1e-12, atol=1e-12)


@given(logits, st.floats(-100, 100))
def test_sums_to_one_and_shift_invariant(z: np.ndarray, c: float) -> None:
    p = softmax(z)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(softmax(z + c), p, rtol=1e-9, atol=1e-15)


@given(logits)
def test_log_softmax_is_log_of_softmax(z: np.ndarray) -> None:
    np.testing.assert_allclose(np.exp(log_softmax(z)), softmax(z), rtol=1e-12, atol=1e-300)


def test_log_softmax_stays_finite_where_log_of_softmax_underflows() -> None:
    z = np.array([0.0, 800.0])
    with np.errstate(divide="ignore"):
        naive = np.log(softmax(z))
    assert naive[0] == -np.inf
    assert log_softmax(z)[0] == -800.0


def test_where_masks_exactly() -> None:
    z = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    keep = np.array([[True, False, True], [True, True, False]])
    p = softmax(z, where=keep)
    assert p[0, 1] == 0.0 and p[1, 2] == 0.0
    np.testing.assert_allclose(p[0, [0, 2]], softmax([1.0, 3.0]), rtol=1e-15)
    expected = torch.softmax(
        torch.from_numpy(z).masked_fill(~torch.from_numpy(keep), -torch.inf), -1
    )
    np.testing.assert_allclose(p, expected.numpy(), rtol=1e-13)


@pytest.mark.parametrize(
    ("z", "kwargs", "error", "match"),
    [
        (3.0, {}, ShapeError, r"z must have shape \(\.\.\., N\)"),
        ([1.0, np.nan], {}, ValueError, "finite"),
        ([1.0, np.inf], {}, ValueError, "finite"),
        ([1.0, 2.0], {"axis": 1}, ShapeError, "axis 1 is out of range"),
        ([1.0, 2.0], {"where": [False, False]}, ValueError, "no entry"),
        ([1.0, 2.0], {"where": [1, 0]}, ValueError, "boolean"),
        ([1.0, 2.0], {"where": [True, False, True]}, ShapeError, "broadcast"),
        (["a", "b"], {}, ValueError, "real numbers"),
    ],
)
def test_bad_input(z: object, kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        softmax(z, **kwargs)  # type: ignore[arg-type]


def test_input_not_mutated() -> None:
    z = np.array([1.0, 2.0, 3.0])
    softmax(z)
    log_softmax(z)
    np.testing.assert_array_equal(z, [1.0, 2.0, 3.0])
