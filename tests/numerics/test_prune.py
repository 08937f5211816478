"""Tests for llmath.numerics.prune: exact sparsity, the kept entries are the largest, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn.utils import prune

from llmath.numerics.prune import magnitude_prune


def test_hand_values() -> None:
    assert magnitude_prune([0.3, -0.1, 2.0, -0.05], 0.5).tolist() == [0.3, 0.0, 2.0, 0.0]
    assert magnitude_prune([1.0, 1.0, 1.0, 1.0], 0.25).tolist() == [0.0, 1.0, 1.0, 1.0]  # stable
    assert magnitude_prune([[1.0, -2.0]], 0.0).tolist() == [[1.0, -2.0]]
    assert magnitude_prune([[1.0, -2.0]], 1.0).tolist() == [[0.0, 0.0]]


def test_matches_torch_l1_unstructured(rng: np.random.Generator) -> None:
    w = rng.normal(size=(12, 20))
    for amount in (0.1, 0.5, 0.9):
        layer = torch.nn.Linear(20, 12, bias=False)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
        prune.l1_unstructured(layer, name="weight", amount=amount)
        np.testing.assert_array_equal(magnitude_prune(w, amount), layer.weight.detach().numpy())


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 7)),
              elements=st.floats(-10, 10)), st.floats(0, 1))  # fmt: skip
def test_sparsity_is_exact_and_keeps_the_largest(w: np.ndarray, rho: float) -> None:
    out = magnitude_prune(w, rho)
    k = round(rho * w.size)
    removed = np.flatnonzero((out == 0) & (w != 0))
    zeroed = np.sum(out == 0) - np.sum((w == 0) & (out == 0))
    assert zeroed == removed.size
    kept = out != 0
    assert np.sum(~kept) >= k and np.sum(~kept) <= k + np.sum(w == 0)
    if kept.any() and (~kept).any():
        assert np.abs(w[~kept]).max() <= np.abs(w[kept]).min()
    np.testing.assert_array_equal(out[kept], w[kept])
    assert w.shape == out.shape


def test_bad_input() -> None:
    for bad in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="sparsity"):
            magnitude_prune([1.0, 2.0], bad)
