r"""Layer normalisation over the last axis, forward and hand-written backward (Ba et al., 2016)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_cache, check_real, guard

__all__ = ["LayerNormCache", "layer_norm", "layer_norm_backward"]

Array = NDArray[np.float64]


class LayerNormCache(NamedTuple):
    """What `layer_norm_backward` needs from the forward pass."""

    x_hat: Array
    r"""`(..., D)`: the normalised input $\hat x = (x - \mu)\,r$, before $\gamma$ and $\beta$."""
    inv_std: Array
    r"""`(..., 1)`: $r = 1/\sqrt{\sigma^2 + \varepsilon}$ per token (torch's `rstd`)."""
    gamma: Array
    r"""`(D,)`: the per-feature scale $\gamma$, as float64."""


@guard
# --8<-- [start:layer-norm]
def layer_norm(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, *, eps: float = 1e-5
) -> tuple[Array, LayerNormCache]:
    # --8<-- [end:layer-norm]
    r"""Normalise every token (last axis) to mean 0 and variance 1, then scale and shift it.

    $$
    \mu = \frac1D \sum_{i} x_i, \quad
    \sigma^2 = \frac1D \sum_{i} (x_i - \mu)^2, \quad
    \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad
    y_i = \gamma_i \hat x_i + \beta_i .
    $$

    The variance is the *biased* one (divide by $D$), as in `torch.nn.functional.layer_norm`,
    and it is computed in two passes (mean first, then the mean of squared deviations), never as
    $\overline{x^2} - \mu^2$, which can go negative in low precision. Each token is first
    divided by $a = \max_i |x_i|$ (when $a > 1$, or always when $\varepsilon = 0$), which
    changes nothing in exact arithmetic ($\hat x$ is scale-free once $\varepsilon$ is scaled by
    $1/a^2$) but keeps the squares from overflowing at $|x| = 10^{200}$ or underflowing at
    $10^{-200}$.

    Args:
        x: input, shape `(..., D)`; normalised over the last axis.
        gamma: per-feature scale $\gamma$, shape `(D,)`.
        beta: per-feature shift $\beta$, shape `(D,)`.
        eps: $\varepsilon \ge 0$, added to the variance. With `eps=0` a token whose `D` entries
            are all equal has no defined normalisation and is rejected; with `eps > 0` such a
            token gives $\hat x = 0$ and output $\beta$.

    Returns:
        `(out, cache)`: `out` of shape `(..., D)` and the
            [LayerNormCache][llmath.calculus.layernorm.LayerNormCache] for
            [layer_norm_backward][llmath.calculus.layernorm.layer_norm_backward].

    Raises:
        ShapeError: if `x` has no axis, or `gamma`/`beta` are not of shape `(D,)`.
        ValueError: if an input contains NaN or infinity, `eps` is negative or not finite, or
            `eps == 0` and some token is constant.

    Examples:
        >>> out, cache = layer_norm([[1.0, 2.0, 3.0]], [1.0, 1.0, 2.0], [0.0, 0.0, 1.0], eps=0.0)
        >>> out.round(4)
        array([[-1.2247,  0.    ,  3.4495]])
        >>> cache.inv_std.round(4)
        array([[1.2247]])

    Ba, Kiros and Hinton, "Layer Normalization" (2016), equations (3)-(4).
    """
    # --8<-- [start:layer-norm-body]
    x = as_float_array(x, name="x", expected="(..., D)", min_ndim=1)
    D = x.shape[-1]
    gamma = as_float_array(gamma, name="gamma", expected="(D,)", ndim=1)
    beta = as_float_array(beta, name="beta", expected="(D,)", ndim=1)
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != (D,):
            raise ShapeError(
                f"{name} must have shape (D,) = ({D},) for x {x.shape}; got {p.shape}",
            )
    eps = check_real(eps, name="eps", at_least=0)
    const = x.max(axis=-1, keepdims=True) == x.min(axis=-1, keepdims=True)  # (..., 1)
    if eps == 0 and const.any():
        raise ValueError(
            "eps = 0 and a token of x is constant: its variance is 0; use eps > 0",
        )
    big = np.abs(x).max(axis=-1, keepdims=True)  # (..., 1)
    a = np.where((big > 1.0) | ((eps == 0) & ~const), big, 1.0)  # (..., 1): the scale
    xs = x / a  # (..., D): every |entry| <= 1
    # centred, scaled by 1/a
    xc = np.where(const, 0.0, xs - xs.mean(axis=-1, keepdims=True))  # (..., D)
    # var_s = (var + eps) / a^2; eps / a^2 underflows to 0 only where it is negligible
    with np.errstate(under="ignore"):
        var_s = (xc * xc).mean(axis=-1, keepdims=True) + eps / a / a  # (..., 1)
    # a constant token has x_hat = 0
    root = np.sqrt(np.where(const, 1.0, var_s))  # (..., 1)
    x_hat = xc / root  # (..., D)
    # a constant token has variance 0, so 1 / sqrt(eps)
    inv_std_const = 1.0 / np.sqrt(eps if eps > 0 else 1.0)
    inv_std = np.where(const, inv_std_const, (1.0 / a) / root)  # (..., 1)
    out = gamma * x_hat + beta  # (..., D)
    return out, LayerNormCache(x_hat, inv_std, gamma)
    # --8<-- [end:layer-norm-body]


@guard
# --8<-- [start:layer-norm-backward]
def layer_norm_backward(
    dout: ArrayLike,
    cache: LayerNormCache,
) -> tuple[Array, Array, Array]:
    # --8<-- [end:layer-norm-backward]
    r"""Back-propagate through [layer_norm][llmath.calculus.layernorm.layer_norm].

    With $g_i = \delta y_i\, \gamma_i$ (per feature) and $r = 1/\sqrt{\sigma^2 + \varepsilon}$,

    $$
    \frac{\partial \mathcal{L}}{\partial x} = r\left(g - \overline{g} - \hat x\;\overline{g \hat x}\right),
    \qquad
    \frac{\partial \mathcal{L}}{\partial \gamma} = \sum_{\text{tokens}} \delta y \odot \hat x,
    \qquad
    \frac{\partial \mathcal{L}}{\partial \beta} = \sum_{\text{tokens}} \delta y ,
    $$

    where a bar is the mean over the $D$ features of one token. The formula is exact for any
    $\varepsilon \ge 0$; $\gamma$ multiplies $\delta y$ *before* the two means.

    Args:
        dout: upstream gradient $\delta y = \partial \mathcal{L} / \partial y$, shape `(..., D)`, the shape
            of the forward input.
        cache: the cache returned by `layer_norm`.

    Returns:
        `(dx, dgamma, dbeta)` of shapes `(..., D)`, `(D,)`, `(D,)`; `dgamma` and `dbeta` are
            summed over all leading axes.

    Raises:
        ShapeError: if `dout` does not have the shape of the forward input.
        ValueError: if `dout` is not a finite real array or `cache` is not a `LayerNormCache`.

    Examples:
        >>> _, cache = layer_norm([[1.0, 2.0, 3.0]], [1.0, 1.0, 2.0], [0.0, 0.0, 1.0], eps=0.0)
        >>> dx, dgamma, dbeta = layer_norm_backward([[0.0, 0.0, 1.0]], cache)
        >>> dx.round(4), dgamma.round(4), dbeta
        (array([[ 0.4082, -0.8165,  0.4082]]), array([0.    , 0.    , 1.2247]), array([0., 0., 1.]))
    """
    # --8<-- [start:layer-norm-backward-body]
    x_hat, inv_std, gamma = check_cache(cache, LayerNormCache, name="cache")
    dout = as_float_array(dout, name="dout", expected="(..., D)", min_ndim=1)
    if dout.shape != x_hat.shape:
        raise ShapeError(
            f"dout must have the forward input's shape {x_hat.shape}; got {dout.shape}"
        )
    lead = tuple(range(dout.ndim - 1))  # every axis but D
    dgamma = (dout * x_hat).sum(axis=lead)  # (D,)
    dbeta = dout.sum(axis=lead)  # (D,)
    g = dout * gamma  # (..., D): gamma enters per feature, before the means
    g_mean = g.mean(axis=-1, keepdims=True)  # (..., 1)
    gx_mean = (g * x_hat).mean(axis=-1, keepdims=True)  # (..., 1)
    dx = inv_std * (g - g_mean - x_hat * gx_mean)  # (..., D)
    return dx, dgamma, dbeta
    # --8<-- [end:layer-norm-backward-body]
