"""Tests for llmath.numerics.quantize: torch's quantize_per_tensor / quantize_per_channel as the
oracle, the error bound s/2 and per-channel <= per-tensor as Hypothesis properties, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath._checks import ShapeError
from llmath.numerics.quantize import dequantize, quantize_absmax, quantize_zero_point


def _torch_quantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, *, axis: int | None, dtype: torch.dtype) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """torch's int_repr and dequantized values (torch quantises float32 only; it warns that
    quantized tensors are deprecated)."""
    t = torch.from_numpy(x.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if axis is None:
            q = torch.quantize_per_tensor(t, float(scale), int(zero), dtype)
        else:
            q = torch.quantize_per_channel(
                t, torch.from_numpy(scale), torch.from_numpy(zero.astype(np.int64)), axis, dtype
            )
        return q.int_repr().numpy(), q.dequantize().double().numpy()


def _away_from_ties(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Entries whose x/s is not within float32 rounding of a half-integer (where torch, which
    divides in float32, may round the other way)."""
    r = x / np.where(s > 0, s, 1.0)
    return np.abs(np.abs(r - np.floor(r)) - 0.5) > 1e-4


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_absmax_int8_matches_torch_qint8(axis: int | None, rng: np.random.Generator) -> None:
    x = rng.normal(size=(16, 24)).astype(np.float32).astype(np.float64)
    codes, scales = quantize_absmax(x, 8, axis=axis)
    zero = np.zeros(np.shape(scales), dtype=np.int64)
    ref_codes, ref_values = _torch_quantize(x, scales, zero, axis=axis, dtype=torch.qint8)
    s = scales if axis is None else np.expand_dims(scales, 1 - axis)
    ok = _away_from_ties(x, s)
    assert ok.mean() > 0.99
    np.testing.assert_array_equal(codes[ok], ref_codes[ok])
    assert np.abs(codes.astype(int) - ref_codes).max() <= 1
    ours = dequantize(codes, scales, axis=axis)
    np.testing.assert_allclose(ours[ok], ref_values[ok], rtol=1e-6, atol=0)
    assert codes.dtype == np.int8


@pytest.mark.parametrize("axis", [None, 1])
def test_zero_point_uint8_matches_torch_quint8(axis: int | None, rng: np.random.Generator) -> None:
    x = (rng.normal(size=(8, 12)) + 1.0).astype(np.float32).astype(np.float64)
    codes, scales, zeros = quantize_zero_point(x, 8, axis=axis)
    ref_codes, ref_values = _torch_quantize(x, scales, zeros, axis=axis, dtype=torch.quint8)
    s = scales if axis is None else np.expand_dims(scales, 0)
    ok = _away_from_ties(x, s)
    np.testing.assert_array_equal(codes[ok], ref_codes[ok])
    ours = dequantize(codes, scales, zero_points=zeros, axis=axis)
    np.testing.assert_allclose(ours[ok], ref_values[ok], rtol=1e-6, atol=1e-7)
    assert codes.dtype == np.uint8


def test_hand_values() -> None:
    codes, scale = quantize_absmax([0.5, -1.27, 0.004], bits=8)
    assert codes.tolist() == [50, -127, 0] and float(scale) == pytest.approx(0.01)
    codes, scale = quantize_absmax([1.0, -0.4, 0.2], bits=2)  # qmax = 1: codes in {-1, 0, 1}
    assert codes.tolist() == [1, 0, 0] and float(scale) == 1.0
    codes, scale, zero = quantize_zero_point([-1.0, 0.0, 3.0], bits=2)  # s = 4/3, z = round(0.75)
    assert float(scale) == pytest.approx(4 / 3) and int(zero) == 1
    assert codes.tolist() == [0, 1, 3]
    # 0 is exact under both schemes
    assert dequantize(codes, scale, zero_points=zero)[1] == 0.0


def test_layouts_and_shapes(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 4, 8))
    for kw, shape in [({}, ()), ({"axis": 1}, (4,)), ({"axis": -1}, (8,)), ({"group_size": 4}, (3, 4, 2))]:  # fmt: skip
        codes, scales = quantize_absmax(x, 4, **kw)
        assert codes.shape == x.shape and scales.shape == shape
        err = np.abs(dequantize(codes, scales, **kw) - x)
        assert err.max() <= scales.max() / 2 * (1 + 1e-12)
    # per-channel along axis 1: channel j's scale is max over the other axes / qmax
    _, scales = quantize_absmax(x, 4, axis=1)
    np.testing.assert_allclose(scales, np.abs(x).max(axis=(0, 2)) / 7, rtol=1e-15)
    # group-wise: groups are consecutive entries of the last axis
    _, scales = quantize_absmax(x, 8, group_size=4)
    np.testing.assert_allclose(scales[..., 1], np.abs(x[..., 4:]).max(axis=-1) / 127, rtol=1e-15)
    assert quantize_absmax(x, 9)[0].dtype == np.int16
    assert quantize_zero_point(x, 12)[0].dtype == np.uint16


def test_zero_block_gets_zero_scale_and_codes() -> None:
    codes, scales = quantize_absmax([[0.0, 0.0], [1.0, -2.0]], 8, axis=0)
    assert scales[0] == 0.0 and codes[0].tolist() == [0, 0]
    assert dequantize(codes, scales, axis=0)[0].tolist() == [0.0, 0.0]


# zero, or magnitudes whose steps s = max|x| / (2^b - 1) stay normal floats (a subnormal step
# has fewer significant bits than the bound s/2 needs)
finite = st.one_of(st.just(0.0), st.floats(1e-100, 1e6), st.floats(-1e6, -1e-100))


def _per_entry(scales: np.ndarray, shape: tuple[int, ...], kw: dict[str, int]) -> np.ndarray:
    """Each entry's step: the scale of its block, broadcast back to `shape`."""
    if "group_size" in kw:
        return np.repeat(scales, kw["group_size"], axis=-1)
    if "axis" in kw:
        return np.broadcast_to(np.expand_dims(scales, 1 - kw["axis"]), shape)
    return np.broadcast_to(scales, shape)


@given(arrays(np.float64, (4, 6), elements=finite), st.integers(2, 16))
def test_error_at_most_half_a_step(x: np.ndarray, bits: int) -> None:
    for kw in ({}, {"axis": 0}, {"axis": 1}, {"group_size": 3}):
        codes, scales = quantize_absmax(x, bits, **kw)
        err = np.abs(dequantize(codes, scales, **kw) - x)
        assert np.all(err <= _per_entry(scales, x.shape, kw) / 2 * (1 + 1e-12))
        c3, s3, z3 = quantize_zero_point(x, bits, **kw)
        err3 = np.abs(dequantize(c3, s3, zero_points=z3, **kw) - x)
        assert np.all(err3 <= _per_entry(s3, x.shape, kw) / 2 * (1 + 1e-9))


@given(arrays(np.float64, (5, 4), elements=finite), st.integers(2, 12))
def test_per_channel_scale_never_exceeds_per_tensor(x: np.ndarray, bits: int) -> None:
    """Each channel's step is at most the tensor's, so its error bound s/2 is too."""
    _, s_tensor = quantize_absmax(x, bits)
    for axis in (0, 1):
        _, s_chan = quantize_absmax(x, bits, axis=axis)
        assert np.all(s_chan <= s_tensor)
        assert s_chan.max() == s_tensor


@given(arrays(np.float64, (5, 4), elements=finite), st.integers(2, 12))
def test_per_channel_error_within_the_per_tensor_bound(x: np.ndarray, bits: int) -> None:
    """Every entry's per-channel error is at most half the per-tensor step (the per-tensor
    bound), so the largest per-channel error never exceeds the largest per-tensor bound."""
    _, s_tensor = quantize_absmax(x, bits)
    for axis in (0, 1):
        err = np.abs(dequantize(*quantize_absmax(x, bits, axis=axis), axis=axis) - x)
        assert err.max() <= float(s_tensor) / 2 * (1 + 1e-12)


@given(arrays(np.float64, (6,), elements=finite), st.integers(2, 16))
def test_dequantize_quantize_is_idempotent(x: np.ndarray, bits: int) -> None:
    codes, scale = quantize_absmax(x, bits)
    again, scale2 = quantize_absmax(dequantize(codes, scale), bits)
    assert float(scale2) == pytest.approx(float(scale), rel=1e-12)
    assert np.abs(again.astype(int) - codes.astype(int)).max(initial=0) <= 1


def test_bad_input() -> None:
    x = np.ones((2, 4))
    for bits in (1, 17, 8.0, True):
        with pytest.raises(ValueError, match="bits"):
            quantize_absmax(x, bits)  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match="group_size 3 must divide"):
        quantize_absmax(x, 8, group_size=3)
    with pytest.raises(ValueError, match="group_size"):
        quantize_absmax(x, 8, group_size=0)
    with pytest.raises(ValueError, match="not both"):
        quantize_zero_point(x, 8, axis=0, group_size=2)
    with pytest.raises(ShapeError, match="axis 2 is out of range for x"):
        quantize_absmax(x, 8, axis=2)
    with pytest.raises(ValueError, match="codes must be integers"):
        dequantize(np.ones(3), 0.1)
    with pytest.raises(ShapeError, match="scales must have shape"):
        dequantize(np.ones((2, 4), dtype=int), [0.1, 0.2, 0.3], axis=1)
    with pytest.raises(ValueError, match="scales must be >= 0"):
        dequantize([1, 2], -0.1)
    with pytest.raises(ShapeError, match="zero_points"):
        dequantize([1, 2], 0.1, zero_points=[1, 2])
