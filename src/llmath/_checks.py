"""Input validation shared by every llmath function.

One error class and a few converters, so that every public function fails the same way: a
`ValueError` whose message names the argument, the expected shape in the book's letters
(see the notation page) and the shape or value that actually arrived.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ShapeError", "as_float_array", "check_positive_int", "check_real"]


class ShapeError(ValueError):
    """An array had the wrong number of axes or mismatched axis lengths."""


def _axes(n: int) -> str:
    """`1 axis`, `2 axes`: a count of axes for an error message."""
    return f"{n} axis" if n == 1 else f"{n} axes"


def as_float_array(
    x: ArrayLike, *, name: str, expected: str, min_ndim: int = 0, ndim: int | None = None
) -> NDArray[np.float64]:
    """Return `x` as a float64 array after checking its rank and that it is finite.

    Args:
        x: anything `numpy.asarray` accepts (not mutated; a copy is made only if needed).
        name: the argument's name, used in error messages.
        expected: the expected shape in the book's letters, such as `"(..., T, K)"`.
        min_ndim: the smallest number of axes accepted.
        ndim: if given, the exact number of axes required.

    Returns:
        The float64 array, same shape as `x`.

    Raises:
        ShapeError: if the rank is wrong.
        ValueError: if `x` is not numeric or contains NaN or infinity.

    Examples:
        >>> as_float_array([1, 2], name="x", expected="(N,)", ndim=1)
        array([1., 2.])
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape {expected}: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ShapeError(
            f"{name} must have shape {expected} ({_axes(ndim)}); got shape {arr.shape}"
        )
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{name} must have shape {expected} (at least {_axes(min_ndim)}); got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} must be finite; got NaN or infinity in an array of shape {arr.shape}"
        )
    return arr


def check_positive_int(value: object, *, name: str) -> int:
    """Return `value` if it is an integer >= 1, else raise `ValueError` naming it.

    Examples:
        >>> check_positive_int(3, name="r")
        3
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_real(
    value: object,
    *,
    name: str,
    above: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
) -> float:
    """Return `value` as a float if it is a finite real number within the bounds, else raise.

    A scalar hyperparameter (a temperature, a smoothing constant, a step) must be a real number,
    not a string or `None`, and not a `bool` although Python counts `True` as 1: `True` where a
    temperature belongs is a bug, not a request for T = 1. NaN and infinity are refused too.

    Args:
        value: the argument as it arrived.
        name: its name, for the message.
        above: if given, `value` must be `> above`.
        at_least: if given, `value` must be `>= at_least` (give at most one of the two).
        at_most: if given, `value` must be `<= at_most`.

    Returns:
        `value` as a Python float.

    Raises:
        ValueError: naming `name`, the bounds and the value that arrived.

    Examples:
        >>> check_real(0.9, name="p", above=0, at_most=1)
        0.9
        >>> check_real(True, name="temperature", above=0)
        Traceback (most recent call last):
        ...
        ValueError: temperature must be a real number > 0; got True
    """
    low = None  # the lower bound written before the name ("0 <") and after it ("> 0")
    if above is not None:
        low = (f"{above:g} <", f"> {above:g}")
    elif at_least is not None:
        low = (f"{at_least:g} <=", f">= {at_least:g}")
    if low and at_most is not None:
        bounds = f" with {low[0]} {name} <= {at_most:g}"
    elif low:
        bounds = f" {low[1]}"
    elif at_most is not None:
        bounds = f" <= {at_most:g}"
    else:
        bounds = ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number{bounds}; got {value!r}")
    x = float(value)
    in_bounds = (
        (above is None or x > above)
        and (at_least is None or x >= at_least)
        and (at_most is None or x <= at_most)
    )
    if not (math.isfinite(x) and in_bounds):
        raise ValueError(f"{name} must be a finite number{bounds}; got {value!r}")
    return x
