r"""The position-wise MLP of a transformer block, with ReLU, GELU or SwiGLU, and SwiGLU's width."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    check_choice,
    check_positive_int,
    guard,
    vouches,
)
from llmath.calculus.activations import gelu, sigmoid
from llmath.linalg.linear import linear

__all__ = ["MLPParams", "mlp", "swiglu_width"]

Array = NDArray[np.float64]

ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "swiglu")


class MLPParams(NamedTuple):
    """The MLP's weights; `w_gate`/`b_gate` only for SwiGLU."""

    w_in: ArrayLike
    """`(D, F)`: expansion (SwiGLU's "up" projection)."""
    b_in: ArrayLike | None
    """`(F,)`, or `None` for no bias."""
    w_out: ArrayLike
    """`(F, D)`: projection back to the residual stream ("down")."""
    b_out: ArrayLike | None
    """`(D,)`, or `None` for no bias."""
    w_gate: ArrayLike | None = None
    """`(D, F)`: SwiGLU's gate projection; `None` for the other activations."""
    b_gate: ArrayLike | None = None
    """`(F,)`: SwiGLU's gate bias; `None` means zero (LLaMA has no biases)."""


def _param(value: object, name: str, shape: tuple[int, ...], expected: str) -> Array:
    a = as_float_array(value, name=name, expected=expected, ndim=len(shape))  # type: ignore[arg-type]
    if a.shape != shape:
        raise ShapeError(f"{name} must have shape {expected} = {shape}; got {a.shape}")
    return a


@guard
@vouches
# --8<-- [start:mlp]
def mlp(x: ArrayLike, params: MLPParams, *, activation: str = "gelu") -> Array:
    # --8<-- [end:mlp]
    r"""Apply the position-wise MLP to every row of `x`: expand to `F`, activate, project back.

    $$
    \begin{aligned}
    \operatorname{MLP}(x) &= \phi(x W_\text{in} + b_\text{in})\, W_\text{out} + b_\text{out},\\
    \operatorname{SwiGLU}(x) &= \bigl(\operatorname{SiLU}(x W_g + b_g) \odot
    (x W_\text{in} + b_\text{in})\bigr) W_\text{out} + b_\text{out},
    \end{aligned}
    $$

    with $\phi$ = ReLU, the exact GELU $x\Phi(x)$ or GPT-2's tanh approximation, and
    $\operatorname{SiLU}(z) = z\,\sigma(z)$. Each position is transformed independently: no
    information moves between tokens here (that is attention's job).

    Args:
        x: the (normalised) residual stream, shape `(..., D)`.
        params: an [MLPParams][llmath.transformer.mlp.MLPParams]; `w_gate` is required for
            `"swiglu"` and must be `None` otherwise; a bias of `None` is no bias.
        activation: `"relu"`, `"gelu"` (exact), `"gelu_tanh"` (GPT-2's, Hugging Face's
            `"gelu_new"`) or `"swiglu"` (LLaMA's, as `silu(gate) * up`).

    Returns:
        Shape `(..., D)`.

    Raises:
        ShapeError: if a weight's shape does not match `D` of `x` and `F` of `w_in`.
        ValueError: if an input contains NaN or infinity, `activation` is unknown, or `w_gate`
            is missing for SwiGLU (or given for another activation).

    Examples:
        >>> p = MLPParams(np.eye(2), np.zeros(2), np.eye(2), np.zeros(2))
        >>> mlp([[1.0, -1.0]], p, activation="relu")
        array([[1., 0.]])

    Shazeer, "GLU Variants Improve Transformer" (2020), eq. 5-6.
    """
    # --8<-- [start:mlp-body]
    check_choice(activation, name="activation", choices=ACTIVATIONS)
    if not isinstance(params, tuple) or len(params) not in (4, 6):
        raise ValueError(f"params must be an MLPParams; got {type(params).__name__}")
    p = MLPParams(*params)
    x = as_float_array(x, name="x", expected="(..., D)", min_ndim=1)
    D = x.shape[-1]
    F = np.shape(p.w_in)[-1] if np.ndim(p.w_in) == 2 else -1
    w_in = _param(p.w_in, "params.w_in", (D, F), "(D, F)")
    b_in = None if p.b_in is None else _param(p.b_in, "params.b_in", (F,), "(F,)")
    w_out = _param(p.w_out, "params.w_out", (F, D), "(F, D)")
    b_out = None if p.b_out is None else _param(p.b_out, "params.b_out", (D,), "(D,)")
    if (activation == "swiglu") != (p.w_gate is not None):
        need = "required for" if activation == "swiglu" else "only used by"
        raise ValueError(f"params.w_gate is {need} activation='swiglu'; got {activation!r}")
    u = linear(x, w_in, b_in)  # (..., F)
    if activation == "relu":
        g = np.maximum(u, 0.0)  # (..., F)
    elif activation == "gelu":
        g = gelu(u)  # (..., F)
    elif activation == "gelu_tanh":
        g = gelu(u, approximate="tanh")  # (..., F)
    else:
        w_gate = _param(p.w_gate, "params.w_gate", (D, F), "(D, F)")
        b_gate = None if p.b_gate is None else _param(p.b_gate, "params.b_gate", (F,), "(F,)")
        z = linear(x, w_gate, b_gate)  # (..., F): the gate
        g = z * sigmoid(z) * u  # (..., F): SiLU(gate) * up
    return linear(g, w_out, b_out)  # (..., D)
    # --8<-- [end:mlp-body]


# --8<-- [start:swiglu-width]
def swiglu_width(D: int, *, multiple_of: int = 1) -> int:
    # --8<-- [end:swiglu-width]
    r"""Return LLaMA's SwiGLU width: $\tfrac23 \cdot 4D$, rounded up to a multiple of `multiple_of`.

    $$
    F = m \left\lceil \frac{\lfloor 8D/3 \rfloor}{m} \right\rceil ,
    $$

    so that three $D \times F$ matrices (gate, up, down) hold about as many weights, $8D^2$,
    as the two $D \times 4D$ matrices of a ReLU or GELU MLP.

    Args:
        D: the model width.
        multiple_of: $m$, round $F$ up to a multiple of it (LLaMA uses 256).

    Returns:
        The hidden width `F`.

    Raises:
        ValueError: if `D` or `multiple_of` is not a positive integer.

    Examples:
        >>> swiglu_width(4096, multiple_of=256)
        11008
        >>> swiglu_width(768)
        2048

    Touvron et al., "LLaMA: Open and Efficient Foundation Language Models" (2023), section 2.
    """
    D = check_positive_int(D, name="D")
    m = check_positive_int(multiple_of, name="multiple_of")
    hidden = 8 * D // 3  # int(2 * 4D / 3), as in LLaMA's reference code
    return m * -(-hidden // m)  # round up to a multiple of m
