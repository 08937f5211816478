r"""RMS normalisation over the last axis (Zhang and Sennrich, 2019), as in LLaMA."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_real, guard

__all__ = ["rms_norm"]

Array = NDArray[np.float64]


@guard
# --8<-- [start:rms-norm]
def rms_norm(x: ArrayLike, gamma: ArrayLike, *, eps: float = 1e-6) -> Array:
    # --8<-- [end:rms-norm]
    r"""Divide every token (last axis) by its root mean square, then scale it per feature.

    $$
    \operatorname{rms}(x) = \sqrt{\frac1D \sum_{i} x_i^2 + \varepsilon},
    \qquad
    y_i = \gamma_i \,\frac{x_i}{\operatorname{rms}(x)} .
    $$

    Unlike [layer_norm][llmath.calculus.layernorm.layer_norm] there is no mean to subtract and
    no shift $\beta$: the output keeps the direction of $x$ and only its length is fixed. Each
    token is first divided by $a = \max_i |x_i|$ (when $a > 1$, or always when
    $\varepsilon = 0$), which changes nothing in exact arithmetic once $\varepsilon$ is scaled
    by $1/a^2$, but keeps $x_i^2$ from overflowing at $|x| = 10^{200}$ or underflowing at
    $10^{-200}$.

    Args:
        x: input, shape `(..., D)`; normalised over the last axis.
        gamma: per-feature gain $\gamma$, shape `(D,)`.
        eps: $\varepsilon \ge 0$, added to the mean square (LLaMA uses $10^{-6}$). With
            `eps=0` an all-zero token has no defined normalisation and is rejected; with
            `eps > 0` it maps to 0.

    Returns:
        `(..., D)`: the normalised and scaled tokens.

    Raises:
        ShapeError: if `x` has no axis or `gamma` is not of shape `(D,)`.
        ValueError: if an input contains NaN or infinity, `eps` is negative or not finite, or
            `eps == 0` and some token is all zeros.

    Examples:
        >>> rms_norm([[3.0, -4.0]], [1.0, 2.0], eps=0.0).round(4)
        array([[ 0.8485, -2.2627]])

    Zhang and Sennrich, "Root Mean Square Layer Normalization" (2019), equation (4).
    """
    # --8<-- [start:rms-norm-body]
    x = as_float_array(x, name="x", expected="(..., D)", min_ndim=1)
    D = x.shape[-1]
    gamma = as_float_array(gamma, name="gamma", expected="(D,)", ndim=1)
    if gamma.shape != (D,):
        raise ShapeError(f"gamma must have shape (D,) = ({D},); got {gamma.shape}")
    eps = check_real(eps, name="eps", at_least=0)
    big = np.abs(x).max(axis=-1, keepdims=True)  # (..., 1)
    zero = big == 0  # (..., 1): all-zero tokens
    if eps == 0 and zero.any():
        raise ValueError("eps = 0 and a token of x is all zeros; use eps > 0")
    a = np.where((big > 1) | ((eps == 0) & ~zero), big, 1.0)  # (..., 1): scale
    xs = x / a  # (..., D): every |entry| <= 1
    with np.errstate(under="ignore"):  # eps / a^2 underflows only where negligible
        ms = (xs * xs).mean(axis=-1, keepdims=True) + eps / a / a  # (..., 1)
    out: Array = gamma * (xs / np.sqrt(ms))  # (..., D)
    return out
    # --8<-- [end:rms-norm-body]
