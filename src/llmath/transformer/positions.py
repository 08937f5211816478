r"""Positional encodings: sinusoidal (Vaswani et al., 2017) and rotary (Su et al., 2021).

Attention without a mask cannot tell the order of its inputs. The two encodings here tell it:
the sinusoidal one is *added* to the token embeddings once, the rotary one *rotates* the queries
and keys of every attention layer. Both use the same frequencies
$\omega_i = \text{base}^{-2i/D}$, one per pair of dimensions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    as_int_array,
    check_choice,
    check_positive_int,
    check_real,
    guard,
)

__all__ = ["rope", "sinusoidal_positions", "sinusoidal_shift"]

Array = NDArray[np.float64]


def _even_width(D: object, *, name: str) -> int:
    """Return `D` if it is a positive even integer (the encodings work on pairs of dimensions)."""
    n = check_positive_int(D, name=name)
    if n % 2:
        raise ValueError(f"{name} must be even: the encoding works on pairs of dimensions; got {n}")
    return n


# --8<-- [start:frequencies]
def _frequencies(D: int, base: float) -> Array:
    r"""$\omega_i = 1/\text{base}^{2i/D}$ for the pair index $i = 0, \dots, D/2 - 1$."""
    return 1.0 / base ** (np.arange(0, D, 2) / D)  # (D/2,)


# --8<-- [end:frequencies]


@guard
# --8<-- [start:sinusoidal]
def sinusoidal_positions(T: int, D: int, *, base: float = 10000.0) -> Array:
    # --8<-- [end:sinusoidal]
    r"""Return the sinusoidal encodings of positions $0, \dots, T-1$, one row per position.

    $$
    \begin{aligned}
    \omega_i &= \text{base}^{-2i/D}, \\
    PE_{p,\,2i} &= \sin(p\,\omega_i), \\
    PE_{p,\,2i+1} &= \cos(p\,\omega_i),
    \end{aligned}
    $$

    for the pair index $i = 0, \dots, D/2 - 1$: dimensions $2i$ and $2i+1$ form a pair that
    turns at angular frequency $\omega_i$, from $\omega_0 = 1$ radian per position (period
    $2\pi$) down to $\omega_{D/2-1} \approx 1/\text{base}$ (period about $2\pi \cdot
    \text{base}$). The layout is the paper's, sine and cosine interleaved.

    Args:
        T: number of positions $T \ge 1$.
        D: model width $D$, even.
        base: the base of the geometric sequence of wavelengths (the paper's 10000), $> 0$.

    Returns:
        `(T, D)`: row $p$ is $PE(p)$.

    Raises:
        ValueError: if `T` or `D` is not a positive integer, `D` is odd, or `base` is not a
            finite number $> 0$.

    Examples:
        >>> sinusoidal_positions(2, 4).round(4)
        array([[0.    , 1.    , 0.    , 1.    ],
               [0.8415, 0.5403, 0.01  , 1.    ]])

    Vaswani et al., "Attention Is All You Need" (2017), section 3.5.
    """
    # --8<-- [start:sinusoidal-body]
    T = check_positive_int(T, name="T")
    D = _even_width(D, name="D")
    base = check_real(base, name="base", above=0)
    angles = np.arange(T)[:, None] * _frequencies(D, base)  # (T, D/2)
    pe = np.empty((T, D))  # (T, D)
    pe[:, 0::2] = np.sin(angles)  # even dimensions 2i
    pe[:, 1::2] = np.cos(angles)  # odd dimensions 2i + 1
    return pe
    # --8<-- [end:sinusoidal-body]


@guard
# --8<-- [start:shift]
def sinusoidal_shift(k: int, D: int, *, base: float = 10000.0) -> Array:
    # --8<-- [end:shift]
    r"""Return the rotation $R(k)$ that moves every sinusoidal encoding $k$ positions on.

    $$
    \begin{aligned}
    PE(p + k) &= PE(p)\, R(k), \\
    R(k) &= \operatorname{diag}\bigl(R_0, \dots, R_{D/2-1}\bigr), \\
    R_i &= \begin{pmatrix} \cos k\omega_i & -\sin k\omega_i \\
    \sin k\omega_i & \cos k\omega_i \end{pmatrix},
    \end{aligned}
    $$

    for every position $p$ (rows are vectors, so $R$ multiplies from the right). The matrix
    depends on $k$ only, not on $p$: this is the angle-addition formula applied to each pair.
    $R(k)$ is orthogonal, $R(k)^\top = R(-k)$, and $R(j) R(k) = R(j + k)$.

    Args:
        k: the offset $k$, any integer (negative moves back).
        D: model width $D$, even.
        base: the base of the wavelengths, as in
            [sinusoidal_positions][llmath.transformer.positions.sinusoidal_positions].

    Returns:
        `(D, D)`: block-diagonal, one $2 \times 2$ rotation per pair.

    Raises:
        ValueError: if `k` is not an integer, `D` is not a positive even integer, or `base` is
            not a finite number $> 0$.

    Examples:
        >>> sinusoidal_shift(1, 2).round(4)
        array([[ 0.5403, -0.8415],
               [ 0.8415,  0.5403]])
    """
    # --8<-- [start:shift-body]
    integer = isinstance(k, int | np.integer) and not isinstance(k, bool)
    if not integer or abs(int(k)) >= 2**63:
        raise ValueError(f"k must be an integer offset with |k| < 2**63; got {k!r:.40}")
    D = _even_width(D, name="D")
    base = check_real(base, name="base", above=0)
    angle = float(k) * _frequencies(D, base)  # (D/2,)
    c, s = np.cos(angle), np.sin(angle)  # (D/2,)
    r = np.zeros((D, D))  # (D, D)
    i = np.arange(0, D, 2)  # the first dimension of each pair
    r[i, i], r[i, i + 1] = c, -s
    r[i + 1, i], r[i + 1, i + 1] = s, c
    return r
    # --8<-- [end:shift-body]


@guard
# --8<-- [start:rope]
def rope(
    x: ArrayLike,
    positions: ArrayLike,
    *,
    base: float = 10000.0,
    pairing: str = "half",
) -> Array:
    # --8<-- [end:rope]
    r"""Rotate each pair of dimensions of every row by an angle proportional to its position.

    $$
    \begin{aligned}
    \theta_i &= \text{base}^{-2i/d_k}, \\
    \begin{pmatrix} y_a \\ y_b \end{pmatrix}
    &= \begin{pmatrix} \cos p\theta_i & -\sin p\theta_i \\
    \sin p\theta_i & \cos p\theta_i \end{pmatrix}
    \begin{pmatrix} x_a \\ x_b \end{pmatrix},
    \end{aligned}
    $$

    for the row at position $p$ and each pair $(a, b)$ with pair index $i$. Applied to queries
    and keys, $\operatorname{rope}(q, m) \cdot \operatorname{rope}(k, n)$ depends on the
    positions only through $n - m$. Which dimensions form pair $i$ is a convention:

    * `pairing="half"`: $(a, b) = (i, i + d_k/2)$, the `rotate_half` layout of GPT-NeoX, Llama
      and Hugging Face's `apply_rotary_pos_emb`;
    * `pairing="interleaved"`: $(a, b) = (2i, 2i + 1)$, the layout of the RoFormer paper and
      GPT-J.

    The two are the same map up to a fixed permutation of the $d_k$ dimensions.

    Args:
        x: queries or keys, shape `(..., T, dk)`, with $d_k$ even.
        positions: the position of each row, non-negative integers of shape `(T,)`.
        base: the base of the wavelengths (10000 in RoFormer and Llama 2), $> 0$.
        pairing: `"half"` or `"interleaved"`, as above.

    Returns:
        `(..., T, dk)`: the rotated rows; every row keeps its length.

    Raises:
        ShapeError: if `x` has fewer than two axes or `positions` is not of shape `(T,)`.
        ValueError: if $d_k$ is odd, `positions` holds non-integers or negative numbers, `base`
            is not a finite number $> 0$, or `pairing` is unknown.

    Examples:
        >>> rope([[1.0, 0.0]], [1]).round(4)
        array([[0.5403, 0.8415]])

    Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding" (2021),
    section 3.2 (the general form of the rotary position embedding).
    """
    # --8<-- [start:rope-body]
    x = as_float_array(x, name="x", expected="(..., T, dk)", min_ndim=2)
    T, dk = x.shape[-2:]
    if dk % 2:
        raise ValueError(f"x must have an even last axis dk; got dk={dk}")
    pos = as_int_array(positions, name="positions", expected="(T,)")
    if pos.shape != (T,):
        raise ShapeError(
            f"positions must have shape (T,) = ({T},) for x {x.shape}; got {pos.shape}"
        )
    base = check_real(base, name="base", above=0)
    pairing = check_choice(pairing, name="pairing", choices=("half", "interleaved"))
    angles = pos[:, None] * _frequencies(dk, base)  # (T, dk/2)
    cos, sin = np.cos(angles), np.sin(angles)  # (T, dk/2)
    if pairing == "half":  # pairs (i, i + dk/2)
        a, b = x[..., : dk // 2], x[..., dk // 2 :]  # (..., T, dk/2)
    else:  # pairs (2i, 2i + 1)
        a, b = x[..., 0::2], x[..., 1::2]  # (..., T, dk/2)
    ya, yb = a * cos - b * sin, a * sin + b * cos  # (..., T, dk/2)
    if pairing == "half":
        return np.concatenate([ya, yb], axis=-1)  # (..., T, dk)
    return np.stack([ya, yb], axis=-1).reshape(x.shape)  # (..., T, dk)
    # --8<-- [end:rope-body]
