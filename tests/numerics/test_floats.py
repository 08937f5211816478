"""Tests for llmath.numerics.floats: limits vs numpy.finfo, torch.finfo and ml_dtypes.finfo; every
fp16 and bf16 bit pattern decoded vs numpy / torch; rounding vs numpy, torch and ml_dtypes casts."""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from llmath._checks import ShapeError
from llmath.numerics.floats import FORMATS, decode_float, float_format, round_to_format

NUMPY = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}
TORCH = {"fp64": torch.float64, "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
         "fp8_e4m3": torch.float8_e4m3fn, "fp8_e5m2": torch.float8_e5m2}  # fmt: skip
ML = {"bf16": ml_dtypes.bfloat16, "fp8_e4m3": ml_dtypes.float8_e4m3fn,
      "fp8_e5m2": ml_dtypes.float8_e5m2}  # fmt: skip
ALL = {**ML, **NUMPY}


@pytest.mark.parametrize("name", list(FORMATS))
def test_limits_match_finfo(name: str) -> None:
    f = float_format(name)
    refs = [torch.finfo(TORCH[name])]
    if name in NUMPY:
        refs.append(np.finfo(NUMPY[name]))
    if name in ML:
        refs.append(ml_dtypes.finfo(ML[name]))
    for ref in refs:
        assert f.bits == ref.bits
        assert f.eps == float(ref.eps)
        assert f.max == float(ref.max)
        assert f.smallest_normal == float(ref.smallest_normal)
    if name in NUMPY:
        assert f.smallest_subnormal == float(np.finfo(NUMPY[name]).smallest_subnormal)
    if name in ML:
        ref = ml_dtypes.finfo(ML[name])
        assert f.smallest_subnormal == float(ref.smallest_subnormal)
        assert f.mantissa_bits == ref.nmant and f.exponent_bits == ref.nexp
    assert f.bits == 1 + f.exponent_bits + f.mantissa_bits


def test_hand_values() -> None:
    f = float_format("fp16")
    assert (f.bias, f.eps, f.max, f.smallest_normal, f.smallest_subnormal) == (
        15, 2.0**-10, 65504.0, 2.0**-14, 2.0**-24)  # fmt: skip
    e4 = float_format("fp8_e4m3")
    assert (e4.max, e4.bias, e4.has_infinity) == (448.0, 7, False)
    assert float_format("fp8_e5m2").max == 57344.0
    assert float_format("bf16").smallest_normal == float_format("fp32").smallest_normal


@pytest.mark.parametrize(("name", "view"), [("fp16", np.float16), ("bf16", ml_dtypes.bfloat16)])
def test_every_16_bit_pattern_decodes_like_numpy_and_torch(name: str, view: type) -> None:
    bits = np.arange(2**16, dtype=np.uint16)  # every pattern
    ours = decode_float(bits, name)
    with np.errstate(invalid="ignore"):  # casting NaN patterns warns
        ref = bits.view(view).astype(np.float64)
    np.testing.assert_array_equal(ours, ref)  # NaN == NaN here; -0.0 vs 0.0 checked below
    assert np.array_equal(np.signbit(ours), np.signbit(ref))
    t = torch.from_numpy(bits.view(np.int16)).view(TORCH[name]).double().numpy()
    np.testing.assert_array_equal(ours, t)
    nan = np.isnan(ours)
    assert nan.sum() == 2 * (2 ** float_format(name).mantissa_bits - 1)
    # round trip: value -> the dtype -> bits gives the pattern back; rounding is the identity
    back = ours[~nan].astype(view).view(np.uint16)
    np.testing.assert_array_equal(back, bits[~nan])
    np.testing.assert_array_equal(
        round_to_format(ours[np.isfinite(ours)], name), ours[np.isfinite(ours)]
    )


@pytest.mark.parametrize("name", ["fp8_e4m3", "fp8_e5m2"])
def test_every_fp8_pattern(name: str) -> None:
    bits = np.arange(256, dtype=np.uint8)
    ours = decode_float(bits, name)
    np.testing.assert_array_equal(ours, bits.view(ML[name]).astype(np.float64))
    t = torch.from_numpy(bits).view(TORCH[name]).double().numpy()
    np.testing.assert_array_equal(ours, t)
    finite = ours[np.isfinite(ours)]
    assert finite.max() == float_format(name).max


def test_fp32_and_fp64_patterns(rng: np.random.Generator) -> None:
    b32 = rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32)
    with np.errstate(invalid="ignore"):  # casting signalling NaNs warns
        ref = b32.view(np.float32).astype(np.float64)
    np.testing.assert_array_equal(decode_float(b32, "fp32"), ref)
    b64 = rng.integers(0, 2**63, size=20000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    np.testing.assert_array_equal(decode_float(b64, "fp64"), b64.view(np.float64))


def _cast(x: np.ndarray, name: str) -> np.ndarray:
    with warnings.catch_warnings():  # numpy warns when a cast overflows to inf or NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return x.astype(ALL[name]).astype(np.float64)


@pytest.mark.parametrize("name", ["fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"])
def test_rounding_matches_casts(name: str, rng: np.random.Generator) -> None:
    # float32 inputs: ml_dtypes casts float64 to bf16/fp8 through float32 (two roundings)
    x = (rng.normal(size=50000) * np.exp(rng.uniform(-40, 40, size=50000))).astype(np.float32)
    x = x.astype(np.float64)
    ours = round_to_format(x, name)
    np.testing.assert_array_equal(ours, _cast(x, name))
    if name in ("fp16", "bf16"):
        t = torch.from_numpy(x).to(TORCH[name]).double().numpy()
        np.testing.assert_array_equal(ours, t)


def test_rounding_float64_is_correctly_rounded_where_casts_round_twice() -> None:
    """x lies just above the midpoint of two bf16 numbers; float32(x) is that midpoint, so a
    cast through float32 rounds to even, the wrong neighbour."""
    lo, hi = 1.0, 1.0 + 2.0**-7  # neighbours in bf16
    x = (lo + hi) / 2 + 2.0**-30  # nearer hi ... float32 keeps it; make it round away
    assert round_to_format([x], "bf16")[0] == hi
    x = (lo + hi) / 2 - 2.0**-40  # nearer lo; float32(x) is the midpoint
    assert np.float32(x) == (lo + hi) / 2
    assert round_to_format([x], "bf16")[0] == lo


def test_overflow_and_saturation() -> None:
    assert round_to_format([65519.0, 65520.0], "fp16").tolist() == [65504.0, np.inf]
    assert np.isnan(round_to_format([465.0], "fp8_e4m3")[0])
    assert round_to_format([464.0, -1e6], "fp8_e4m3", saturate=True).tolist() == [448.0, -448.0]
    assert (
        round_to_format([-1e-9], "fp16")[0] == 0.0
        and np.signbit(round_to_format([-1e-9], "fp16"))[0]
    )


@given(st.floats(-6e4, 6e4, allow_nan=False), st.sampled_from(["fp16", "bf16", "fp8_e5m2"]))
def test_rounding_is_idempotent_and_nearest(x: float, name: str) -> None:
    r = round_to_format([x], name)[0]
    assert round_to_format([r], name)[0] == r
    f = float_format(name)
    spacing = max(abs(r), f.smallest_normal) * f.eps  # the gap near r (at most)
    assert abs(r - x) <= spacing / 2 * (1 + 1e-12) + spacing * (abs(x) > f.max)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="name must be"):
        float_format("fp12")
    with pytest.raises(ValueError, match="bits must lie in"):
        decode_float([2**16], "fp16")
    with pytest.raises(ValueError, match="bits must be integer"):
        decode_float([1.0], "fp16")
    with pytest.raises(ShapeError, match="bits must not be empty"):
        decode_float([], "fp16")
    with pytest.raises(ValueError, match="saturate"):
        round_to_format([1.0], "fp16", saturate="yes")  # type: ignore[arg-type]
