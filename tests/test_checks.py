"""The shared checks every public function goes through: scalars, arrays, ids, sizes, overflow."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmath._checks import (
    ShapeError,
    as_float_array,
    as_int_array,
    check_real,
    check_size,
    guard,
)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2.0, 2.0))
def test_check_real_bounds_match_plain_comparisons(x: float, bound: float) -> None:
    cases = [
        ({"above": bound}, x > bound, f"> {bound:g}"),
        ({"at_least": bound}, x >= bound, f">= {bound:g}"),
        ({"at_most": bound}, x <= bound, f"<= {bound:g}"),
        ({}, True, ""),
    ]
    for bounds, in_range, text in cases:
        if math.isfinite(x) and in_range:
            assert check_real(x, name="v", **bounds) == x
        else:
            with pytest.raises(ValueError) as err:
                check_real(x, name="v", **bounds)
            assert (
                str(err.value)
                == f"v must be a finite number{' ' + text if text else ''}; got {x!r}"
            )


def test_two_sided_bounds_read_as_an_interval() -> None:
    assert check_real(1, name="p", above=0, at_most=1) == 1.0
    for bad in (0, 1.5, math.nan):
        with pytest.raises(ValueError, match=r"^p must be a finite number with 0 < p <= 1; got"):
            check_real(bad, name="p", above=0, at_most=1)
    with pytest.raises(ValueError, match=r"^q must be a finite number with 1 <= q <= 2; got 3$"):
        check_real(3, name="q", at_least=1, at_most=2)


@pytest.mark.parametrize("value", [True, False, None, "1", b"1", 1j, [1.0], np.array(1.0)])
def test_non_real_values_are_refused_by_type(value: object) -> None:
    with pytest.raises(ValueError, match=r"^t must be a real number > 0; got "):
        check_real(value, name="t", above=0)


@pytest.mark.parametrize("value", [2, np.int64(2), np.float32(2.0), np.float64(2.0), Fraction(2)])
def test_every_real_type_becomes_a_python_float(value: object) -> None:
    out = check_real(value, name="t", above=0)
    assert type(out) is float and out == 2.0


# ---- arrays: what numpy would coerce silently is refused, naming the argument -----------------


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ([1 + 2j], "got complex numbers"),
        ([True, False], "got booleans"),
        (["1", "2"], "got strings"),
        ("3", "got strings"),
        ([None], "got None"),
        ([10**400], "integer too large for float64"),
        ([1, 10**30], "integer beyond int64: pass it as a float"),
        ([1.0, object()], "got <object object"),
        ([[1.0], [1.0, 2.0]], "numeric array"),
        ([1.0, np.nan], r"must be finite; got nan at index \(1,\)"),
        (np.zeros((2, 0)), r"must not be empty"),
    ],
)
def test_as_float_array_refuses_what_numpy_would_coerce(value: object, match: str) -> None:
    with pytest.raises(ValueError, match=rf"^x .*{match}"):
        as_float_array(value, name="x", expected="(N,)")  # type: ignore[arg-type]


def test_as_int_array_refuses_floats_bools_and_huge_ints() -> None:
    for bad, match in (
        ([1.0], "floats|float64"),
        ([True], "booleans"),
        ([10**30], r"in \[0, nV\); got 10+"),
    ):
        with pytest.raises(ValueError, match=rf"^ids must be integer.*({match})"):
            as_int_array(bad, name="ids", expected="(...)", high=5)
    with pytest.raises(
        ValueError, match=r"ids must lie in \[0, nV\) = \[0, 5\) \(nV is the rows\)"
    ):
        as_int_array([7], name="ids", expected="(...)", high=5, high_from="the rows")
    with pytest.raises(ShapeError, match="ids must not be empty"):
        as_int_array([], name="ids", expected="(...)")
    assert as_int_array([], name="ids", expected="(...)", allow_empty=True).shape == (0,)


def test_check_real_refuses_integers_beyond_float64() -> None:
    with pytest.raises(
        ValueError, match=r"^t must be a finite number > 0; got an integer too large"
    ):
        check_real(10**400, name="t", above=0)


def test_check_size() -> None:
    assert check_size(None) == () and check_size(np.int64(2)) == (2,)
    for bad in (2.5, "3", True, 0, (1, True)):
        with pytest.raises(ValueError, match=r"^size must be None"):
            check_size(bad)


def test_guard_names_the_extreme_argument_and_only_the_outermost_call_converts() -> None:
    @guard
    def inner(small: float) -> float:
        return float(np.float64(1.0) / np.float64(small))

    @guard
    def outer(x: object, y: object) -> float:
        return inner(float(np.max(np.abs(np.asarray(x)))) * 1e-300) + float(np.asarray(y).sum())

    with pytest.raises(ValueError, match=r"^outer: the result overflows float64 .*\|x\|"):
        outer([1e-300], [1.0])
    with pytest.raises(ValueError, match=r"^inner: .*min nonzero \|small\| = 1e-310"):
        inner(1e-310)
    assert outer([1.0], [2.0]) == pytest.approx(1e300 + 2.0)
    with np.errstate(over="warn"):  # the guard's error state does not leak out
        assert np.geterr()["over"] == "warn"
