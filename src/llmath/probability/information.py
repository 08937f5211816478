r"""Entropy, cross-entropy, KL divergence and mutual information of discrete distributions.

A distribution is a float64 array whose *last* axis holds the probabilities, shape `(..., V)`.
Every quantity is reported in an explicit unit: `"nats"` (natural log) or `"bits"` (log base 2);
one bit is $\ln 2 \approx 0.6931$ nats. The convention $0 \log 0 = 0$ holds throughout.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError

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
    if not isinstance(unit, str) or unit not in _LOGS:
        raise ValueError(f'unit must be "nats" or "bits"; got {unit!r}')
    return _LOGS[unit]


def _reduce(x: Array) -> Array | float:
    """Return a 0-d result as a Python float, anything else unchanged."""
    return float(x) if x.ndim == 0 else x


# --8<-- [start:check]
def check_distribution(p: ArrayLike, *, name: str = "p", atol: float = 1e-9) -> Array:
    # --8<-- [end:check]
    r"""Check that `p` holds probability distributions along its last axis and return it.

    Each slice `p[..., :]` must satisfy $p_i \ge 0$ and $\left|\sum_i p_i - 1\right| \le$
    `atol`. Since the sum should be 1, the tolerance is both absolute and relative.

    Args:
        p: probabilities, shape `(..., V)` with `V >= 1`. Not mutated.
        name: the argument's name, used in error messages.
        atol: how far each sum may be from 1 (keyword-only, default `1e-9`).

    Returns:
        `p` as a float64 array, same shape `(..., V)`.

    Raises:
        ShapeError: if `p` is a scalar or its last axis is empty.
        ValueError: if `p` is not numeric, contains NaN or infinity, has a negative entry, or a
            slice does not sum to 1 within `atol`; the message names the first offending value.

    Examples:
        >>> check_distribution([0.25, 0.75])
        array([0.25, 0.75])
        >>> check_distribution([0.5, 0.6], name="q")
        Traceback (most recent call last):
        ...
        ValueError: q must sum to 1 along its last axis (within 1e-09); got a sum of 1.1 at index ()
    """
    # --8<-- [start:check-body]
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (..., V): {exc}") from None
    if arr.ndim == 0:
        raise ShapeError(f"{name} must have shape (..., V) (at least 1 axis); got a scalar")
    if arr.shape[-1] == 0:
        raise ShapeError(f"{name} must have shape (..., V) with V >= 1; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite; got {arr[where]} at index {where}")
    if (arr < 0).any():
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative; got {arr[where]!r} at index {where}")
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > atol
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0]) if sums.ndim else ()
        raise ValueError(
            f"{name} must sum to 1 along its last axis (within {atol:g}); "
            f"got a sum of {float(sums[where])!r} at index {where}"
        )
    return arr
    # --8<-- [end:check-body]


# --8<-- [start:entropy]
def entropy(p: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:entropy]
    r"""Return the Shannon entropy of each distribution along the last axis.

    $$
    H(p) = -\sum_{i=1}^{V} p_i \log p_i , \qquad 0 \log 0 = 0 ,
    $$

    with $\log = \ln$ for nats and $\log_2$ for bits. Zero entries are skipped rather than
    evaluated, because `0 * log(0)` is `nan` in floating point.

    Args:
        p: probabilities, shape `(..., V)`.
        unit: `"nats"` or `"bits"` (keyword-only).

    Returns:
        The entropy, shape `(...)`; a Python float when `p` is 1-D. Between 0 (one-hot) and
            $\log V$ (uniform).

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
            f"p and q must have the same last axis V; got shapes {p.shape} and {q.shape}"
        )
    try:
        np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ShapeError(f"p and q must broadcast; got shapes {p.shape} and {q.shape}") from None
    return p, q


# --8<-- [start:cross]
def cross_entropy_dist(p: ArrayLike, q: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:cross]
    r"""Return the cross-entropy $H(p, q)$: the mean code length of $p$-data under a $q$-code.

    $$
    H(p, q) = -\sum_{i=1}^{V} p_i \log q_i ,
    $$

    skipping terms with $p_i = 0$. It is $+\infty$ when some $q_i = 0$ while $p_i > 0$.

    Args:
        p: the data distribution, shape `(..., V)`.
        q: the model distribution, shape `(..., V)`; leading axes broadcast against `p`'s.
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


# --8<-- [start:kl]
def kl_divergence(p: ArrayLike, q: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:kl]
    r"""Return the Kullback-Leibler divergence $\mathrm{KL}(p \,\|\, q)$.

    $$
    \mathrm{KL}(p \,\|\, q) = \sum_{i=1}^{V} p_i \log \frac{p_i}{q_i} = H(p, q) - H(p) ,
    $$

    skipping terms with $p_i = 0$; $+\infty$ when some $q_i = 0$ while $p_i > 0$. Each term is
    computed as $p_i(\log p_i - \log q_i)$, so $\mathrm{KL}(p \,\|\, p)$ is exactly 0; when
    $q \ne p$ are very close, rounding can leave a result of order $-10^{-16}$.

    Args:
        p: the first distribution, shape `(..., V)`.
        q: the second distribution, shape `(..., V)`; leading axes broadcast against `p`'s.
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
    if np.ndim(joint) != 2:
        raise ShapeError(f"joint must have shape (N, M); got shape {np.shape(joint)}")
    table = check_distribution(np.reshape(joint, -1), name="joint").reshape(np.shape(joint))
    independent = np.outer(table.sum(axis=1), table.sum(axis=0))  # (N, M): p(x) p(y)
    return float(kl_divergence(table.reshape(-1), independent.reshape(-1), unit=unit))
    # --8<-- [end:mi-body]
