"""The shared scalar check every hyperparameter goes through, against plain comparisons."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmath._checks import check_real


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
