"""Calling the caller's model function, shared by beam search and speculative decoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["call_model"]


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
