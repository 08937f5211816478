r"""Binary floating-point formats from their bit layout: fp64, fp32, fp16, bf16 and two fp8s.

A format with $e$ exponent bits and $m$ mantissa (fraction) bits stores a sign $s$, a biased
exponent $E$ and a fraction $F$; with bias $b = 2^{e-1} - 1$ the value is

$$
\begin{aligned}
x &= (-1)^s\, (1 + F/2^m)\, 2^{E - b} && 0 < E < 2^e - 1,\\
x &= (-1)^s\, (F/2^m)\, 2^{1 - b} && E = 0 \text{ (subnormal)},
\end{aligned}
$$

and $E = 2^e - 1$ holds infinity ($F = 0$) and NaN ($F \ne 0$) in the IEEE 754 formats. The
fp8 format E4M3 of Micikevicius et al. (2022), `float8_e4m3fn` in PyTorch and ml_dtypes, has
no infinity: $E = 15$ is an ordinary exponent, and only $E = 15, F = 7$ is NaN, which lifts its
largest value from 240 to 448.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_bool, check_choice, guard

__all__ = ["FORMATS", "FloatFormat", "decode_float", "float_format", "round_to_format"]

Array = NDArray[np.float64]

# name: (exponent bits e, mantissa bits m, has infinity); sign bit 1, total 1 + e + m
# --8<-- [start:layouts]
FORMATS: dict[str, tuple[int, int, bool]] = {
    "fp64": (11, 52, True),
    "fp32": (8, 23, True),
    "fp16": (5, 10, True),
    "bf16": (8, 7, True),
    "fp8_e5m2": (5, 2, True),
    "fp8_e4m3": (4, 3, False),  # E4M3FN: finite only, one NaN mantissa
}
# --8<-- [end:layouts]


class FloatFormat(NamedTuple):
    """A binary floating-point format's layout and the limits computed from it."""

    bits: int  # 1 + exponent_bits + mantissa_bits
    exponent_bits: int  # e
    mantissa_bits: int  # m, the stored fraction bits (precision m + 1)
    bias: int  # 2^(e-1) - 1
    eps: float  # 2^-m: the gap from 1 to the next larger number
    max: float  # the largest finite value
    smallest_normal: float  # 2^(1 - bias)
    smallest_subnormal: float  # 2^(1 - bias - m)
    has_infinity: bool  # False for E4M3FN


# --8<-- [start:format]
def float_format(name: str) -> FloatFormat:
    # --8<-- [end:format]
    r"""Return the layout and limits of the format `name`, computed from its bit counts.

    $$
    \begin{aligned}
    b &= 2^{e-1} - 1, \quad \varepsilon = 2^{-m},\\
    x_{\min} &= 2^{1-b}, \quad
    x_{\min}^{\mathrm{sub}} = 2^{1-b-m},\\
    x_{\max} &= (2 - 2^{-m})\, 2^{2^e - 2 - b} .
    \end{aligned}
    $$

    For E4M3FN (no infinity) the top exponent is usable and only its all-ones fraction is NaN:
    $x_{\max} = (2 - 2^{1-m})\, 2^{2^e - 1 - b} = 1.75 \cdot 2^8 = 448$.

    Args:
        name: `"fp64"`, `"fp32"`, `"fp16"`, `"bf16"`, `"fp8_e5m2"` or `"fp8_e4m3"`.

    Returns:
        A [FloatFormat][llmath.numerics.floats.FloatFormat].

    Raises:
        ValueError: if `name` is not one of these.

    Examples:
        >>> f = float_format("fp16")
        >>> f.bits, f.bias, f.eps, f.max, f.smallest_normal
        (16, 15, 0.0009765625, 65504.0, 6.103515625e-05)
        >>> float_format("fp8_e4m3").max
        448.0

    IEEE 754-2019, section 3.3 (table 3.5: binary16/32/64 parameters); Micikevicius et al.,
    "FP8 Formats for Deep Learning" (2022), table 1.
    """
    # --8<-- [start:format-body]
    e, m, has_inf = FORMATS[check_choice(name, name="name", choices=tuple(FORMATS))]
    bias = 2 ** (e - 1) - 1
    if has_inf:  # the top exponent 2^e - 1 is reserved for inf and NaN
        emax, top_fraction = 2**e - 2 - bias, 2.0 - 2.0**-m
    else:  # E4M3FN: the top exponent is a normal one; its all-ones fraction is NaN
        emax, top_fraction = 2**e - 1 - bias, 2.0 - 2.0 ** (1 - m)
    return FloatFormat(
        bits=1 + e + m,
        exponent_bits=e,
        mantissa_bits=m,
        bias=bias,
        eps=2.0**-m,
        max=top_fraction * 2.0**emax,
        smallest_normal=2.0 ** (1 - bias),
        smallest_subnormal=2.0 ** (1 - bias - m),
        has_infinity=has_inf,
    )
    # --8<-- [end:format-body]


def _patterns(bits: ArrayLike, n: int) -> NDArray[np.uint64]:
    """Bit patterns as uint64, each in [0, 2^n)."""
    try:
        raw = np.asarray(bits)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"bits must be an integer array of shape (...); {exc}") from None
    if raw.size == 0:
        raise ShapeError(f"bits must not be empty; got shape {raw.shape}")
    if raw.dtype.kind not in "iu":
        raise ValueError(f"bits must be integer bit patterns; got dtype {raw.dtype}")
    if raw.min() < 0 or (n < 64 and raw.max() >= 2**n):
        raise ValueError(f"bits must lie in [0, 2^{n}); got min {raw.min()}, max {raw.max()}")
    return raw.astype(np.uint64)


@guard
# --8<-- [start:decode]
def decode_float(bits: ArrayLike, name: str) -> Array:
    # --8<-- [end:decode]
    r"""Return the value of each bit pattern in the format `name`, as float64.

    Splits each pattern into sign, exponent and fraction and applies the formulas of the module
    (normal, subnormal, infinity, NaN). Every value of these formats is exactly a float64, so
    nothing is rounded.

    Args:
        bits: integer bit patterns, any shape `(...)`, each in $[0, 2^{n})$ for the format's
            $n$ bits (as given by `numpy.ndarray.view` of an integer type).
        name: the format, as in [float_format][llmath.numerics.floats.float_format].

    Returns:
        `(...)`: the values; NaN for NaN patterns, $\pm\infty$ for infinities, and $-0.0$ for
            the negative zero.

    Raises:
        ValueError: if `bits` holds non-integers or values outside $[0, 2^n)$, or `name` is
            unknown.

    Examples:
        >>> decode_float([0x3C00, 0x7BFF, 0x0001, 0xFC00], "fp16").tolist()
        [1.0, 65504.0, 5.960464477539063e-08, -inf]
        >>> decode_float([0x7E, 0x7F], "fp8_e4m3").tolist()
        [448.0, nan]
    """
    f = float_format(name)
    b = _patterns(bits, f.bits)
    e, m = f.exponent_bits, f.mantissa_bits
    # --8<-- [start:decode-body]
    sign = (b >> np.uint64(e + m)) & np.uint64(1)  # (...)
    expo = ((b >> np.uint64(m)) & np.uint64(2**e - 1)).astype(np.int64)  # (...)
    frac = (b & np.uint64(2**m - 1)).astype(np.float64)  # (...): F, exact below 2^53
    top = expo == 2**e - 1  # inf and NaN in IEEE formats (fp64's would overflow ldexp)
    e_used = np.where(top & f.has_infinity, 0, expo)
    normal = np.ldexp(frac + 2.0**m, e_used - f.bias - m)  # (1 + F/2^m) 2^(E - b)
    subnormal = np.ldexp(frac, 1 - f.bias - m)  # (F/2^m) 2^(1 - b)
    value = np.where(expo == 0, subnormal, normal)
    if f.has_infinity:
        value = np.where(top, np.where(frac == 0, np.inf, np.nan), value)
    else:  # E4M3FN: only the all-ones fraction of the top exponent is NaN
        value = np.where(top & (frac == 2**m - 1), np.nan, value)
    out: Array = np.where(sign == 1, -value, value)
    return out
    # --8<-- [end:decode-body]


@guard
# --8<-- [start:round]
def round_to_format(x: ArrayLike, name: str, *, saturate: bool = False) -> Array:
    # --8<-- [end:round]
    r"""Round float64 values to the nearest value of the format `name` (ties to even).

    $$
    \begin{aligned}
    k &= \max(\lfloor \log_2 |x| \rfloor,\, 1 - b),\quad q = 2^{k - m},\\
    \operatorname{fl}(x) &= q \cdot \operatorname{round}(x / q) ,
    \end{aligned}
    $$

    where $q$ is the spacing of the format's numbers in the binade of $x$ (constant below the
    smallest normal: the subnormals). A result beyond the largest finite value overflows to
    $\pm\infty$ (NaN for E4M3FN, which has no infinity, as ml_dtypes' cast), or to $\pm x_{\max}$
    with `saturate=True`. The division by a power of two is exact, so the only rounding is
    `numpy.round`'s, which is half-to-even: the IEEE default rounding.

    Args:
        x: finite float64 values, any shape `(...)`.
        name: the format, as in [float_format][llmath.numerics.floats.float_format].
        saturate: clamp overflow to $\pm x_{\max}$ instead (keyword-only).

    Returns:
        `(...)`: the rounded values, as float64.

    Raises:
        ValueError: if `x` is not a finite real array or `name` is unknown.

    Examples:
        >>> round_to_format([1 + 2**-11, 1 + 3 * 2**-11, 70000.0], "fp16").tolist()
        [1.0, 1.001953125, inf]
        >>> round_to_format([3.14159, 500.0], "fp8_e4m3", saturate=True).tolist()
        [3.25, 448.0]
    """
    x = as_float_array(x, name="x", expected="(...)")
    f = float_format(name)
    saturate = check_bool(saturate, name="saturate")
    # --8<-- [start:round-body]
    a = np.abs(x)  # (...)
    _, ex = np.frexp(a)  # a = mantissa * 2^ex, mantissa in [0.5, 1)
    k = np.maximum(ex - 1, 1 - f.bias)  # binade exponent, at least the subnormals'
    q = np.ldexp(1.0, k - f.mantissa_bits)  # (...): spacing of the format near x
    r = np.round(a / q) * q  # ties to even
    big = r > f.max
    overflow = f.max if saturate else (np.inf if f.has_infinity else np.nan)
    r = np.where(big, overflow, r)
    out: Array = np.copysign(r, x)
    return out
    # --8<-- [end:round-body]
