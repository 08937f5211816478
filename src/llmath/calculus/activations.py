r"""Activation functions (sigmoid, tanh, ReLU, GELU) and their derivatives, computed stably.

Every function is elementwise: it takes an array of any shape `(...)` and returns float64 of the
same shape. The `*_grad` functions return the derivative with respect to the *input* $x$ (not the
output), so a backward pass is `dx = dout * act_grad(x)`. NaN and infinity are rejected with
`ValueError`, as everywhere in llmath; large finite inputs (up to $\pm 10^{308}$) give finite
results without any floating-point warning.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_choice, guard, vouches

__all__ = [
    "gelu",
    "gelu_grad",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

Array = NDArray[np.float64]

_APPROXIMATIONS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715  # the cubic coefficient of the tanh approximation (Hendrycks & Gimpel)


# erf(z) = (2 / sqrt(pi)) sum_n (-1)^n z^(2n+1) / (n! (2n+1)): 19 terms reach 1e-17 for |z| < 1
_ERF_SERIES = [2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
               for n in range(19)]  # fmt: skip


def _erfc(z: Array) -> Array:
    """erfc entry by entry: numpy has none.

    For |z| < 1, 1 - erf(z) from erf's Taylor series (vectorised; erfc >= 0.157 there, so the
    subtraction loses under a digit); elsewhere `math.erfc` (accurate to ~1 ulp) per entry.
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.empty(z.shape)
    small = np.abs(z) < 1.0
    zs = z[small]
    w = zs * zs
    acc = np.full(w.shape, _ERF_SERIES[-1])
    for c in reversed(_ERF_SERIES[:-1]):  # Horner in z^2
        acc *= w
        acc += c
    acc *= zs  # erf(z), in place
    out[small] = np.subtract(1.0, acc, out=acc)
    big = ~small
    rest = z[big].tolist()  # plain floats: map() over them beats np.frompyfunc
    out[big] = np.fromiter(map(math.erfc, rest), np.float64, count=len(rest))
    return out


def _input(x: ArrayLike) -> Array:
    return as_float_array(x, name="x", expected="(...)")


def _check_approximate(approximate: object) -> None:
    check_choice(approximate, name="approximate", choices=_APPROXIMATIONS)


@guard
# --8<-- [start:sigmoid]
def sigmoid(x: ArrayLike) -> Array:
    # --8<-- [end:sigmoid]
    r"""Return the logistic sigmoid $\sigma(x) = 1/(1 + e^{-x})$ elementwise.

    $$
    \sigma(x) = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}} .
    $$

    Both forms are the same number; the code uses the first for $x \ge 0$ and the second for
    $x < 0$, so the exponent is always $-|x| \le 0$ and `exp` cannot overflow.

    Args:
        x: any shape `(...)`.

    Returns:
        Values in $[0, 1]$, same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> sigmoid([0.0, 2.0, -1000.0]).round(4)
        array([0.5   , 0.8808, 0.    ])
    """
    # --8<-- [start:sigmoid-body]
    x = _input(x)
    e = np.empty_like(x)  # worked on in place: one array, not a new one per step
    np.exp(np.negative(np.abs(x, out=e), out=e), out=e)  # e^{-|x|} <= 1: no overflow
    out = np.maximum(e, x >= 0)  # the numerators: 1 (>= e), or e^x = e^{-|x|} for x < 0
    e += 1.0  # the denominator 1 + e^{-|x|} of both forms
    out /= e
    return out
    # --8<-- [end:sigmoid-body]


@guard
@vouches
# --8<-- [start:sigmoid-grad]
def sigmoid_grad(x: ArrayLike) -> Array:
    # --8<-- [end:sigmoid-grad]
    r"""Return $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$ elementwise.

    $$
    \sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr) = \sigma(x)\,\sigma(-x) \le \tfrac14 .
    $$

    The code uses $1 - \sigma(x) = \sigma(-x)$: for large $x$ the difference $1 - \sigma(x)$
    cancels to 0 while $\sigma(-x)$ keeps full relative precision.

    Args:
        x: the sigmoid's input, any shape `(...)`.

    Returns:
        Values in $[0, \tfrac14]$, same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> sigmoid_grad([0.0, 2.0]).round(4)
        array([0.25 , 0.105])
    """
    # --8<-- [start:sigmoid-grad-body]
    x = _input(x)
    return sigmoid(x) * sigmoid(-x)
    # --8<-- [end:sigmoid-grad-body]


@guard
def tanh(x: ArrayLike) -> Array:
    r"""Return the hyperbolic tangent elementwise.

    $$
    \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1 .
    $$

    Args:
        x: any shape `(...)`.

    Returns:
        Values in $[-1, 1]$, same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> tanh([0.0, 1.0, -1000.0]).round(4)
        array([ 0.    ,  0.7616, -1.    ])
    """
    return np.tanh(_input(x))


@guard
# --8<-- [start:tanh-grad]
def tanh_grad(x: ArrayLike) -> Array:
    # --8<-- [end:tanh-grad]
    r"""Return $\tanh'(x) = 1 - \tanh^2(x)$ elementwise.

    $$
    \tanh'(x) = 1 - \tanh^2(x) = 4\,\sigma(2x)\,\sigma(-2x) \le 1 .
    $$

    $1 - \tanh^2 x$ cancels catastrophically once $\tanh x$ is close to $\pm 1$ (its relative
    error is about $10^{-8}$ at $x = 10$); the product of sigmoids is the same number without
    the subtraction.

    Args:
        x: the input of tanh, any shape `(...)`.

    Returns:
        Values in $[0, 1]$, same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> tanh_grad([0.0, 1.0]).round(4)
        array([1.  , 0.42])
    """
    # --8<-- [start:tanh-grad-body]
    x = _input(x)
    x2 = 2.0 * np.clip(x, -400.0, 400.0)  # no overflow in 2x; sigma(-800) is already 0
    return 4.0 * sigmoid(x2) * sigmoid(-x2)
    # --8<-- [end:tanh-grad-body]


@guard
def relu_grad(x: ArrayLike) -> Array:
    r"""Return the derivative of $\operatorname{ReLU}(x) = \max(0, x)$: 1 where $x > 0$, else 0.

    $$
    \operatorname{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}
    $$

    ReLU has no derivative at $x = 0$ (the left slope is 0, the right slope 1). Any value in
    $[0, 1]$ is a valid subgradient there; this function returns 0, the choice PyTorch's
    autograd makes for `torch.relu`.

    Args:
        x: the input of ReLU, any shape `(...)`.

    Returns:
        Zeros and ones, same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> relu_grad([-1.0, 0.0, 2.0])
        array([0., 0., 1.])
    """
    return (_input(x) > 0).astype(np.float64)


def _normal_cdf(x: Array) -> Array:
    r"""$\Phi(x) = \tfrac12 \operatorname{erfc}(-x/\sqrt2)$, accurate in both tails."""
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def _normal_pdf(x: Array) -> Array:
    r"""$\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}$; $|x|$ is capped at 40, where $\varphi$ is already 0."""
    x = np.clip(x, -40.0, 40.0)  # exp(-800) underflows to 0; the cap keeps x**2 from overflowing
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _tanh_arg(x: Array) -> tuple[Array, Array]:
    r"""$u = \sqrt{2/\pi}(x + c x^3)$ and $du/dx$; $|x|$ capped at 50, where $\sigma(2u)$ is 0 or 1."""
    x = np.clip(x, -50.0, 50.0)  # keeps x**3 finite; |2u| > 8000 there, so nothing changes
    x2 = x * x  # numpy's x**3 is 100 times slower than x * x * x
    u = x2 * x  # in place from here: sqrt(2/pi) (x + c x^3)
    u *= _GELU_C
    u += x
    u *= _SQRT_2_OVER_PI
    x2 *= 3.0 * _GELU_C  # in place: du = sqrt(2/pi) (1 + 3 c x^2)
    x2 += 1.0
    x2 *= _SQRT_2_OVER_PI
    return u, x2


@guard
@vouches
# --8<-- [start:gelu]
def gelu(x: ArrayLike, *, approximate: str = "none") -> Array:
    # --8<-- [end:gelu]
    r"""Return the Gaussian error linear unit $x\,\Phi(x)$ elementwise, exact or tanh-approximated.

    $$
    \operatorname{GELU}(x) = x\,\Phi(x), \qquad
    \Phi(x) = \tfrac12\bigl(1 + \operatorname{erf}(x/\sqrt2)\bigr)
    = \tfrac12 \operatorname{erfc}(-x/\sqrt2),
    $$

    $$
    \operatorname{GELU}_{\tanh}(x) = \tfrac12 x\bigl(1 + \tanh u\bigr) = x\,\sigma(2u), \qquad
    u = \sqrt{2/\pi}\,\bigl(x + 0.044715\,x^3\bigr) .
    $$

    $\Phi$ is the standard normal CDF. It is computed with `erfc`, because $1 + \operatorname{erf}$
    loses all relative precision for $x \lesssim -6$; likewise $1 + \tanh u$ is computed as
    $2\sigma(2u)$. `approximate="tanh"` is the form GPT-2 uses.

    Args:
        x: any shape `(...)`.
        approximate: `"none"` for the exact $x\Phi(x)$, `"tanh"` for the tanh approximation
            (same names as `torch.nn.functional.gelu`).

    Returns:
        Same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity, or `approximate` is not `"none"`/`"tanh"`.

    Examples:
        >>> gelu([-1.0, 0.0, 1.0]).round(4)
        array([-0.1587,  0.    ,  0.8413])
        >>> gelu([1.0], approximate="tanh").round(4)
        array([0.8412])

    Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)" (2016), eq. 1 and section 2.
    """
    # --8<-- [start:gelu-body]
    _check_approximate(approximate)
    x = _input(x)
    if approximate == "tanh":
        u, _ = _tanh_arg(x)
        u *= 2.0
        s = sigmoid(u)  # (1 + tanh u) / 2 = sigma(2u)
        s *= x
        return s
    return x * _normal_cdf(x)
    # --8<-- [end:gelu-body]


@guard
@vouches
# --8<-- [start:gelu-grad]
def gelu_grad(x: ArrayLike, *, approximate: str = "none") -> Array:
    # --8<-- [end:gelu-grad]
    r"""Return the derivative of [gelu][llmath.calculus.activations.gelu] with respect to $x$.

    $$
    \frac{d}{dx}\, x\Phi(x) = \Phi(x) + x\,\varphi(x), \qquad
    \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}} ,
    $$

    $$
    \frac{d}{dx}\, x\,\sigma(2u) = \sigma(2u) + 2x\,\sigma(2u)\,\sigma(-2u)\,u'(x), \qquad
    u'(x) = \sqrt{2/\pi}\,\bigl(1 + 3 \cdot 0.044715\,x^2\bigr) .
    $$

    Unlike ReLU's, the exact derivative is smooth, dips below 0 for negative $x$ and overshoots
    1 for positive $x$: its own derivative $\varphi(x)(2 - x^2)$ vanishes at $x = \pm\sqrt2$.

    Args:
        x: the input of GELU, any shape `(...)`.
        approximate: `"none"` or `"tanh"`, as in `gelu`.

    Returns:
        Same shape as `x`.

    Raises:
        ValueError: if `x` contains NaN or infinity, or `approximate` is not `"none"`/`"tanh"`.

    Examples:
        >>> gelu_grad([0.0, 1.0]).round(4)
        array([0.5   , 1.0833])
    """
    # --8<-- [start:gelu-grad-body]
    _check_approximate(approximate)
    x = _input(x)
    if approximate == "tanh":
        u, du = _tanh_arg(x)
        u *= 2.0
        s = sigmoid(u)
        # the product rule, and the chain rule through u: s + x (2 s sigma(-2u) u')
        du *= s
        u *= -1.0  # in place: -2u
        du *= sigmoid(u)
        du *= 2.0
        du *= x  # last: 2.0 * x could overflow
        du += s
        return du
    return _normal_cdf(x) + x * _normal_pdf(x)
    # --8<-- [end:gelu-grad-body]
