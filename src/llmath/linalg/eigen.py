r"""Row-stochastic matrices (such as attention weights) seen through their eigenvalues."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, guard

__all__ = ["check_row_stochastic", "spectral_gap", "stationary_distribution"]

_TOL = 1e-9


@guard
def check_row_stochastic(p: ArrayLike, *, name: str = "p") -> NDArray[np.float64]:
    r"""Return `p` as float64 if it is square, non-negative and every row sums to 1.

    $$
    P \in \mathbb{R}^{S \times S}, \qquad P_{ij} \ge 0, \qquad \sum_j P_{ij} = 1 .
    $$

    Args:
        p: shape `(S, S)`.
        name: the argument's name for error messages (keyword-only).

    Returns:
        `p` as a float64 array, shape `(S, S)`.

    Raises:
        ShapeError: if `p` is not square.
        ValueError: if an entry is negative or a row does not sum to 1 (tolerance $10^{-9}$).

    Examples:
        >>> check_row_stochastic([[0.5, 0.5], [0.0, 1.0]])
        array([[0.5, 0.5],
               [0. , 1. ]])
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string; got {name!r:.60}")
    P = as_float_array(p, name=name, expected="(S, S)", ndim=2)
    if P.shape[0] != P.shape[1]:
        raise ShapeError(f"{name} must be square, shape (S, S); got {P.shape}")
    if (P < 0).any():
        raise ValueError(f"{name} must be non-negative; smallest entry is {P.min():.3g}")
    sums = P.sum(axis=1)  # (S,)
    if not np.allclose(sums, 1.0, rtol=0, atol=_TOL):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"every row of {name} must sum to 1; row {worst} sums to {sums[worst]!r}")
    return P


@guard
# --8<-- [start:stationary]
def stationary_distribution(p: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:stationary]
    r"""Return the distribution $\pi$ left unchanged by one step of $P$: a *left* eigenvector.

    $$
    \pi^\top P = \pi^\top \iff (I - P)^\top \pi = 0, \qquad \pi_i \ge 0,
    \quad \sum_i \pi_i = 1 .
    $$

    The *right* eigenvector for $\lambda = 1$ is always the constant vector ($P\mathbf{1} =
    \mathbf{1}$ because rows sum to 1), so it says nothing about $P$; $\pi$ is the left one.
    It is computed as the null vector of $L^\top$, $L = I - P$: the right singular vector of
    the smallest singular value. The diagonal $L_{ii} = 1 - P_{ii}$ is formed as
    $\sum_{j \ne i} P_{ij}$, equal in exact arithmetic but free of cancellation when $P$ is
    close to the identity (the idea of the GTH algorithm). A softmax of scores $\pm 10$ has
    $\lambda_2 \approx 1 - 4 \cdot 10^{-9}$; "the eigenvector of $P^\top$ for the eigenvalue nearest
    1" cannot safely tell that apart from a repeated eigenvalue 1, the rank of $L$ can.

    Args:
        p: a row-stochastic matrix, shape `(S, S)`.

    Returns:
        $\pi$, shape `(S,)`.

    Raises:
        ShapeError: if `p` is not square.
        ValueError: if `p` is not row-stochastic, or $I - P$ has rank below $S - 1$, i.e. the
            eigenvalue 1 is repeated and the stationary distribution is not unique (e.g. the
            identity matrix, or two blocks that never exchange weight).

    Examples:
        >>> stationary_distribution([[0.9, 0.1], [0.5, 0.5]]).round(4)
        array([0.8333, 0.1667])
    """
    # --8<-- [start:stationary-body]
    P = check_row_stochastic(p)
    S = P.shape[0]
    L = -P  # (S, S): a new array, equal to I - P off the diagonal
    np.fill_diagonal(L, 0.0)
    # L_ii = sum_{j != i} P_ij = 1 - P_ii, without cancellation
    np.fill_diagonal(L, -L.sum(axis=1))
    _, sigma, vh = np.linalg.svd(L.T)  # (S,), (S, S); sigma sorted descending
    if S > 1 and sigma[-2] <= S * np.finfo(np.float64).eps * sigma[0]:
        raise ValueError(
            "the eigenvalue 1 of p is repeated (I - P has rank below S - 1), so the "
            "stationary distribution is not unique"
        )
    pi = vh[-1]  # (S,): L^T pi = 0, unit length, arbitrary sign
    # fix sign and scale; drop -1e-17 rounding noise
    pi = np.clip(pi / pi.sum(), 0.0, None)
    return pi / pi.sum()  # type: ignore[no-any-return]
    # --8<-- [end:stationary-body]


@guard
# --8<-- [start:gap]
def spectral_gap(p: ArrayLike) -> float:
    # --8<-- [end:gap]
    r"""Return $1 - |\lambda_2|$, the gap between 1 and the second-largest eigenvalue modulus.

    $$
    1 = \lambda_1 \ge |\lambda_2| \ge \dots \ge |\lambda_S|, \qquad
    \gamma = 1 - |\lambda_2| \in [0, 1] .
    $$

    For a row-stochastic $P$ every $|\lambda| \le \lVert P \rVert_\infty = 1$. The gap bounds how
    fast $\mu^\top P^n$ forgets its start $\mu$: the distance to $\pi$ shrinks roughly like
    $|\lambda_2|^n$. It says how fast *repeated* averaging mixes, not how focused one row is.
    Eigenvalues are computed to about $10^{-16}$ in absolute terms, so a gap that small is
    rounding error: float64 cannot tell $|\lambda_2| = 1 - 10^{-20}$ from 1.

    Args:
        p: a row-stochastic matrix, shape `(S, S)` with `S >= 2`.

    Returns:
        The absolute spectral gap $\gamma$, a float in $[0, 1]$.

    Raises:
        ShapeError: if `p` is not square or `S < 2`.
        ValueError: if `p` is not row-stochastic.

    Examples:
        >>> round(spectral_gap([[0.9, 0.1], [0.5, 0.5]]), 4)
        0.6
        >>> spectral_gap(np.full((3, 3), 1 / 3)) > 0.999
        True
    """
    # --8<-- [start:gap-body]
    P = check_row_stochastic(p)
    if P.shape[0] < 2:
        raise ShapeError(
            f"spectral_gap needs S >= 2 to have a second eigenvalue; got {P.shape}",
        )
    moduli = np.sort(np.abs(np.linalg.eigvals(P)))[::-1]  # (S,), moduli[0] = 1
    return float(np.clip(1.0 - moduli[1], 0.0, 1.0))
    # --8<-- [end:gap-body]
