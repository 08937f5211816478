"""Input validation shared by every llmath function.

One error class and a few converters, so that every public function fails the same way: a
`ValueError` whose message names the argument as the caller spelled it, the expected shape in the
book's letters (see the notation page) and the shape or value that actually arrived. Never a
silent wrong answer, a numpy or Python exception from deep inside, or a hang.

What each check refuses, once for the whole package:

* arrays: booleans, complex numbers, strings, `None` and other objects (numpy would silently
  drop an imaginary part or read `"3"` as 3.0), integers too large for float64, NaN and
  infinity, empty arrays and the wrong number of axes;
* scalars: the same, plus `True` where a number belongs;
* floating-point overflow inside a computation ([guard][llmath._checks.guard]): a clear
  `ValueError` naming the argument with the extreme value, instead of a silent `inf`, `nan` or 0.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import numbers
import reprlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ShapeError",
    "as_bool_mask",
    "as_float_array",
    "as_int_array",
    "broadcast_leading",
    "check_bool",
    "check_cache",
    "check_choice",
    "check_positive_int",
    "check_real",
    "check_rng",
    "check_sentences",
    "check_size",
    "check_text",
    "check_tokens",
    "guard",
    "vouches",
]

P = ParamSpec("P")
R = TypeVar("R")

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlong = 40


class ShapeError(ValueError):
    """An array had the wrong number of axes or mismatched axis lengths."""


def _axes(n: int) -> str:
    """`1 axis`, `2 axes`: a count of axes for an error message."""
    return f"{n} axis" if n == 1 else f"{n} axes"


def _what(value: object) -> str:
    """A short description of a value for an error message: its repr, cut to 40 characters."""
    return _short.repr(value)


_KINDS = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes"}


def _real_array(x: object, *, name: str, expected: str) -> NDArray[Any]:
    """`np.asarray(x)` if its dtype is integer or float, else raise naming `name`.

    Booleans, complex numbers, strings and object arrays are refused, not coerced.
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # e.g. a ragged nested list
        raise ShapeError(f"{name} must be a numeric array of shape {expected}; {exc}") from None
    kind = raw.dtype.kind
    if kind in "iuf":
        return raw
    if kind != "O":
        what = _KINDS.get(kind, f"dtype {raw.dtype}")
        raise ValueError(
            f"{name} must hold real numbers (integers or floats) of shape {expected}; got {what}"
        )
    # An object array (dtype kind "O") is never converted: it holds None, strings mixed with
    # numbers, or Python ints beyond int64. Say which, naming the first offending entry.
    for v in raw.flat:
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63:
            big = "too large for float64 (at most about 1.8e308)"
            if abs(v) < 2**1024:
                big = "beyond int64: pass it as a float"
            raise ValueError(f"{name} holds an integer {big}; got {_what(v)}")
        if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real):
            raise ValueError(
                f"{name} must hold real numbers (integers or floats) of shape {expected}; "
                f"got {_what(v)} of type {type(v).__name__}"
            )
    raise ValueError(
        f"{name} must be an array of integers or floats of shape {expected}; got dtype object"
    )


def as_float_array(
    x: ArrayLike,
    *,
    name: str,
    expected: str,
    min_ndim: int = 0,
    ndim: int | None = None,
    allow_empty: bool = False,
    finite: bool = True,
) -> NDArray[np.float64]:
    """Return `x` as a float64 array after checking its type, rank, size and finiteness.

    Args:
        x: anything `numpy.asarray` accepts (not mutated; a copy is made only if needed).
        name: the argument's name as the caller wrote it, used in error messages.
        expected: the expected shape in the book's letters, such as `"(..., T, dk)"`.
        min_ndim: the smallest number of axes accepted.
        ndim: if given, the exact number of axes required.
        allow_empty: accept an array with no entries (default: refuse it).
        finite: refuse infinity (default); NaN is refused either way.

    Returns:
        The float64 array, same shape as `x`.

    Raises:
        ShapeError: if the rank is wrong or the array is empty.
        ValueError: if `x` does not hold real numbers (booleans, complex numbers, strings and
            integers beyond float64 are refused) or contains NaN or infinity.

    Examples:
        >>> as_float_array([1, 2], name="x", expected="(N,)", ndim=1)
        array([1., 2.])
        >>> as_float_array([1 + 2j], name="x", expected="(N,)")
        Traceback (most recent call last):
        ...
        ValueError: x must hold real numbers (integers or floats) of shape (N,); got complex numbers
    """
    if (
        _TRUSTED.get()  # a calling function validated it, or computed it from validated data
        and type(x) is np.ndarray
        and x.dtype == np.float64
        and x.size
        and x.ndim >= min_ndim
        and (ndim is None or x.ndim == ndim)
    ):
        return x
    raw = _real_array(x, name=name, expected=expected)
    if ndim is not None and raw.ndim != ndim:
        raise ShapeError(
            f"{name} must have shape {expected} ({_axes(ndim)}); got shape {raw.shape}"
        )
    if raw.ndim < min_ndim:
        raise ShapeError(
            f"{name} must have shape {expected} (at least {_axes(min_ndim)}); got shape {raw.shape}"
        )
    if raw.size == 0 and not allow_empty:
        raise ShapeError(f"{name} must not be empty: expected shape {expected}; got {raw.shape}")
    with np.errstate(over="ignore"):  # a float128 beyond float64 becomes inf: refused below
        arr = raw.astype(np.float64, copy=False)
    bad = np.isnan(arr) if not finite else ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f" at index {where}" if where else ""
        need = "finite" if finite else "a number (not NaN)"
        raise ValueError(f"{name} must be {need}; got {float(arr[where])!r}{at}")
    return arr


def as_int_array(
    x: ArrayLike,
    *,
    name: str,
    expected: str,
    high: int | None = None,
    high_name: str = "nV",
    allow_empty: bool = False,
    high_from: str = "",
) -> NDArray[np.intp]:
    """Return `x` as an array of integer ids in `[0, high)`, refusing floats, booleans and others.

    Args:
        x: integer ids, any shape given by `expected`.
        name: the argument's name, for messages.
        expected: the expected shape, such as `"(...)"`.
        high: if given, every id must be `< high`.
        high_name: the letter for `high` in messages (default `nV`, the vocabulary size).
        allow_empty: accept an array with no ids (a lookup of nothing; default: refuse it).
        high_from: where `high` comes from, for messages, such as `"the last axis of logits"`.

    Returns:
        The ids as `numpy.intp`, same shape.

    Raises:
        ShapeError: if `x` is empty.
        ValueError: if `x` does not hold integers or an id lies outside `[0, high)`.

    Examples:
        >>> as_int_array([2, 0], name="ids", expected="(...)", high=3)
        array([2, 0])
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name} must be an integer array of shape {expected}; {exc}") from None
    if raw.dtype.kind == "O" and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in raw.flat
    ):  # Python ints beyond int64: certainly out of range, but say so, not "dtype object"
        raise ValueError(
            f"{name} must be integers in [0, {high_name}); got {_what(max(raw.flat, key=abs))}"
        )
    if raw.size == 0:
        if not allow_empty:
            raise ShapeError(
                f"{name} must not be empty: expected shape {expected}; got {raw.shape}"
            )
        return raw.astype(np.intp)  # np.asarray([]) is float64: an empty list is no error
    if raw.dtype.kind not in "iu":
        what = _KINDS.get(raw.dtype.kind, f"dtype {raw.dtype}")
        raise ValueError(f"{name} must be integers of shape {expected}; got {what}")
    lo, hi = raw.min(), raw.max()
    if lo < 0 or (high is not None and hi >= high):
        bound = f"[0, {high_name}) = [0, {high})" if high is not None else "[0, ...)"
        source = f" ({high_name} is {high_from})" if high_from else ""
        raise ValueError(f"{name} must lie in {bound}{source}; got min {lo}, max {hi}")
    return raw.astype(np.intp)


def as_bool_mask(mask: ArrayLike, *, name: str, shape: tuple[int, ...]) -> NDArray[np.bool_]:
    """Return a boolean `mask` broadcast to `shape`, naming `name` if it is not boolean or does not fit.

    Examples:
        >>> as_bool_mask([True, False], name="mask", shape=(2, 2)).tolist()
        [[True, False], [True, False]]
    """
    try:
        keep = np.asarray(mask)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name} must be a boolean array; {exc}") from None
    if keep.dtype != np.bool_:
        raise ValueError(f"{name} must be a boolean array (True = keep); got dtype {keep.dtype}")
    try:
        return np.broadcast_to(keep, shape)
    except ValueError:
        raise ShapeError(
            f"{name} must broadcast to shape {shape}; got shape {keep.shape}"
        ) from None


def broadcast_leading(
    name_a: str, a: tuple[int, ...], name_b: str, b: tuple[int, ...], *, skip: int
) -> tuple[int, ...]:
    """Broadcast the leading axes of two shapes (all but the last `skip`), naming both on failure.

    Examples:
        >>> broadcast_leading("q", (2, 1, 3, 4), "k", (5, 6, 4), skip=2)
        (2, 5)
    """
    la, lb = a[: len(a) - skip], b[: len(b) - skip]
    try:
        return np.broadcast_shapes(la, lb)
    except ValueError:
        raise ShapeError(
            f"the leading axes (...) of {name_a} {a} and {name_b} {b} do not broadcast: "
            f"{la} against {lb}"
        ) from None


_INT64_MAX = 2**63 - 1


def check_positive_int(value: object, *, name: str, at_least: int = 1) -> int:
    """Return `value` if it is an integer >= `at_least` (default 1), else raise `ValueError` naming it.

    `2.0`, `"2"` and `True` are refused, and so is an integer beyond int64 (an array axis of
    that length cannot exist, and numpy would raise `OverflowError` deep inside).

    Examples:
        >>> check_positive_int(3, name="r")
        3
        >>> check_positive_int(2.0, name="r")
        Traceback (most recent call last):
        ...
        ValueError: r must be a positive integer; got 2.0
    """
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        n = int(value)
        if at_least <= n <= _INT64_MAX:
            return n
        if n > _INT64_MAX:  # no array axis, count or index can be this long
            raise ValueError(f"{name} must be at most 2**63 - 1; got {_what(value)}")
    kind = "a positive integer" if at_least == 1 else f"an integer >= {at_least}"
    raise ValueError(f"{name} must be {kind}; got {_what(value)}")


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
    temperature belongs is a bug, not a request for τ = 1. NaN and infinity are refused too, and
    so is an integer too large for float64.

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
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number{bounds}; got {_what(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(
            f"{name} must be a finite number{bounds}; got an integer too large for float64: "
            f"{_what(value)}"
        ) from None
    in_bounds = (
        (above is None or x > above)
        and (at_least is None or x >= at_least)
        and (at_most is None or x <= at_most)
    )
    if not (math.isfinite(x) and in_bounds):
        raise ValueError(f"{name} must be a finite number{bounds}; got {value!r}")
    return x


C = TypeVar("C", bound=tuple[Any, ...])


def check_cache(cache: object, kind: type[C], *, name: str = "cache") -> C:
    """Return `cache` as the NamedTuple `kind` a forward pass returned (a plain tuple of the
    right length is accepted and converted), else raise naming `name`.

    Examples:
        >>> from typing import NamedTuple
        >>> class Pair(NamedTuple):
        ...     a: int
        ...     b: int
        >>> check_cache((1, 2), Pair)
        Pair(a=1, b=2)
    """
    if isinstance(cache, kind):
        return cache
    fields = getattr(kind, "_fields", ())
    if isinstance(cache, tuple) and len(cache) == len(fields):
        return kind(*cache)
    raise ValueError(
        f"{name} must be the {kind.__name__} returned by the forward pass; "
        f"got {type(cache).__name__}"
    )


def check_choice(value: object, *, name: str, choices: Sequence[str]) -> str:
    """Return `value` if it is one of the strings `choices`, else raise naming `name`.

    Examples:
        >>> check_choice("bits", name="unit", choices=("nats", "bits"))
        'bits'
    """
    if not isinstance(value, str) or value not in choices:
        options = " or ".join(f'"{c}"' for c in choices)
        raise ValueError(f"{name} must be {options}; got {_what(value)}")
    return value


def check_bool(value: object, *, name: str) -> bool:
    """Return `value` if it is `True` or `False` (a string such as `"no"` is truthy: refused).

    Examples:
        >>> check_bool(False, name="replace")
        False
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {_what(value)}")
    return bool(value)


def check_rng(rng: object, *, name: str = "rng") -> np.random.Generator:
    """Return `rng` if it is a `numpy.random.Generator` (randomness is always passed in).

    Examples:
        >>> check_rng(3)
        Traceback (most recent call last):
        ...
        ValueError: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)); got int
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_size(size: object, *, name: str = "size") -> tuple[int, ...]:
    """Return a sample `size` (`None`, a positive int or a tuple of them) as a tuple of axes.

    `2.5`, `"3"` and `True` are refused rather than rounded, parsed or read as 1.

    Examples:
        >>> check_size(None), check_size(3), check_size((2, 3))
        ((), (3,), (2, 3))
    """
    if size is None:
        return ()
    items = size if isinstance(size, tuple) else (size,)
    try:
        return tuple(check_positive_int(s, name=name) for s in items)
    except ValueError:
        raise ValueError(
            f"{name} must be None, a positive integer or a tuple of them; got {_what(size)}"
        ) from None


def check_tokens(sentence: object, *, name: str) -> list[str]:
    """Return one sentence as a list of tokens: a string split on spaces, or a sequence of strings.

    Examples:
        >>> check_tokens("the cat", name="sentence"), check_tokens(["a", "b"], name="sentence")
        (['the', 'cat'], ['a', 'b'])
    """
    if isinstance(sentence, str):
        return sentence.split()
    if isinstance(sentence, Sequence) and not isinstance(sentence, bytes):
        bad = [t for t in sentence if not isinstance(t, str)]
        if not bad:
            return list(sentence)
        raise ValueError(
            f"{name} must be a string or a sequence of strings; got token {_what(bad[0])}"
        )
    raise ValueError(f"{name} must be a string or a sequence of strings; got {_what(sentence)}")


def check_sentences(sentences: object, *, name: str) -> list[list[str]]:
    """Return a corpus as a list of token lists, refusing a bare string and an empty corpus.

    A bare string is iterable, one character at a time, so `fit("the cat")` would silently train
    on the "sentences" `t`, `h`, `e`, ...: it is refused with a hint to wrap it in a list.

    Examples:
        >>> check_sentences(["a b", ["c"]], name="sentences")
        [['a', 'b'], ['c']]
        >>> check_sentences("a b", name="sentences")
        Traceback (most recent call last):
        ...
        ValueError: sentences must be a list of sentences, not one string: write ['a b']
    """
    if isinstance(sentences, str | bytes):
        raise ValueError(
            f"{name} must be a list of sentences, not one string: write [{_what(sentences)}]"
        )
    if not isinstance(sentences, Iterable):
        raise ValueError(f"{name} must be a list of sentences; got {_what(sentences)}")
    corpus = [check_tokens(s, name=f"every sentence in {name}") for s in sentences]
    if not corpus:
        raise ValueError(f"{name} must contain at least one sentence; got none")
    return corpus


def check_text(text: object, *, name: str = "text") -> str:
    r"""Return `text` if it is a `str` that UTF-8 can encode, else raise `ValueError` naming it.

    `bytes` are refused (decode them first: a tokenizer's input is text), and so is a string
    holding a lone surrogate such as `"\ud800"`, which is no Unicode text and has no UTF-8 form.

    Examples:
        >>> check_text(b"abc")
        Traceback (most recent call last):
        ...
        ValueError: text must be a str; got bytes: decode them first, e.g. b.decode()
    """
    if isinstance(text, bytes | bytearray):
        raise ValueError(f"{name} must be a str; got bytes: decode them first, e.g. b.decode()")
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a str; got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name} is not valid Unicode text: lone surrogate U+{ord(text[exc.start]):04X} at "
            f"index {exc.start} (e.g. from undecodable bytes) has no UTF-8 form"
        ) from None
    return text


# --- floating-point overflow ------------------------------------------------------------------

_GUARDED = contextvars.ContextVar("llmath_guarded", default=False)
# Validate once at the public entry, not in every inner call: a function marked `@vouches`
# checks every float array it hands to the llmath functions it calls (or computes it from
# checked ones, and guard turns overflow and NaN-making operations into errors), so inside
# it as_float_array skips the finiteness scan of float64 arrays. Types and shapes are
# still checked.
_TRUSTED = contextvars.ContextVar("llmath_trusted", default=False)  # args were checked
_VOUCH = contextvars.ContextVar("llmath_vouch", default=False)  # the caller checked them


def vouches(func: Callable[P, R]) -> Callable[P, R]:
    """Mark `func` as validating every float array it passes on; apply below `@guard`.

    Examples:
        >>> @guard
        ... @vouches
        ... def total(x):
        ...     return float(np.sum(as_float_array(x, name="x", expected="(N,)")))
        >>> total([1.0, 2.0])
        3.0
    """
    func.__llmath_vouches__ = True  # type: ignore[attr-defined]
    return func


def _extremes(arguments: dict[str, Any]) -> str:
    """Name the numeric arguments with the most extreme magnitude, for an overflow message."""
    found: list[tuple[float, str]] = []
    for arg, value in arguments.items():
        if callable(value) or isinstance(value, str | bytes):
            continue
        try:
            a = np.abs(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError, OverflowError):
            continue
        a = a[np.isfinite(a) & (a > 0)]
        if a.size:
            big, small = float(a.max()), float(a.min())
            found.append((math.log10(big), f"max |{arg}| = {big:.3g}"))
            found.append((-math.log10(small), f"min nonzero |{arg}| = {small:.3g}"))
    found.sort(reverse=True)
    extreme = [text for score, text in found if score >= 100][:2]  # beyond 1e100 or 1e-100
    return "; ".join(extreme or [text for _, text in found[:1]]) or "no numeric arguments"


def guard(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with float overflow raised, reported as a `ValueError` naming the extreme argument.

    Inside, numpy's overflow, invalid operation (`inf - inf`, `0 * inf`) and division by zero
    raise instead of warning; code that expects one (`log 0 = -inf`) says so with its own
    `numpy.errstate`. Only the outermost guarded call converts the error, so a function that
    calls another names its own arguments, not its helper's.

    Examples:
        >>> @guard
        ... def square(x):
        ...     return np.asarray(x, dtype=np.float64) ** 2
        >>> square([1e200])
        Traceback (most recent call last):
        ...
        ValueError: square: the result overflows float64 (overflow encountered in square); max |x| = 1e+200
    """
    signature = inspect.signature(func)
    vouch = bool(getattr(func, "__llmath_vouches__", False))

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if _GUARDED.get():
            trusted = _VOUCH.get()  # the caller vouches for these arguments
            t1, t2 = _TRUSTED.set(trusted), _VOUCH.set(trusted or vouch)
            try:
                return func(*args, **kwargs)
            finally:
                _TRUSTED.reset(t1)
                _VOUCH.reset(t2)
        token = _GUARDED.set(True)
        t1, t2 = _TRUSTED.set(False), _VOUCH.set(vouch)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                return func(*args, **kwargs)
        except FloatingPointError as exc:
            try:
                bound = signature.bind(*args, **kwargs).arguments
            except TypeError:  # pragma: no cover - func itself would have raised first
                bound = {}
            raise ValueError(
                f"{func.__name__}: the result overflows float64 ({exc}); {_extremes(bound)}"
            ) from None
        finally:
            _GUARDED.reset(token)
            _TRUSTED.reset(t1)
            _VOUCH.reset(t2)

    return guarded
