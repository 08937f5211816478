r"""Finite-difference derivatives: gradients, Jacobians, Hessians and the gradient check.

A finite difference is only an estimate. Its error has two parts: the truncation error of the
Taylor series, which shrinks with the step $h$, and the rounding error of evaluating $f$ in
floating point, which grows like $\varepsilon |f| / h$. Balancing them gives the default steps
used here, $h = \varepsilon^{1/3} \max(1, |x_i|)$ for central and
$h = \varepsilon^{1/2} \max(1, |x_i|)$ for forward differences, where $\varepsilon = 2^{-52}$ is
float64's machine epsilon. The derivation is on the book's page "Derivatives, gradients and
Jacobians".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_choice, check_real

__all__ = [
    "default_step",
    "grad_check",
    "numerical_grad",
    "numerical_hessian",
    "numerical_jacobian",
]

EPS = float(np.finfo(np.float64).eps)  # 2^-52, the gap between 1.0 and the next float64
_POWER = {"central": 1.0 / 3.0, "forward": 1.0 / 2.0, "hessian": 1.0 / 4.0}


def default_step(x: ArrayLike, method: str = "central") -> NDArray[np.float64]:
    r"""Return the step each finite difference takes at `x` when no `h` is given.

    $$
    h_i = \varepsilon^{p} \max(1, |x_i|), \qquad
    p = \tfrac13 \text{ (central)}, \quad \tfrac12 \text{ (forward)}, \quad
    \tfrac14 \text{ (Hessian)},
    $$

    with $\varepsilon = 2^{-52}$. Each power balances the method's truncation error against the
    rounding error $\approx \varepsilon |f| / h$ for a function and derivatives of size 1; the
    factor $\max(1, |x_i|)$ keeps the step above the spacing of floats near a large $x_i$.

    Args:
        x: the point, any shape `(...)`.
        method: `"central"` (default) or `"forward"` for `numerical_grad`, `"central"` for
            `numerical_jacobian`, `"hessian"` for `numerical_hessian`.

    Returns:
        The steps, shape `x.shape`.

    Raises:
        ValueError: if `method` is unknown or `x` is not a finite real array.

    Examples:
        >>> float(default_step(1.0, "forward")) == 2.0**-26  # sqrt(eps), exactly
        True
    """
    method = check_choice(method, name="method", choices=tuple(_POWER))
    x = as_float_array(x, name="x", expected="(...)")
    step: NDArray[np.float64] = EPS ** _POWER[method] * np.maximum(1.0, np.abs(x))
    return step


def _steps(x: NDArray[np.float64], h: object, kind: str) -> NDArray[np.float64]:
    """Step per entry of x: `h` everywhere if given, else `default_step(x, kind)`.

    Refuses an `x` or `h` so large that `x + 2h` overflows float64 (the Hessian moves one entry
    by two steps).
    """
    if h is None:
        steps = default_step(x, kind)
    else:
        steps = np.full(x.shape, check_real(h, name="h", above=0))
    with np.errstate(over="ignore"):
        reach = np.abs(x) + 2.0 * steps
    if not np.isfinite(reach).all():
        raise ValueError(
            f"x and h are too large: x + h overflows float64 (max |x| = {np.abs(x).max():.3g}, "
            f"max h = {steps.max():.3g})"
        )
    return steps


def _check_step(step: Any, xi: Any) -> None:
    """Refuse a step so small that x + h rounds back to x (the quotient would be 0 / 0)."""
    if step == 0.0:
        raise ValueError(f"h is too small for x = {xi!r}: x + h rounds back to x")


def _call(
    f: Callable[[NDArray[np.float64]], Any], x: NDArray[np.float64], name: str = "f"
) -> NDArray[np.float64]:
    """Evaluate f on a private copy of x (so f cannot change the caller's array).

    The value must be finite real numbers: a function that returns `None` or NaN would otherwise
    turn into a NaN estimate, and a NaN error compares False with every threshold.
    """
    if not callable(f):
        raise ValueError(f"{name} must be a function of one array; got {f!r:.60}")
    return as_float_array(f(x.copy()), name=f"{name}(x)", expected="(...)", allow_empty=True)


def _scalar(f: Callable[[NDArray[np.float64]], Any], x: NDArray[np.float64]) -> float:
    y = _call(f, x)
    if y.ndim != 0:
        raise ValueError(
            f"f must return a scalar for a gradient; got an array of shape {y.shape} "
            "(use numerical_jacobian for vector-valued f)"
        )
    return float(y)


def _finite_difference(out: NDArray[np.float64], name: str = "f") -> NDArray[np.float64]:
    """Return a finite-difference estimate if it is finite; an overflow names the function."""
    if not np.isfinite(out).all():
        raise ValueError(
            f"the finite differences of {name} overflow float64: {name}(x) changes by more than "
            "about 1e308 between neighbouring points"
        )
    return out


# --8<-- [start:grad]
def numerical_grad(
    f: Callable[[NDArray[np.float64]], Any],
    x: ArrayLike,
    *,
    h: float | None = None,
    method: str = "central",
) -> NDArray[np.float64]:
    # --8<-- [end:grad]
    r"""Estimate the gradient of a scalar function by finite differences, one entry at a time.

    $$
    \text{central: } \frac{\partial f}{\partial x_i} \approx
    \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i}, \qquad
    \text{forward: } \frac{\partial f}{\partial x_i} \approx \frac{f(x + h_i e_i) - f(x)}{h_i}.
    $$

    The central error is $O(h^2)$, the forward error $O(h)$, plus rounding
    $\approx \varepsilon |f| / h$ in both. The default step balances the two:
    $h_i = \varepsilon^{1/3} \max(1, |x_i|)$ (central) or $\varepsilon^{1/2} \max(1, |x_i|)$
    (forward). The step actually used is $(x_i + h_i) - x_i$, which is exactly representable, so
    the division does not add a representation error of its own. `f` always receives a fresh copy
    of `x`, so `x` is never mutated.

    Args:
        f: a function from an array of shape `x.shape` to a scalar (Python float or 0-d array).
        x: the point, any shape `(...)`.
        h: a fixed step for every entry; `None` (default) picks the step above.
        method: `"central"` (default, $2n$ evaluations) or `"forward"` ($n + 1$ evaluations).

    Returns:
        The gradient estimate, shape `x.shape` (the same layout as `x`).

    Raises:
        ValueError: if `method` is unknown, `h` is not positive and finite, `x` is not finite,
            `x + h` overflows, or `f` does not return a finite real scalar.

    Examples:
        >>> g = numerical_grad(lambda z: z[0] ** 2 + 3 * z[1], [2.0, 5.0])
        >>> g.round(8)
        array([4., 3.])
    """
    # --8<-- [start:grad-body]
    method = check_choice(method, name="method", choices=("central", "forward"))
    x = as_float_array(x, name="x", expected="(...)")
    steps = _steps(x, h, method)  # (...)
    f0 = _scalar(f, x)  # also checks that f returns a scalar
    grad = np.empty_like(x)  # (...)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] = x[i] + steps[i]
        if method == "central":
            xm[i] = x[i] - steps[i]
        _check_step(xp[i] - xm[i], x[i])
        fm = _scalar(f, xm) if method == "central" else f0
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            grad[i] = (_scalar(f, xp) - fm) / (xp[i] - xm[i])  # exact step, not h
    return _finite_difference(grad)
    # --8<-- [end:grad-body]


def numerical_jacobian(
    f: Callable[[NDArray[np.float64]], Any], x: ArrayLike, *, h: float | None = None
) -> NDArray[np.float64]:
    r"""Estimate the Jacobian of an array-valued function by central differences.

    $$
    J_{o, i} = \frac{\partial f_o}{\partial x_i} \approx
    \frac{f_o(x + h_i e_i) - f_o(x - h_i e_i)}{2 h_i},
    $$

    with $o$ a multi-index over the output and $i$ one over the input, so the shape is
    `f(x).shape + x.shape` (output axes first, as `torch.autograd.functional.jacobian`). For
    $y = xW$ with $x$ of shape `(N,)` and $W$ of shape `(N, M)` this gives $J = W^\top$, shape
    `(M, N)`. Default step $h_i = \varepsilon^{1/3} \max(1, |x_i|)$.

    Args:
        f: a function from an array of shape `x.shape` to an array of any fixed shape `(O...)`.
        x: the point, any shape `(I...)`.
        h: a fixed step for every entry; `None` (default) picks the step above.

    Returns:
        The Jacobian estimate, shape `f(x).shape + x.shape`.

    Raises:
        ValueError: if `h` is not positive and finite, `x` is not finite, `x + h` overflows, or
            `f` does not return finite real numbers.
        ShapeError: if `f` returns arrays of different shapes at different points.

    Examples:
        >>> w = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]  # (N, M) = (2, 3)
        >>> numerical_jacobian(lambda z: z @ np.asarray(w), [1.0, -1.0]).round(8)
        array([[1., 4.],
               [2., 5.],
               [3., 6.]])
    """
    x = as_float_array(x, name="x", expected="(...)")
    steps = _steps(x, h, "central")  # (I...)
    out_shape = _call(f, x).shape  # (O...)
    jac = np.empty(out_shape + x.shape)  # (O..., I...)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i], xm[i] = x[i] + steps[i], x[i] - steps[i]
        _check_step(xp[i] - xm[i], x[i])
        fp, fm = _call(f, xp), _call(f, xm)  # (O...)
        if fp.shape != out_shape or fm.shape != out_shape:
            raise ShapeError(
                f"f must return the same shape at every point; got {out_shape} at x and "
                f"{fp.shape}, {fm.shape} at perturbed points"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            jac[(..., *i)] = (fp - fm) / (xp[i] - xm[i])
    return _finite_difference(jac)


def numerical_hessian(
    f: Callable[[NDArray[np.float64]], Any], x: ArrayLike, *, h: float | None = None
) -> NDArray[np.float64]:
    r"""Estimate the Hessian of a scalar function by central second differences.

    $$
    H_{ij} \approx \frac{f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
    - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)}{4 h_i h_j},
    $$

    which is symmetric in $i, j$ by construction (only $i \le j$ is evaluated and mirrored).
    The truncation error is $O(h^2)$ and the rounding error $\approx \varepsilon |f| / h^2$, so the
    default step is $h_i = \varepsilon^{1/4} \max(1, |x_i|)$. Costs $4n^2$ evaluations for
    $n$ entries: for small examples and tests only.

    Args:
        f: a function from an array of shape `x.shape` to a scalar.
        x: the point, any shape `(...)`.
        h: a fixed step for every entry; `None` (default) picks the step above.

    Returns:
        The Hessian estimate, shape `x.shape + x.shape`, symmetric.

    Raises:
        ValueError: if `h` is not positive and finite, `x` is not finite, `x + h` overflows, or
            `f` does not return a finite real scalar.

    Examples:
        >>> numerical_hessian(lambda z: z[0] ** 2 * z[1], [1.0, 2.0]).round(6)
        array([[4., 2.],
               [2., 0.]])
    """
    x = as_float_array(x, name="x", expected="(...)")
    steps = _steps(x, h, "hessian")  # (...)
    _scalar(f, x)  # checks that f returns a scalar
    for i in np.ndindex(x.shape):
        _check_step((x[i] + steps[i]) - x[i], x[i])
    idx = list(np.ndindex(x.shape))
    hess = np.empty(x.shape + x.shape)  # (..., ...)
    for a, i in enumerate(idx):
        for j in idx[a:]:
            vals = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                z = x.copy()
                z[i] += si * steps[i]
                z[j] += sj * steps[j]
                vals.append(_scalar(f, z))
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                hess[i + j] = hess[j + i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (
                    4 * steps[i] * steps[j]
                )
    return _finite_difference(hess)


# --8<-- [start:check]
def grad_check(
    f: Callable[[NDArray[np.float64]], Any],
    grad: Callable[[NDArray[np.float64]], Any],
    x: ArrayLike,
    *,
    h: float | None = None,
) -> float:
    # --8<-- [end:check]
    r"""Return the relative error between an analytic gradient and a central-difference one.

    $$
    r = \frac{\max_i |g_i - \hat g_i|}{\max\left(\max_i |g_i|,\ \max_i |\hat g_i|\right)},
    $$

    with $g$ = `grad(x)` and $\hat g$ = `numerical_grad(f, x, h=h)`, and $r = 0$ when both are
    all zero. The denominator is the scale of the whole gradient, not of each entry: the
    finite-difference error is an *absolute* error of about $\varepsilon^{2/3}$ times that scale
    in every entry, so an entry whose true value is 0 would otherwise report a relative error near
    1 for a correct gradient. In float64, a correct gradient of a smooth $f$ typically gives
    $r \lesssim 10^{-8}$; a bug typically gives $r \gtrsim 10^{-3}$.

    Args:
        f: scalar function of an array of shape `x.shape`.
        grad: the gradient to check, a function returning an array of shape `x.shape`.
        x: the point, any shape `(...)`.
        h: passed to [numerical_grad][llmath.calculus.numerical.numerical_grad].

    Returns:
        The relative error $r \ge 0$ (a Python float).

    Raises:
        ShapeError: if `grad(x)` does not have the shape of `x`.
        ValueError: as [numerical_grad][llmath.calculus.numerical.numerical_grad], or if `f` or
            `grad` returns `None`, NaN, infinity or anything but real numbers (a NaN error would
            pass every "`r > 1e-3`" bug check).

    Examples:
        >>> f = lambda z: float(np.sum(z**3))
        >>> grad_check(f, lambda z: 3 * z**2, [1.0, 2.0]) < 1e-9
        True
        >>> round(grad_check(f, lambda z: 2 * z**2, [1.0, 2.0]), 4)  # wrong factor 2
        0.3333
    """
    # --8<-- [start:check-body]
    x = as_float_array(x, name="x", expected="(...)")
    g = _call(grad, x, name="grad")  # (...)
    if g.shape != x.shape:
        raise ShapeError(f"grad(x) must have the shape of x, {x.shape}; got {g.shape}")
    g_hat = numerical_grad(f, x, h=h)  # (...)
    scale = max(np.abs(g).max(initial=0.0), np.abs(g_hat).max(initial=0.0))
    if scale == 0.0:
        return 0.0
    # scaled first, so the difference cannot overflow
    return float(np.abs(g / scale - g_hat / scale).max())
    # --8<-- [end:check-body]
