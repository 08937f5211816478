"""Calling the caller's model function, and checking what goes in: shared by beam search and
speculative decoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from llmath._checks import as_int_array

__all__ = ["call_model", "check_model", "check_prefix_in_range", "prefix_ids"]


def check_model(fn: object, name: str) -> None:
    """Raise a ValueError naming `name` unless `fn` can be called."""
    if not callable(fn):
        raise ValueError(f"{name} must be a function; got {type(fn).__name__}")


def prefix_ids(prefix: ArrayLike) -> list[int]:
    """The ids of one sequence, shape `(T,)` (possibly empty), as a list of ints."""
    ids: list[int] = (
        as_int_array(prefix, name="prefix", expected="(T,)", allow_empty=True).ravel().tolist()
    )
    if np.ndim(prefix) > 1:
        raise ValueError(f"prefix must be one sequence of ids, shape (T,); got {np.shape(prefix)}")
    return ids


def check_prefix_in_range(ids: list[int], nV: int) -> None:
    """Raise a ValueError unless every id is below the vocabulary size `nV` the model showed."""
    if ids and max(ids) >= nV:
        raise ValueError(f"prefix must lie in [0, nV) = [0, {nV}); got max {max(ids)}")


def call_model(fn: Callable[[Sequence[int]], ArrayLike], ids: list[int], name: str) -> ArrayLike:
    """Return `fn(ids)` on a copy of `ids`; a failure inside it becomes a ValueError naming `name`.

    The caller's code runs under numpy's default error handling, not the book's `guard`.
    """
    try:
        with np.errstate(all="warn", under="ignore"):  # numpy's defaults for the caller's code
            return fn(list(ids))
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} failed on the ids {ids} (the prefix, then the generated tokens): "
            f"{type(exc).__name__}: {exc}"
        ) from None
