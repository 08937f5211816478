r"""Scaling laws: Kaplan et al. (2020), Hoffmann et al. (2022) and the compute-optimal allocation.

The published constants live here, each with the table or equation it comes from; every number
the book derives from them is computed. Losses are in nats per token. $N$ counts parameters
(Kaplan: non-embedding parameters), $D$ training tokens, $C$ training FLOPs.
"""

from __future__ import annotations

from typing import Any, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, _what, as_float_array, guard

__all__ = [
    "CHINCHILLA_FITS",
    "ChinchillaFit",
    "ComputeOptimal",
    "chinchilla_loss",
    "compute_optimal",
    "kaplan_loss",
    "training_flops",
]

Array = NDArray[np.float64]

# Kaplan et al. (2020), Sect. 1.2, Eq. (1.1) and (1.2), repeated in App. A, Table 5: the
# single-variable laws, N in non-embedding parameters, D in tokens.
KAPLAN_N = {"alpha_N": 0.076, "N_c": 8.8e13}
KAPLAN_D = {"alpha_D": 0.095, "D_c": 5.4e13}
# Kaplan et al. (2020), Sect. 4.2, Table 2 ("Fits to L(N, D)"): the joint law's own fit of
# Eq. (1.5) = (4.1). Its constants differ from the single-variable ones (the paper says so).
KAPLAN_JOINT = {"alpha_N": 0.076, "alpha_D": 0.103, "N_c": 6.4e13, "D_c": 1.8e13}


class ChinchillaFit(NamedTuple):
    r"""The five constants of $L(N, D) = E + A/N^\alpha + B/D^\beta$."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float


CHINCHILLA_FITS: dict[str, ChinchillaFit] = {
    # Hoffmann et al. (2022), App. D.2, Eq. (10), as printed (rounded).
    "hoffmann": ChinchillaFit(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
    # The same fit to four decimals, as Besiroglu et al. (2024), Table 1, quote Hoffmann's.
    "hoffmann_unrounded": ChinchillaFit(E=1.6934, A=406.4, B=410.7, alpha=0.3392, beta=0.2849),
    # Besiroglu et al. (2024), Table 1: their refit to the data read off Hoffmann's Fig. 4.
    "besiroglu": ChinchillaFit(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658),
}


class ComputeOptimal(NamedTuple):
    """The loss-minimising split of a compute budget C = 6ND (floats for a scalar C)."""

    N: Any
    D: Any
    tokens_per_param: Any
    loss: Any


def _out(x: Array) -> Array | float:
    return float(x) if x.ndim == 0 else x


def _positive(x: ArrayLike, name: str) -> Array:
    a = as_float_array(x, name=name, expected="(...)")
    if not (a > 0).all():
        raise ValueError(f"{name} must be positive; got {_what(x)}")
    return a


def _pair(N: ArrayLike, D: ArrayLike) -> tuple[Array, Array]:
    n, d = _positive(N, "N"), _positive(D, "D")
    try:
        np.broadcast_shapes(n.shape, d.shape)
    except ValueError:
        raise ShapeError(f"N {n.shape} and D {d.shape} must broadcast") from None
    return n, d


def _fit(fit: object) -> ChinchillaFit:
    if isinstance(fit, str) and fit in CHINCHILLA_FITS:
        return CHINCHILLA_FITS[fit]
    if isinstance(fit, ChinchillaFit):
        values = np.array(fit, dtype=np.float64)
        if not (np.isfinite(values).all() and values[0] >= 0 and (values[1:] > 0).all()):
            raise ValueError(f"fit must have E >= 0 and A, B, alpha, beta > 0; got {fit}")
        return fit
    names = " or ".join(f'"{k}"' for k in CHINCHILLA_FITS)
    raise ValueError(f"fit must be {names} or a ChinchillaFit; got {_what(fit)}")


@overload
def kaplan_loss(N: float, D: float | None = ...) -> float: ...
@overload
def kaplan_loss(N: ArrayLike | None = ..., D: ArrayLike | None = ...) -> Any: ...


@guard
# --8<-- [start:kaplan]
def kaplan_loss(N: ArrayLike | None = None, D: ArrayLike | None = None) -> Array | float:
    r"""Return Kaplan et al.'s predicted loss from model size N, data D, or both.

    $$
    \begin{aligned}
    L(N) &= (N_c/N)^{\alpha_N}, \quad
    L(D) = (D_c/D)^{\alpha_D}, \\
    L(N, D) &= \Bigl[\Bigl(\frac{N_c}{N}\Bigr)^{
    \alpha_N/\alpha_D} + \frac{D_c}{D}\Bigr]^{\alpha_D}
    \end{aligned}
    $$

    with no additive constant. The single laws use Eq. (1.1)–(1.2) ($\alpha_N = 0.076$,
    $N_c = 8.8 \times 10^{13}$ non-embedding parameters; $\alpha_D = 0.095$,
    $D_c = 5.4 \times 10^{13}$ tokens); the joint law uses the paper's own fit of it, Table 2
    ($\alpha_N = 0.076$, $\alpha_D = 0.103$, $N_c = 6.4 \times 10^{13}$,
    $D_c = 1.8 \times 10^{13}$).

    Args:
        N: non-embedding parameters, $> 0$, any shape `(...)`; `None` for the data-only law.
        D: training tokens, $> 0$, broadcasting with `N`; `None` for the size-only law.

    Returns:
        The loss in nats per token, broadcast shape; a float for scalars.

    Raises:
        ValueError: if both are `None`, or a value is not positive and finite.

    Examples:
        >>> round(kaplan_loss(N=1e9), 4)
        2.3756
        >>> round(kaplan_loss(N=1e9, D=1e10), 4)
        2.4197

    Kaplan et al. (2020), Eq. (1.1), (1.2), (1.5); Tables 2 and 5.
    """
    # --8<-- [end:kaplan]
    # --8<-- [start:kaplan-body]
    if N is None and D is None:
        raise ValueError("kaplan_loss needs N, D or both; got N=None and D=None")
    if D is None:
        n = _positive(N, "N")  # type: ignore[arg-type]
        return _out((KAPLAN_N["N_c"] / n) ** KAPLAN_N["alpha_N"])
    if N is None:
        d = _positive(D, "D")
        return _out((KAPLAN_D["D_c"] / d) ** KAPLAN_D["alpha_D"])
    n, d = _pair(N, D)
    k = KAPLAN_JOINT
    inner = (k["N_c"] / n) ** (k["alpha_N"] / k["alpha_D"]) + k["D_c"] / d
    return _out(inner ** k["alpha_D"])
    # --8<-- [end:kaplan-body]


@overload
def chinchilla_loss(N: float, D: float, *, fit: str | ChinchillaFit = ...) -> float: ...
@overload
def chinchilla_loss(N: ArrayLike, D: ArrayLike, *, fit: str | ChinchillaFit = ...) -> Any: ...


@guard
# --8<-- [start:chinchilla]
def chinchilla_loss(
    N: ArrayLike, D: ArrayLike, *, fit: str | ChinchillaFit = "hoffmann"
) -> Array | float:
    # --8<-- [end:chinchilla]
    r"""Return the Chinchilla law's predicted loss for N parameters trained on D tokens.

    $$
    L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}} .
    $$

    $E$ is the loss of an infinite model trained on infinite data; the two power laws are the
    excess loss from a finite model and from finite data, and they add.

    Args:
        N: parameters, $> 0$, any shape `(...)`.
        D: training tokens, $> 0$, broadcasting with `N`.
        fit: `"hoffmann"` (App. D.2, Eq. (10), as printed), `"hoffmann_unrounded"` (the same to
            four decimals, as quoted by Besiroglu et al.), `"besiroglu"` (their refit), or a
            [ChinchillaFit][llmath.scale.scaling.ChinchillaFit].

    Returns:
        The loss in nats per token, broadcast shape; a float for scalars.

    Raises:
        ValueError: if a size is not positive, or `fit` is unknown.

    Examples:
        >>> round(chinchilla_loss(70e9, 1.4e12), 4)
        1.9366

    Hoffmann et al. (2022), Sect. 3.3, Eq. (2); App. D.2, Eq. (10). Besiroglu et al. (2024),
    Table 1.
    """
    f = _fit(fit)
    n, d = _pair(N, D)
    return _out(f.E + f.A / n**f.alpha + f.B / d**f.beta)


@guard
# --8<-- [start:optimal]
def compute_optimal(C: ArrayLike, *, fit: str | ChinchillaFit = "hoffmann") -> ComputeOptimal:
    # --8<-- [end:optimal]
    r"""Return the model size and data that minimise the Chinchilla loss at compute C = 6ND.

    Minimising $L(N, D)$ subject to $6ND = C$ (a Lagrange multiplier, or substituting
    $D = C/(6N)$ and setting $\partial L / \partial N = 0$):

    $$
    \begin{aligned}
    N_{\text{opt}} &= G\,(C/6)^{\beta/(\alpha+\beta)}, \\
    D_{\text{opt}} &= G^{-1}(C/6)^{\alpha/(\alpha+\beta)}, \\
    G &= \Bigl(\frac{\alpha A}{\beta B}\Bigr)^{1/(\alpha+\beta)} .
    \end{aligned}
    $$

    Args:
        C: training FLOPs, $> 0$, any shape `(...)`.
        fit: as in [chinchilla_loss][llmath.scale.scaling.chinchilla_loss].

    Returns:
        `ComputeOptimal(N, D, tokens_per_param, loss)`, each of `C`'s shape (floats for a
            scalar `C`).

    Raises:
        ValueError: if `C` is not positive, or `fit` is unknown.

    Examples:
        >>> opt = compute_optimal(5.76e23)
        >>> round(opt.N / 1e9, 1), round(opt.tokens_per_param, 1)
        (32.2, 92.6)

    Hoffmann et al. (2022), Sect. 3.3, Eq. (4).
    """
    # --8<-- [start:optimal-body]
    f = _fit(fit)
    c6 = _positive(C, "C") / 6.0  # C/6 = N D
    G = (f.alpha * f.A / (f.beta * f.B)) ** (1.0 / (f.alpha + f.beta))
    N = G * c6 ** (f.beta / (f.alpha + f.beta))
    D = c6 / N
    loss = f.E + f.A / N**f.alpha + f.B / D**f.beta
    return ComputeOptimal(_out(N), _out(D), _out(D / N), _out(loss))
    # --8<-- [end:optimal-body]


@overload
def training_flops(N: float, D: float) -> float: ...
@overload
def training_flops(N: ArrayLike, D: ArrayLike) -> Any: ...


@guard
def training_flops(N: ArrayLike, D: ArrayLike) -> Array | float:
    r"""Return the approximate training compute of N parameters on D tokens: $C = 6ND$.

    Two FLOPs per parameter per token forward (a multiply and an add), four backward (the
    input and the weight gradients): Part 4's counter gives the exact figure for a model.

    Args:
        N: parameters, $> 0$, any shape `(...)`.
        D: training tokens, $> 0$, broadcasting with `N`.

    Returns:
        FLOPs, broadcast shape; a float for scalars.

    Raises:
        ValueError: if a size is not positive.

    Examples:
        >>> training_flops(70e9, 1.4e12)
        5.88e+23

    Kaplan et al. (2020), Sect. 2.1; Hoffmann et al. (2022), Sect. 3.
    """
    n, d = _pair(N, D)
    return _out(6.0 * n * d)
