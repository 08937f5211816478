r"""Discrete random variables, their moments, and the error of a minibatch mean.

A discrete random variable here is a pair `(values, probs)`: the values it takes, shape `(nV,)`,
and their probabilities, shape `(..., nV)`, summing to 1 along the last axis. A finite dataset of
`N` per-example numbers (losses, gradient entries) is the special case of `N` equally likely
values, and a minibatch is a sample of `B` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    check_bool,
    check_positive_int,
    check_rng,
    guard,
)
from llmath.probability.information import check_distribution

__all__ = ["expectation", "minibatch_mean_variance", "minibatch_means", "variance"]

Array = NDArray[np.float64]


def _values_and_probs(values: ArrayLike, probs: ArrayLike) -> tuple[Array, Array]:
    x = as_float_array(values, name="values", expected="(nV,)", ndim=1)
    p = check_distribution(probs, name="probs")
    if p.shape[-1] != x.shape[0]:
        raise ShapeError(
            f"probs must have shape (..., nV) with nV = len(values) = {x.shape[0]}; "
            f"got shape {p.shape}"
        )
    return x, p


@overload
def expectation(values: ArrayLike, probs: Sequence[float]) -> float: ...
@overload
def expectation(values: ArrayLike, probs: ArrayLike) -> Any: ...  # float for 1-D probs


@guard
# --8<-- [start:expectation]
def expectation(values: ArrayLike, probs: ArrayLike) -> Array | float:
    # --8<-- [end:expectation]
    r"""Return the expectation $\mathbb{E}[X] = \sum_i p_i x_i$ of a discrete random variable.

    Args:
        values: the values $x_i$ the variable takes, shape `(nV,)`.
        probs: their probabilities $p_i$, shape `(..., nV)`, each row a distribution.

    Returns:
        The expectation, shape `(...)`; a Python float when `probs` is 1-D.

    Raises:
        ShapeError: if `values` is not 1-D or `probs` does not end in `nV`.
        ValueError: if `probs` is not a distribution or an input contains NaN or infinity.

    Examples:
        >>> expectation([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6))
        3.5
    """
    # --8<-- [start:expectation-body]
    x, p = _values_and_probs(values, probs)
    mean = p @ x  # (...): sum_i p_i x_i
    return float(mean) if mean.ndim == 0 else mean
    # --8<-- [end:expectation-body]


@overload
def variance(values: ArrayLike, probs: Sequence[float]) -> float: ...
@overload
def variance(values: ArrayLike, probs: ArrayLike) -> Any: ...  # float for 1-D probs


@guard
# --8<-- [start:variance]
def variance(values: ArrayLike, probs: ArrayLike) -> Array | float:
    # --8<-- [end:variance]
    r"""Return the variance $\operatorname{Var}[X] = \mathbb{E}\bigl[(X - \mathbb{E}[X])^2\bigr]$.

    Computed from the centred values, not as $\mathbb{E}[X^2] - \mathbb{E}[X]^2$: the two are
    equal in exact arithmetic, but the second subtracts two large numbers when the mean is large
    compared with the spread, and can even come out negative in floating point.

    Args:
        values: the values $x_i$, shape `(nV,)`.
        probs: their probabilities, shape `(..., nV)`.

    Returns:
        The variance, shape `(...)`, never negative; a Python float when `probs` is 1-D.

    Raises:
        ShapeError: if `values` is not 1-D or `probs` does not end in `nV`.
        ValueError: if `probs` is not a distribution or an input contains NaN or infinity.

    Examples:
        >>> round(variance([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6)), 12)  # 35/12
        2.916666666667
    """
    # --8<-- [start:variance-body]
    x, p = _values_and_probs(values, probs)
    mean = p @ x  # (...)
    var = (p * (x - mean[..., None]) ** 2).sum(axis=-1)  # (...)
    return float(var) if var.ndim == 0 else var
    # --8<-- [end:variance-body]


def _population(population: ArrayLike, batch_size: object, replace: object) -> tuple[Array, int]:
    pop = as_float_array(population, name="population", expected="(N,)", ndim=1)
    b = check_positive_int(batch_size, name="batch_size")
    replace = check_bool(replace, name="replace")
    if not replace and b > pop.shape[0]:
        raise ValueError(f"without replacement batch_size must be <= N = {pop.shape[0]}; got {b}")
    return pop, b


@guard
# --8<-- [start:minibatch]
def minibatch_mean_variance(
    population: ArrayLike, batch_size: int, *, replace: bool = True
) -> float:
    # --8<-- [end:minibatch]
    r"""Return the exact variance of the mean of a random minibatch drawn from a finite population.

    With $\sigma^2 = \frac1N \sum_{n=1}^{N} (x_n - \bar x)^2$ the population variance and $B$ the
    batch size,

    $$
    \operatorname{Var}[\bar x_B] =
    \begin{cases}
    \dfrac{\sigma^2}{B} & \text{with replacement,} \\[2ex]
    \dfrac{\sigma^2}{B}\,\dfrac{N - B}{N - 1} & \text{without replacement.}
    \end{cases}
    $$

    The factor $(N - B)/(N - 1)$ is the *finite population correction*: draws without
    replacement are negatively correlated, $\operatorname{Cov}[x_i, x_j] = -\sigma^2/(N-1)$ for
    two different draws, so their mean varies less. It is 1 for $B = 1$ and 0 for $B = N$.

    Args:
        population: the $N$ numbers the batch is drawn from, shape `(N,)`.
        batch_size: $B \ge 1$ (at most $N$ without replacement).
        replace: whether the $B$ draws are with replacement (independent) or without
            (a uniformly random subset, as a shuffled data loader gives within an epoch).

    Returns:
        The variance of the minibatch mean over the random choice of the batch.

    Raises:
        ShapeError: if `population` is not a non-empty 1-D array.
        ValueError: if `batch_size` is not a positive integer, exceeds $N$ without replacement,
            `replace` is not a bool, or the population is not a finite real array.

    Examples:
        >>> pop = np.arange(10.0)  # sigma^2 = 8.25
        >>> minibatch_mean_variance(pop, 5)
        1.65
        >>> round(minibatch_mean_variance(pop, 5, replace=False), 12)  # 1.65 * 5/9
        0.916666666667
        >>> minibatch_mean_variance(pop, 10, replace=False)
        0.0
    """
    # --8<-- [start:minibatch-body]
    pop, b = _population(population, batch_size, replace)
    n = pop.shape[0]
    sigma2 = float(np.mean((pop - pop.mean()) ** 2))  # population variance, 1/N
    if replace:
        return sigma2 / b
    if n == 1:
        return 0.0
    return float(sigma2 / b * (n - b) / (n - 1))
    # --8<-- [end:minibatch-body]


@guard
def minibatch_means(
    population: ArrayLike,
    batch_size: int,
    n_batches: int,
    rng: np.random.Generator,
    *,
    replace: bool = True,
) -> Array:
    r"""Draw `n_batches` independent minibatches and return the mean of each.

    Each batch is drawn independently of the others; within a batch the `B` indices are drawn
    with or without replacement. Use it to check
    [minibatch_mean_variance][llmath.probability.distributions.minibatch_mean_variance] by
    simulation.

    Args:
        population: the $N$ numbers, shape `(N,)`.
        batch_size: $B \ge 1$ (at most $N$ without replacement).
        n_batches: how many batches to draw.
        rng: the random generator (passed in, so results are reproducible).
        replace: draws within a batch with (default) or without replacement.

    Returns:
        The `n_batches` batch means, shape `(n_batches,)`.

    Raises:
        ShapeError: if `population` is not a non-empty 1-D array.
        ValueError: for a bad `batch_size`, `n_batches` or `replace`, or if `rng` is not a
            `numpy.random.Generator`.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> minibatch_means(np.arange(4.0), 4, 2, rng, replace=False)
        array([1.5, 1.5])
    """
    pop, b = _population(population, batch_size, replace)
    m = check_positive_int(n_batches, name="n_batches")
    rng = check_rng(rng)
    n = pop.shape[0]
    if replace:
        idx = rng.integers(0, n, size=(m, b))  # (n_batches, B)
    else:
        idx = np.stack([rng.choice(n, size=b, replace=False) for _ in range(m)])  # (n_batches, B)
    means: Array = pop[idx].mean(axis=1)  # (n_batches,)
    return means
