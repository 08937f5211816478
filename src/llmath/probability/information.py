r"""Entropy, cross-entropy, KL divergence and mutual information of discrete distributions.

A distribution is a float64 array whose *last* axis holds the probabilities, shape `(..., nV)`.
Every quantity is reported in an explicit unit: `"nats"` (natural log) or `"bits"` (log base 2);
one bit is $\ln 2 \approx 0.6931$ nats. The convention $0 \log 0 = 0$ holds throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_choice, check_real, guard

__all__ = [
    "check_distribution",
    "cross_entropy_dist",
    "entropy",
    "kl_divergence",
    "mutual_information",
]

Array = NDArray[np.float64]

_LOGS = {"nats": np.log, "bits": np.log2}


def _unit_log(unit: object) -> np.ufunc:
    """Return the logarithm that measures in `unit`: `np.log` for nats, `np.log2` for bits."""
    return _LOGS[check_choice(unit, name="unit", choices=tuple(_LOGS))]


def _reduce(x: Array) -> Array | float:
    """Return a 0-d result as a Python float, anything else unchanged."""
    return float(x) if x.ndim == 0 else x


@guard
# --8<-- [start:check]
def check_distribution(p: ArrayLike, *, name: str = "p", atol: float = 1e-9) -> Array:
    # --8<-- [end:check]
    r"""Check that `p` holds probability distributions along its last axis and return it.

    Each slice `p[..., :]` must satisfy $p_i \ge 0$ and $\left|\sum_i p_i - 1\right| \le$
    `atol`. Since the sum should be 1, the tolerance is both absolute and relative.

    Args:
        p: probabilities, shape `(..., nV)` with `nV >= 1`. Not mutated.
        name: the argument's name, used in error messages.
        atol: how far each sum may be from 1 (keyword-only, default `1e-9`), a finite
            number $\ge 0$.

    Returns:
        `p` as a float64 array, same shape `(..., nV)`.

    Raises:
        ShapeError: if `p` is a scalar or empty.
        ValueError: if `p` does not hold real numbers, contains NaN or infinity, has a negative
            entry, or a slice does not sum to 1 within `atol`; the message names the first
            offending value. Also if `atol` is NaN, infinite or negative, or `name` is not a
            string.

    Examples:
        >>> check_distribution([0.25, 0.75])
        array([0.25, 0.75])
        >>> check_distribution([0.5, 0.6], name="q")
        Traceback (most recent call last):
        ...
        ValueError: q must sum to 1 along its last axis (within 1e-09); got a sum of 1.1 at index ()
    """
    # --8<-- [start:check-body]
    if not isinstance(name, str):
        raise ValueError(f"name must be a string; got {name!r:.60}")
    atol = check_real(atol, name="atol", at_least=0)
    arr = as_float_array(p, name=name, expected="(..., nV)", min_ndim=1)
    if (arr < 0).any():
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative; got {arr[where]!r} at index {where}")
    sums = arr.sum(axis=-1)  # a sum overflowing float64 is caught by @guard, naming p
    off = np.abs(sums - 1.0) > atol
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0]) if sums.ndim else ()
        raise ValueError(
            f"{name} must sum to 1 along its last axis (within {atol:g}); "
            f"got a sum of {float(sums[where])!r} at index {where}"
        )
    return arr
    # --8<-- [end:check-body]


@overload
def entropy(p: Sequence[float], *, unit: str = ...) -> float: ...
@overload
def entropy(p: Sequence[Sequence[float]], *, unit: str = ...) -> Array: ...
@overload
def entropy(p: ArrayLike, *, unit: str = ...) -> Any: ...  # float for 1-D, else an array


@guard
# --8<-- [start:entropy]
def entropy(p: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:entropy]
    r"""Return the Shannon entropy of each distribution along the last axis.

    $$
    H(p) = -\sum_{i=1}^{n_V} p_i \log p_i , \qquad 0 \log 0 = 0 ,
    $$

    with $\log = \ln$ for nats and $\log_2$ for bits. Zero entries are skipped rather than
    evaluated, because `0 * log(0)` is `nan` in floating point.

    Args:
        p: probabilities, shape `(..., nV)`.
        unit: `"nats"` or `"bits"` (keyword-only).

    Returns:
        The entropy, shape `(...)`; a Python float when `p` is 1-D. Between 0 (one-hot) and
            $\log n_V$ (uniform).

    Raises:
        ValueError: if `p` is not a distribution (see `check_distribution`) or `unit` is unknown.

    Examples:
        >>> entropy([0.5, 0.5], unit="bits")
        1.0
        >>> entropy([1.0, 0.0, 0.0])
        0.0
    """
    # --8<-- [start:entropy-body]
    log = _unit_log(unit)
    p = check_distribution(p)
    safe = np.where(p > 0, p, 1.0)  # log(1) = 0 stands in for the 0 log 0 terms
    h = -np.sum(p * log(safe), axis=-1)  # (...)
    return _reduce(h + 0.0)  # + 0.0 turns -0.0 into 0.0
    # --8<-- [end:entropy-body]


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[Array, Array]:
    p = check_distribution(p, name="p")
    q = check_distribution(q, name="q")
    if p.shape[-1] != q.shape[-1]:
        raise ShapeError(
            f"p and q must have the same last axis nV; got shapes {p.shape} and {q.shape}"
        )
    try:
        np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ShapeError(f"p and q must broadcast; got shapes {p.shape} and {q.shape}") from None
    return p, q


@overload
def cross_entropy_dist(p: Sequence[float], q: Sequence[float], *, unit: str = ...) -> float: ...
@overload
def cross_entropy_dist(p: ArrayLike, q: ArrayLike, *, unit: str = ...) -> Any: ...


@guard
# --8<-- [start:cross]
def cross_entropy_dist(
    p: ArrayLike,
    q: ArrayLike,
    *,
    unit: str = "nats",
) -> Array | float:
    # --8<-- [end:cross]
    r"""Return the cross-entropy $H(p, q)$: the mean code length of $p$-data under a $q$-code.

    $$
    H(p, q) = -\sum_{i=1}^{n_V} p_i \log q_i ,
    $$

    skipping terms with $p_i = 0$. It is $+\infty$ when some $q_i = 0$ while $p_i > 0$.

    Args:
        p: the data distribution, shape `(..., nV)`.
        q: the model distribution, shape `(..., nV)`; leading axes broadcast against `p`'s.
        unit: `"nats"` or `"bits"` (keyword-only).

    Returns:
        $H(p, q) \ge H(p)$, shape the broadcast of the leading axes; a float for 1-D inputs.

    Raises:
        ValueError: if `p` or `q` is not a distribution, the shapes do not match, or `unit` is
            unknown.

    Examples:
        >>> cross_entropy_dist([1.0, 0.0], [0.5, 0.5], unit="bits")
        1.0
        >>> cross_entropy_dist([0.5, 0.5], [1.0, 0.0])
        inf
    """
    # --8<-- [start:cross-body]
    log = _unit_log(unit)
    p, q = _pair(p, q)
    used = np.broadcast_to(p > 0, np.broadcast_shapes(p.shape, q.shape))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer where p > 0
        log_q = log(q)
    terms = np.where(used, -p * np.where(used, log_q, 0.0), 0.0)  # 0 where p = 0
    return _reduce(np.sum(terms, axis=-1) + 0.0)
    # --8<-- [end:cross-body]


@overload
def kl_divergence(p: Sequence[float], q: Sequence[float], *, unit: str = ...) -> float: ...
@overload
def kl_divergence(p: ArrayLike, q: ArrayLike, *, unit: str = ...) -> Any: ...


@guard
# --8<-- [start:kl]
def kl_divergence(p: ArrayLike, q: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:kl]
    r"""Return the Kullback-Leibler divergence $\mathrm{KL}(p \,\|\, q)$.

    $$
    \mathrm{KL}(p \,\|\, q) = \sum_{i=1}^{n_V} p_i \log \frac{p_i}{q_i} = H(p, q) - H(p) ,
    $$

    skipping terms with $p_i = 0$; $+\infty$ when some $q_i = 0$ while $p_i > 0$. Each term is
    computed as $p_i(\log p_i - \log q_i)$, so $\mathrm{KL}(p \,\|\, p)$ is exactly 0; when
    $q \ne p$ are very close, rounding can leave a result of order $-10^{-16}$.

    Args:
        p: the first distribution, shape `(..., nV)`.
        q: the second distribution, shape `(..., nV)`; leading axes broadcast against `p`'s.
        unit: `"nats"` or `"bits"` (keyword-only).

    Returns:
        $\mathrm{KL}(p \,\|\, q) \ge 0$, shape the broadcast of the leading axes; a float for
            1-D inputs. Not symmetric in `p` and `q`.

    Raises:
        ValueError: if `p` or `q` is not a distribution, the shapes do not match, or `unit` is
            unknown.

    Examples:
        >>> round(kl_divergence([0.5, 0.5], [0.9, 0.1], unit="bits"), 4)
        0.737
        >>> round(kl_divergence([0.9, 0.1], [0.5, 0.5], unit="bits"), 4)
        0.531
    """
    # --8<-- [start:kl-body]
    log = _unit_log(unit)
    p, q = _pair(p, q)
    used = np.broadcast_to(p > 0, np.broadcast_shapes(p.shape, q.shape))
    with np.errstate(divide="ignore"):
        log_q = log(q)
    log_p = log(np.where(p > 0, p, 1.0))
    terms = np.where(used, p * (log_p - np.where(used, log_q, 0.0)), 0.0)
    return _reduce(np.sum(terms, axis=-1) + 0.0)
    # --8<-- [end:kl-body]


@guard
# --8<-- [start:mi]
def mutual_information(joint: ArrayLike, *, unit: str = "nats") -> float:
    # --8<-- [end:mi]
    r"""Return the mutual information $I(X; Y)$ of a joint probability table.

    $$
    I(X; Y) = \mathrm{KL}\big(p(x, y) \,\big\|\, p(x)\,p(y)\big)
    = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)\,p(y)} = H(X) - H(X \mid Y) .
    $$

    Args:
        joint: the table $p(x, y)$, shape `(N, M)` (rows are values of $X$, columns of $Y$),
            non-negative and summing to 1 over the whole table.
        unit: `"nats"` or `"bits"` (keyword-only).

    Returns:
        $I(X; Y)$, between 0 (independent) and $\min(H(X), H(Y))$.

    Raises:
        ShapeError: if `joint` is not 2-D.
        ValueError: if `joint` is not a probability table or `unit` is unknown.

    Examples:
        >>> mutual_information([[0.5, 0.0], [0.0, 0.5]], unit="bits")
        1.0
        >>> mutual_information([[0.25, 0.25], [0.25, 0.25]])
        0.0
    """
    # --8<-- [start:mi-body]
    _unit_log(unit)  # reject an unknown unit before any work
    table = as_float_array(joint, name="joint", expected="(N, M)", ndim=2)
    table = check_distribution(table.reshape(-1), name="joint").reshape(table.shape)
    independent = np.outer(table.sum(axis=1), table.sum(axis=0))  # (N, M): p(x) p(y)
    return float(kl_divergence(table.reshape(-1), independent.reshape(-1), unit=unit))
    # --8<-- [end:mi-body]
