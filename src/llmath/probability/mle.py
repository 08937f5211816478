r"""Maximum likelihood and maximum a posteriori estimates.

Two model families small enough to solve exactly: a categorical distribution over $n_V$ symbols
(the unigram language model), whose maximum-likelihood estimate is the normalised counts, and
linear regression with Gaussian noise, whose maximum a posteriori estimate under a Gaussian
prior on the weights is ridge regression, that is, weight decay.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, as_int_array, check_real, guard
from llmath.probability.information import check_distribution

__all__ = [
    "categorical_map",
    "categorical_mle",
    "gaussian_neg_log_posterior",
    "map_linear_regression",
    "negative_log_likelihood",
]

Array = NDArray[np.float64]


def _counts(counts: ArrayLike) -> Array:
    c = as_float_array(counts, name="counts", expected="(..., nV)", min_ndim=1)
    if (c < 0).any():
        raise ValueError(f"counts must be non-negative; got {c[c < 0].flat[0]!r}")
    return c


@guard
# --8<-- [start:mle]
def categorical_mle(counts: ArrayLike) -> Array:
    # --8<-- [end:mle]
    r"""Return the maximum-likelihood categorical distribution for observed counts.

    For counts $c_1, \dots, c_{n_V}$ with $n = \sum_v c_v > 0$, the likelihood
    $\prod_v q_v^{c_v}$ is largest on the probability simplex at

    $$
    \hat q_v = \frac{c_v}{n} ,
    $$

    the observed frequencies (a symbol never seen gets probability 0).

    Args:
        counts: non-negative counts (integers or not), shape `(..., nV)`.

    Returns:
        The estimate, shape `(..., nV)`, each row summing to 1.

    Raises:
        ShapeError: if `counts` is a scalar or its last axis is empty.
        ValueError: if a count is negative, NaN or infinite, or a row of counts sums to 0.

    Examples:
        >>> categorical_mle([3, 1, 0])
        array([0.75, 0.25, 0.  ])
    """
    # --8<-- [start:mle-body]
    c = _counts(counts)
    c = c / np.maximum(
        c.max(axis=-1, keepdims=True), 1.0
    )  # (..., nV): counts of 1e308 cannot overflow n
    n = c.sum(axis=-1, keepdims=True)  # (..., 1)
    if (n == 0).any():
        raise ValueError("counts must not sum to 0: the likelihood is then constant")
    out: Array = c / n
    return out
    # --8<-- [end:mle-body]


@guard
# --8<-- [start:map]
def categorical_map(counts: ArrayLike, alpha: float) -> Array:
    # --8<-- [end:map]
    r"""Return the maximum a posteriori categorical distribution under a symmetric Dirichlet prior.

    With prior density $\propto \prod_v q_v^{\alpha - 1}$ and counts $c_v$ summing to $n$, the
    posterior is $\propto \prod_v q_v^{c_v + \alpha - 1}$, whose maximum (for $\alpha \ge 1$) is

    $$
    \hat q_v = \frac{c_v + \alpha - 1}{n + n_V(\alpha - 1)} .
    $$

    Numerator and denominator are divided by $\max(\max_v c_v, \alpha - 1, 1)$ first, so
    counts or an $\alpha$ near $10^{308}$ cannot overflow the sum. So $\alpha = 1$ (the uniform prior) gives back the maximum-likelihood estimate, and add-$k$
    smoothing $(c_v + k)/(n + k n_V)$ is $\alpha = k + 1$. (The posterior *mean*,
    $(c_v + \alpha)/(n + n_V\alpha)$, is a different estimate; see the maximum-likelihood chapter.)

    Args:
        counts: non-negative counts, shape `(..., nV)`.
        alpha: the Dirichlet concentration, $\alpha \ge 1$ (for $\alpha < 1$ the posterior
            density is unbounded at the edge of the simplex when a count is 0).

    Returns:
        The estimate, shape `(..., nV)`, each row summing to 1.

    Raises:
        ShapeError: if `counts` is a scalar or its last axis is empty.
        ValueError: if a count is negative or not finite, `alpha < 1`, or (for $\alpha = 1$) a
            row of counts sums to 0.

    Examples:
        >>> categorical_map([3, 1, 0], alpha=2.0)  # add-one smoothing
        array([0.57142857, 0.28571429, 0.14285714])
    """
    # --8<-- [start:map-body]
    c = _counts(counts)
    alpha = check_real(alpha, name="alpha", at_least=1)
    scale = np.maximum(c.max(axis=-1, keepdims=True), max(alpha - 1.0, 1.0))  # (..., 1)
    # (c_v + alpha - 1) / scale, each <= 2
    pseudo = c / scale + (alpha - 1.0) / scale  # (..., nV)
    total = pseudo.sum(axis=-1, keepdims=True)  # (..., 1)
    if (total == 0).any():
        raise ValueError(
            "counts must not sum to 0 when alpha = 1: the posterior is flat",
        )
    out: Array = pseudo / total
    return out
    # --8<-- [end:map-body]


@guard
# --8<-- [start:nll]
def negative_log_likelihood(probs: ArrayLike, observations: ArrayLike) -> float:
    # --8<-- [end:nll]
    r"""Return the mean negative log-likelihood, in nats, of observed symbols under a model.

    $$
    \operatorname{NLL} = -\frac{1}{n} \sum_{t=1}^{n} \ln q_t(x_t) ,
    $$

    where $q_t$ is one distribution shared by every observation (`probs` of shape `(nV,)`) or one
    per observation (`probs` of shape `(..., nV)` matching `observations` of shape `(...)`, as a
    language model predicts a new distribution for every position).

    Args:
        probs: a distribution `(nV,)`, or one per observation `(..., nV)`.
        observations: integer symbols in `[0, nV)`, shape `(n,)` for shared `probs`, else `(...)`.

    Returns:
        The mean over all observations; `inf` if an observed symbol has probability 0.

    Raises:
        ShapeError: if the shapes do not match as described.
        ValueError: if `probs` is not a distribution or an observation is not an integer in
            `[0, nV)`, or there are no observations.

    Examples:
        >>> round(negative_log_likelihood([0.5, 0.25, 0.25], [0, 0, 1, 2]), 6)  # 1.5 ln 2
        1.039721
    """
    # --8<-- [start:nll-body]
    q = check_distribution(probs, name="probs")
    x = as_int_array(
        observations,
        name="observations",
        expected="(...)",
        high=q.shape[-1],
        high_from="the last axis of probs (..., nV)",
    )
    if q.ndim == 1:
        picked = q[x]  # (...): q(x_t), one shared distribution
    elif q.shape[:-1] == x.shape:
        picked = np.take_along_axis(q, x[..., None], axis=-1)[..., 0]  # (...): q_t(x_t)
    else:
        raise ShapeError(
            f"probs must have shape (nV,) or (..., nV) with ... = observations.shape = {x.shape}; "
            f"got {q.shape}"
        )
    with np.errstate(divide="ignore"):  # log 0 = -inf: an impossible observation
        return float(-np.log(picked).mean())
    # --8<-- [end:nll-body]


def _regression(
    x: ArrayLike, y: ArrayLike, noise_var: float, prior_var: float
) -> tuple[Array, Array]:
    X = as_float_array(x, name="x", expected="(N, D)", ndim=2)
    Y = as_float_array(y, name="y", expected="(N,)", ndim=1)
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"y must have shape (N,) with N = {X.shape[0]} rows of x; got {Y.shape}")
    check_real(noise_var, name="noise_var", above=0)
    check_real(prior_var, name="prior_var", above=0)
    return X, Y


@guard
# --8<-- [start:ridge]
def map_linear_regression(
    x: ArrayLike, y: ArrayLike, *, noise_var: float, prior_var: float
) -> Array:
    # --8<-- [end:ridge]
    r"""Return the MAP weights of linear regression with a Gaussian prior: ridge regression.

    Model: $y_n = x_n w + \varepsilon_n$ with $\varepsilon_n \sim \mathcal{N}(0, \sigma^2)$ and
    prior $w \sim \mathcal{N}(0, \sigma_w^2 I)$. The negative log posterior is, up to a constant,

    $$
    \frac{1}{2\sigma^2}\lVert y - Xw \rVert^2 + \frac{1}{2\sigma_w^2}\lVert w \rVert^2 ,
    $$

    minimised by $\hat w = (X^\top X + \lambda I)^{-1} X^\top y$ with
    $\lambda = \sigma^2 / \sigma_w^2$: an L2 penalty (weight decay) of strength $\lambda$ on the
    squared error. As $\sigma_w^2 \to \infty$ it tends to least squares, the maximum-likelihood
    estimate. The system is solved multiplied by $\sigma_w^2 / \max(\sigma^2, \sigma_w^2)$, so that
    neither $\lambda$ nor $1/\lambda$ is ever formed: a prior variance of $10^{-320}$ gives
    weights near 0, not NaN.

    Args:
        x: inputs, shape `(N, D)`, one example per row.
        y: targets, shape `(N,)`.
        noise_var: $\sigma^2 > 0$ (keyword-only).
        prior_var: $\sigma_w^2 > 0$ (keyword-only).

    Returns:
        $\hat w$, shape `(D,)`.

    Raises:
        ShapeError: if `x` is not 2-D or `y` does not have one entry per row of `x`.
        ValueError: if a variance is not positive and finite or an input is not finite.

    Examples:
        >>> map_linear_regression(np.eye(2), [1.0, 2.0], noise_var=1.0, prior_var=1.0)
        array([0.5, 1. ])
    """
    # --8<-- [start:ridge-body]
    X, Y = _regression(x, y, noise_var, prior_var)
    s = max(noise_var, prior_var)
    # (X^T X + lam I) w = X^T y, multiplied by sigma_w^2 / s:
    A = (prior_var / s) * (X.T @ X) + (noise_var / s) * np.eye(X.shape[1])  # (D, D)
    rhs = (prior_var / s) * (X.T @ Y)  # (D,)
    w: Array = np.linalg.solve(A, rhs).astype(np.float64, copy=False)
    return w  # (D,)
    # --8<-- [end:ridge-body]


@guard
def gaussian_neg_log_posterior(
    w: ArrayLike, x: ArrayLike, y: ArrayLike, *, noise_var: float, prior_var: float
) -> tuple[float, Array]:
    r"""Return the negative log posterior of linear regression and its gradient in `w`.

    $$
    \mathcal{L}(w) = \frac{1}{2\sigma^2}\lVert y - Xw \rVert^2 + \frac{1}{2\sigma_w^2}\lVert w \rVert^2 ,
    \qquad
    \nabla \mathcal{L}(w) = -\frac{1}{\sigma^2} X^\top (y - Xw) + \frac{1}{\sigma_w^2} w ,
    $$

    dropping the constants that do not depend on $w$. The second gradient term is weight decay:
    a pull of every weight towards 0 proportional to its size.

    Args:
        w: weights, shape `(D,)`.
        x: inputs, shape `(N, D)`.
        y: targets, shape `(N,)`.
        noise_var: $\sigma^2 > 0$ (keyword-only).
        prior_var: $\sigma_w^2 > 0$ (keyword-only).

    Returns:
        `(loss, grad)`: $\mathcal{L}(w)$, a float, and an array of shape `(D,)`.

    Raises:
        ShapeError: if the shapes do not match.
        ValueError: if a variance is not positive and finite or an input is not finite.

    Examples:
        >>> gaussian_neg_log_posterior([0.0, 0.0], np.eye(2), [1.0, 2.0], noise_var=1.0, prior_var=1.0)
        (2.5, array([-1., -2.]))
    """
    X, Y = _regression(x, y, noise_var, prior_var)
    W = as_float_array(w, name="w", expected=f"(D,) = ({X.shape[1]},)", ndim=1)
    if W.shape[0] != X.shape[1]:
        raise ShapeError(f"w must have shape (D,) = ({X.shape[1]},); got {W.shape}")
    r = Y - X @ W  # (N,) residuals
    value = float(r @ r / (2 * noise_var) + W @ W / (2 * prior_var))
    grad = np.asarray(-(X.T @ r) / noise_var + W / prior_var, dtype=np.float64)  # (D,)
    return value, grad
