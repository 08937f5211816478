r"""Row-stochastic matrices (such as attention weights) seen through their eigenvalues."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array

__all__ = ["check_row_stochastic", "spectral_gap", "stationary_distribution"]

_TOL = 1e-9


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


# --8<-- [start:stationary]
def stationary_distribution(p: ArrayLike) -> NDArray[np.float64]:
    r"""Return the distribution $\pi$ left unchanged by one step of $P$: a *left* eigenvector.

    $$
    \pi^\top P = \pi^\top \iff P^\top \pi = \pi, \qquad \pi_i \ge 0, \quad \sum_i \pi_i = 1 .
    $$

    The *right* eigenvector for $\lambda = 1$ is always the constant vector ($P\mathbf{1} =
    \mathbf{1}$ because rows sum to 1), so it says nothing about $P$. The left one is found as
    the eigenvector of $P^\top$ whose eigenvalue is closest to 1, rescaled to sum to 1.

    Args:
        p: a row-stochastic matrix, shape `(S, S)`.

    Returns:
        $\pi$, shape `(S,)`.

    Raises:
        ShapeError: if `p` is not square.
        ValueError: if `p` is not row-stochastic, or the eigenvalue 1 is repeated so that the
            stationary distribution is not unique (e.g. the identity matrix).

    Examples:
        >>> stationary_distribution([[0.9, 0.1], [0.5, 0.5]]).round(4)
        array([0.8333, 0.1667])
    """
    P = check_row_stochastic(p)
    lam, vecs = np.linalg.eig(P.T)  # (S,), (S, S): right eigenvectors of P^T = left of P
    near_one = np.abs(lam - 1.0) < 1e-8
    if near_one.sum() > 1:
        raise ValueError(
            f"the eigenvalue 1 of p appears {int(near_one.sum())} times, so the stationary "
            "distribution is not unique"
        )
    pi = np.real(vecs[:, np.argmin(np.abs(lam - 1.0))])  # (S,)
    pi = pi / pi.sum()  # fixes the arbitrary sign and scale of an eigenvector
    return np.clip(pi, 0.0, None)  # removes -1e-17 rounding noise
# --8<-- [end:stationary]


# --8<-- [start:gap]
def spectral_gap(p: ArrayLike) -> float:
    r"""Return $1 - |\lambda_2|$, the gap between 1 and the second-largest eigenvalue modulus.

    $$
    1 = \lambda_1 \ge |\lambda_2| \ge \dots \ge |\lambda_S|, \qquad
    \gamma = 1 - |\lambda_2| \in [0, 1] .
    $$

    For a row-stochastic $P$ every $|\lambda| \le \lVert P \rVert_\infty = 1$. The gap bounds how
    fast $\mu^\top P^n$ forgets its start $\mu$: the distance to $\pi$ shrinks roughly like
    $|\lambda_2|^n$. It says how fast *repeated* averaging mixes, not how focused one row is.

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
    P = check_row_stochastic(p)
    if P.shape[0] < 2:
        raise ShapeError(f"spectral_gap needs S >= 2 to have a second eigenvalue; got {P.shape}")
    moduli = np.sort(np.abs(np.linalg.eigvals(P)))[::-1]  # (S,), moduli[0] = 1
    return float(np.clip(1.0 - moduli[1], 0.0, 1.0))
# --8<-- [end:gap]
