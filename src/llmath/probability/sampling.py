r"""Decoding: greedy, temperature, top-$k$ and top-$p$ (nucleus) filtering, and sampling.

Every function works on the last axis, shape `(..., nV)`, and treats leading axes as a batch.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    as_float_array,
    check_real,
    check_rng,
    check_size,
    guard,
)
from llmath.attention.softmax import softmax
from llmath.probability.information import check_distribution

__all__ = ["apply_temperature", "greedy", "sample", "top_k_filter", "top_p_filter"]

_P_TOL = 1e-12  # top-p: a prefix whose mass is within this of p counts as reaching p


def _ranks(probs: NDArray[np.float64]) -> NDArray[np.intp]:
    """Rank of each entry in descending order along the last axis; ties: lower index first."""
    order = np.argsort(-probs, axis=-1, kind="stable")  # (..., nV): indices, largest first
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(probs.shape[-1]), axis=-1)  # (..., nV)
    return ranks


@guard
# --8<-- [start:temperature]
def apply_temperature(logits: ArrayLike, temperature: float) -> NDArray[np.float64]:
    # --8<-- [end:temperature]
    r"""Turn logits into probabilities at temperature $\tau$.

    $$
    p_i(\tau) = \operatorname{softmax}(z / \tau)_i = \frac{e^{z_i / \tau}}{\sum_j e^{z_j / \tau}}
    = \frac{e^{(z_i - m) / \tau}}{\sum_j e^{(z_j - m) / \tau}}, \qquad m = \max_j z_j .
    $$

    $\tau < 1$ sharpens the distribution, $\tau > 1$ flattens it. As $\tau \to 0^+$ it tends to
    the uniform distribution over the positions of the maximum (one-hot if the maximum is
    unique); as $\tau \to \infty$ to the uniform distribution. $\tau = 0$ itself is not a
    temperature (it divides by zero) and is rejected. The maximum is subtracted *before* dividing
    by $\tau$, so a tiny $\tau$ cannot overflow: the maxima become exactly 0 and every other entry a large
    negative number (clipped at the most negative float64, whose exponential is exactly 0).

    Args:
        logits: scores $z$, shape `(..., nV)`.
        temperature: $\tau > 0$, a finite real number.

    Returns:
        Probabilities, shape `(..., nV)`, summing to 1 along the last axis.

    Raises:
        ShapeError: if `logits` is a scalar or empty.
        ValueError: if `logits` is not a finite real array, or $\tau$ is not a finite
            number $> 0$.

    Examples:
        >>> apply_temperature([2.0, 1.0, 0.0], 1.0).round(4)
        array([0.6652, 0.2447, 0.09  ])
        >>> apply_temperature([2.0, 1.0, 0.0], 0.5).round(4)
        array([0.8668, 0.1173, 0.0159])
        >>> apply_temperature([2.0, 2.0, 0.0], 1e-3)
        array([0.5, 0.5, 0. ])
    """
    # --8<-- [start:temperature-body]
    z = as_float_array(logits, name="logits", expected="(..., nV)", min_ndim=1)
    tau = _check_temperature(temperature)
    # -1 / 1e-310 overflows to -inf: clipped just below
    with np.errstate(over="ignore"):
        shifted = z - z.max(axis=-1, keepdims=True)  # (..., nV): <= 0, maxima exactly 0
        scaled = np.maximum(shifted / tau, -np.finfo(np.float64).max)
    return softmax(scaled)  # (..., nV)
    # --8<-- [end:temperature-body]


def _check_temperature(temperature: object) -> float:
    real = isinstance(temperature, numbers.Real) and not isinstance(temperature, bool)
    if real and temperature == 0:
        raise ValueError(
            "temperature must be > 0; got 0, which divides by zero "
            "(tau -> 0 is a limit: use greedy(logits) for the argmax)"
        )
    return check_real(temperature, name="temperature", above=0)


@overload
def greedy(logits: Sequence[float]) -> int: ...
@overload
def greedy(logits: Sequence[Sequence[float]]) -> NDArray[np.int64]: ...
@overload
def greedy(logits: ArrayLike) -> Any: ...  # int for one vector (nV,), else an array


@guard
# --8<-- [start:greedy]
def greedy(logits: ArrayLike) -> int | NDArray[np.int64]:
    # --8<-- [end:greedy]
    r"""Pick the most likely token: $\hat{\imath} = \arg\max_i z_i$.

    Softmax and any temperature $\tau > 0$ are increasing in each logit, so the argmax of the
    logits is the argmax of the probabilities; `greedy` accepts either. Ties go to the lowest
    index (as `numpy.argmax`).

    Args:
        logits: scores or probabilities, shape `(..., nV)`.

    Returns:
        A Python `int` for a single vector `(nV,)`, else an int64 array of shape `(...)`.

    Raises:
        ShapeError: if `logits` is a scalar or empty.
        ValueError: if `logits` is not a finite real array.

    Examples:
        >>> greedy([0.1, 2.0, -1.0])
        1
        >>> greedy([[1.0, 1.0], [0.0, 3.0]])
        array([0, 1])
    """
    # --8<-- [start:greedy-body]
    z = as_float_array(logits, name="logits", expected="(..., nV)", min_ndim=1)
    idx = np.argmax(z, axis=-1)  # (...): the first maximum
    return int(idx) if idx.ndim == 0 else idx.astype(np.int64)
    # --8<-- [end:greedy-body]


@guard
# --8<-- [start:top-k]
def top_k_filter(probs: ArrayLike, k: int) -> NDArray[np.float64]:
    # --8<-- [end:top-k]
    r"""Keep the $k$ most probable tokens and renormalise.

    $$
    \tilde p_i = \frac{p_i \,[\,i \in S_k\,]}{\sum_{j \in S_k} p_j},
    $$

    where $S_k$ is the set of the $k$ largest $p_i$. Ties at the boundary are broken by keeping
    the lower index, so $|S_k| = k$ exactly (a stable sort, largest first). Because temperature
    does not change the order of the logits, $S_k$ is the same for every $\tau > 0$.

    Args:
        probs: a distribution over the last axis, shape `(..., nV)`.
        k: how many tokens to keep, an integer with $1 \le k \le n_V$.

    Returns:
        The filtered distribution, shape `(..., nV)`, with exactly $n_V - k$ zeros forced (entries
            that were already 0 may be among the kept ones).

    Raises:
        ValueError: if `probs` is not a distribution or `k` is not an integer in $[1, n_V]$.

    Examples:
        >>> top_k_filter([0.5, 0.2, 0.3], 2).round(4)
        array([0.625, 0.   , 0.375])
        >>> top_k_filter([0.4, 0.3, 0.3], 2)  # tie between indices 1 and 2: index 1 stays
        array([0.57142857, 0.42857143, 0.        ])
    """
    # --8<-- [start:top-k-body]
    p = check_distribution(probs, name="probs")  # (..., nV)
    nV = p.shape[-1]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= nV:
        raise ValueError(
            f"k must be an integer with 1 <= k <= nV = {nV}; got {k!r:.40}",
        )
    keep = _ranks(p) < k  # (..., nV): True for the k largest
    kept = np.where(keep, p, 0.0)
    out: NDArray[np.float64] = kept / kept.sum(axis=-1, keepdims=True)  # (..., nV)
    return out
    # --8<-- [end:top-k-body]


@guard
# --8<-- [start:top-p]
def top_p_filter(probs: ArrayLike, p: float) -> NDArray[np.float64]:
    # --8<-- [end:top-p]
    r"""Keep the smallest set of most probable tokens whose mass reaches $p$, and renormalise.

    Sort the probabilities in decreasing order, $p_{(1)} \ge p_{(2)} \ge \dots$, and keep the
    first $k$ where

    $$
    k = \min\Big\{ k' : \sum_{r=1}^{k'} p_{(r)} \ge p \Big\}
    \quad\Longleftrightarrow\quad
    \text{token } (r) \text{ is kept iff } \sum_{r' < r} p_{(r')} < p .
    $$

    The kept mass is **at least** $p$, usually more, and $k$ adapts to the shape of the
    distribution (Holtzman et al., 2020, "The Curious Case of Neural Text Degeneration",
    section 3.1). Ties are ordered by lower index first, as in `top_k_filter`. The comparison
    allows for rounding: a prefix whose float64 mass is within $10^{-12}$ of $p$ counts as
    reaching it (the running sum of eight 0.1s is 0.7999999999999999, which must not cost a
    ninth token at $p = 0.8$). $p = 1$ returns the distribution unchanged.

    Args:
        probs: a distribution over the last axis, shape `(..., nV)`.
        p: the mass to reach, $0 < p \le 1$.

    Returns:
        The filtered distribution, shape `(..., nV)`.

    Raises:
        ValueError: if `probs` is not a distribution or `p` is not a number in $(0, 1]$.

    Examples:
        >>> top_p_filter([0.1, 0.6, 0.3], 0.7).round(4)  # 0.6 < 0.7, 0.6 + 0.3 >= 0.7
        array([0.    , 0.6667, 0.3333])
        >>> top_p_filter([0.1, 0.6, 0.3], 0.5).round(4)  # 0.6 alone already reaches 0.5
        array([0., 1., 0.])
    """
    # --8<-- [start:top-p-body]
    q = check_distribution(probs, name="probs")  # (..., nV)
    p = check_real(p, name="p", above=0, at_most=1)
    if p == 1:
        whole: NDArray[np.float64] = q / q.sum(axis=-1, keepdims=True)  # (..., nV)
        return whole
    order = np.argsort(-q, axis=-1, kind="stable")  # (..., nV): largest first
    sorted_q = np.take_along_axis(q, order, axis=-1)  # (..., nV)
    before = np.cumsum(sorted_q, axis=-1) - sorted_q  # mass strictly ahead of a token
    keep_sorted = before < p - _P_TOL  # (..., nV)
    keep_sorted[..., 0] = True  # the most probable token is always kept
    keep = np.empty_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)  # back to token order
    kept = np.where(keep, q, 0.0)
    out: NDArray[np.float64] = kept / kept.sum(axis=-1, keepdims=True)  # (..., nV)
    return out
    # --8<-- [end:top-p-body]


@overload
def sample(probs: Sequence[float], rng: np.random.Generator, *, size: None = None) -> int: ...
@overload
def sample(
    probs: ArrayLike, rng: np.random.Generator, *, size: int | tuple[int, ...]
) -> NDArray[np.int64]: ...
@overload
def sample(
    probs: ArrayLike, rng: np.random.Generator, *, size: None = None
) -> Any: ...  # int for one distribution (nV,), else an array


@guard
# --8<-- [start:sample]
def sample(
    probs: ArrayLike,
    rng: np.random.Generator,
    *,
    size: int | tuple[int, ...] | None = None,
) -> int | NDArray[np.int64]:
    # --8<-- [end:sample]
    r"""Draw token ids from a distribution by inverting its cumulative distribution function.

    With $F_i = \sum_{j \le i} p_j$ ($F_{-1} = 0$) and $U$ uniform on $[0, 1)$, return

    $$
    I = \min\{ i : U < F_i \}, \qquad
    P(I = i) = P(F_{i-1} \le U < F_i) = F_i - F_{i-1} = p_i .
    $$

    A token with $p_i = 0$ has an empty interval and is never drawn. $F$ is divided by its last
    entry so that $F_{n_V-1} = 1$ exactly and rounding cannot push $U$ past the end. $U$ comes
    from `rng.random`; no global random state is touched.

    Args:
        probs: a distribution over the last axis, shape `(..., nV)`.
        rng: a `numpy.random.Generator`, e.g. `numpy.random.default_rng(0)`.
        size: how many independent draws per distribution: `None` for one, a positive int `n`
            or a tuple of them (not `2.5`, `"3"` or `True`).

    Returns:
        Token ids in $[0, n_V)$: a Python `int` when `probs` has shape `(nV,)` and `size` is
            `None`; otherwise an int64 array of shape `size + (...)` (the draws' axes first, then
            the batch axes of `probs`).

    Raises:
        ValueError: if `probs` is not a distribution, `rng` is not a
            `numpy.random.Generator`, or `size` is not `None`, a positive int or a tuple of them.

    Examples:
        >>> import numpy as np
        >>> sample([0.0, 1.0, 0.0], np.random.default_rng(0))
        1
        >>> sample([[1.0, 0.0], [0.0, 1.0]], np.random.default_rng(0), size=3)
        array([[0, 1],
               [0, 1],
               [0, 1]])
    """
    # --8<-- [start:sample-body]
    rng = check_rng(rng)
    q = check_distribution(probs, name="probs")  # (..., nV)
    batch = q.shape[:-1]
    draws = check_size(size)  # () for one draw, (n,), (n, m), ...
    F = np.cumsum(q.reshape(-1, q.shape[-1]), axis=-1)  # (N, nV), N = prod(batch)
    F /= F[:, -1:]  # F_{nV-1} = 1 exactly
    u = rng.random((*draws, F.shape[0]))  # (*size, N), uniform on [0, 1)
    ids = np.empty(u.shape, dtype=np.int64)
    for n in range(F.shape[0]):
        # side="right": the number of F_i <= u, i.e. min{i : u < F_i}
        ids[..., n] = np.searchsorted(F[n], u[..., n], side="right")
    ids = ids.reshape((*draws, *batch))  # (*size, ...)
    return int(ids) if ids.ndim == 0 else ids
    # --8<-- [end:sample-body]
