r"""Uniform quantisation of weights to $b$-bit integers: symmetric absmax and zero-point.

A quantiser replaces each real number by an integer *code* and keeps one float *scale* per block
of numbers; dequantising multiplies back. Three block shapes share one set of functions:

* per-tensor (`axis=None, group_size=None`): one scale for the whole array, shape `()`;
* per-channel (`axis=k`): one scale per index along axis `k`, computed from the maximum over all
  the *other* axes, shape `(x.shape[k],)` (as `torch.quantize_per_channel(..., axis=k)`); for a
  weight `w` of shape `(D_in, D_out)`, `axis=1` gives one scale per output feature;
* group-wise (`group_size=g`): the last axis, of length $L$, is cut into $L/g$ consecutive groups
  of $g$ entries with one scale each, shape `x.shape[:-1] + (L // g,)`.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_positive_int, guard

__all__ = ["dequantize", "quantize_absmax", "quantize_zero_point"]

Array = NDArray[np.float64]
Codes = NDArray[np.integer]
T = TypeVar("T", bound=np.generic)


def _check_bits(bits: object) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an integer from 2 to 16; got {bits!r:.40}")
    return int(bits)


def _check_layout(
    shape: tuple[int, ...], axis: object, group_size: object, *, name: str
) -> tuple[int | None, int | None]:
    """Validate `axis` and `group_size` against the array `name` of `shape`; one at most."""
    if axis is not None:
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise ValueError(f"axis must be None or an integer; got {axis!r:.40}")
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(f"axis {axis} is out of range for {name} of shape {shape}")
        axis = int(axis) % len(shape)
    if group_size is not None:
        g = check_positive_int(group_size, name="group_size")
        if axis is not None:
            raise ValueError("give axis (per-channel) or group_size (group-wise), not both")
        if not shape or shape[-1] % g:
            raise ShapeError(
                f"group_size {g} must divide the last axis of {name}; got shape {shape}"
            )
        group_size = g
    return axis, group_size


def _block_max(a: Array, axis: int | None, g: int | None) -> Array:
    """The maximum of `a` over each block: shape `()`, `(C,)` or `(..., L // g)`."""
    if g is not None:
        blocks = a.reshape(*a.shape[:-1], a.shape[-1] // g, g)  # (..., L/g, g)
        return np.asarray(blocks.max(axis=-1), dtype=np.float64)  # (..., L/g)
    if axis is not None:
        others = tuple(i for i in range(a.ndim) if i != axis)
        return np.asarray(a.max(axis=others), dtype=np.float64)  # (C,)
    return np.asarray(a.max(), dtype=np.float64)  # ()


def _expand(s: NDArray[T], ndim: int, axis: int | None, g: int | None) -> NDArray[T]:
    """Broadcast one value per block back onto the entries of the array it describes."""
    if g is not None:
        return np.repeat(s, g, axis=-1)  # (..., L)
    if axis is not None:
        return s.reshape([-1 if i == axis else 1 for i in range(ndim)])  # (1, ..., C, ..., 1)
    return s


def _code_dtype(bits: int, *, signed: bool) -> type[np.integer]:
    if signed:
        return np.int8 if bits <= 8 else np.int16
    return np.uint8 if bits <= 8 else np.uint16


@guard
# --8<-- [start:absmax]
def quantize_absmax(
    x: ArrayLike,
    bits: int = 8,
    *,
    axis: int | None = None,
    group_size: int | None = None,
) -> tuple[Codes, Array]:
    # --8<-- [end:absmax]
    r"""Quantise `x` symmetrically: codes $q = \operatorname{round}(x/s)$, scale from $\max|x|$.

    $$
    \begin{aligned}
    q_{\max} &= 2^{b-1} - 1, \qquad s = \max|x| / q_{\max},\\
    q &= \operatorname{clip}(\operatorname{round}(x/s),\,
    -q_{\max},\, q_{\max}),
    \end{aligned}
    $$

    with the maximum taken over each block (see the module: per-tensor, per-channel along
    `axis`, or groups of `group_size` along the last axis). Rounding is half-to-even
    (`numpy.round`, as torch). Zero is exactly representable and the grid is symmetric, so
    $-q_{\max} \dots q_{\max}$ uses $2^b - 1$ of the $2^b$ codes. A block of zeros gets
    $s = 0$ and codes 0. Every $x$ then satisfies $|x - s q| \le s/2$.

    Args:
        x: the values, any shape `(...)`.
        bits: $b$, from 2 to 16; codes are `int8` for $b \le 8$, else `int16`.
        axis: per-channel: one scale per index along this axis (keyword-only).
        group_size: group-wise: one scale per `group_size` consecutive entries of the last
            axis, which it must divide (keyword-only; not together with `axis`).

    Returns:
        `(codes, scales)`: integer codes of the shape of `x`, and float64 scales of shape `()`
            (per-tensor), `(x.shape[axis],)` (per-channel) or `x.shape[:-1] + (L // g,)`
            (group-wise).

    Raises:
        ValueError: if `x` is not finite real, `bits` is outside 2-16, `axis` is out of range,
            `group_size` does not divide the last axis, or both `axis` and `group_size` are given.

    Examples:
        >>> codes, scale = quantize_absmax([0.5, -1.27, 0.004], bits=8)
        >>> codes.tolist(), float(scale)
        ([50, -127, 0], 0.01)

    Jacob et al., "Quantization and Training of Neural Networks for Efficient
    Integer-Arithmetic-Only Inference" (2018), section 2.1 (with zero point 0); Dettmers et
    al., "LLM.int8()" (2022), section 2 (absmax quantisation).
    """
    x = as_float_array(x, name="x", expected="(...)")
    bits = _check_bits(bits)
    ax, g = _check_layout(x.shape, axis, group_size, name="x")
    # --8<-- [start:absmax-body]
    qmax = 2 ** (bits - 1) - 1
    scales = _block_max(np.abs(x), ax, g) / qmax  # (), (C,) or (..., L/g)
    s = _expand(scales, x.ndim, ax, g)  # broadcasts against x
    safe = np.where(s > 0, s, 1.0)  # a block of zeros: codes 0
    codes = np.clip(np.round(x / safe), -qmax, qmax)  # (...)
    return codes.astype(_code_dtype(bits, signed=True)), scales
    # --8<-- [end:absmax-body]


@guard
# --8<-- [start:zero-point]
def quantize_zero_point(
    x: ArrayLike,
    bits: int = 8,
    *,
    axis: int | None = None,
    group_size: int | None = None,
) -> tuple[Codes, Array, Codes]:
    # --8<-- [end:zero-point]
    r"""Quantise `x` asymmetrically onto unsigned codes $0 \dots 2^b - 1$ with a zero point $z$.

    $$
    \begin{aligned}
    s &= \frac{\max(x, 0) - \min(x, 0)}{2^b - 1},\quad
    z = \operatorname{round}\!\Big(\!-\frac{\min(x, 0)}{s}\Big),\\
    q &= \operatorname{clip}(\operatorname{round}(x/s) + z,\, 0,\, 2^b - 1),
    \end{aligned}
    $$

    and $x \approx s\,(q - z)$. The range is widened to contain 0, so that 0 (padding, ReLU
    outputs) is exactly the code $z$. All $2^b$ codes cover $[\min x, \max x]$ instead of
    $[-\max|x|, \max|x|]$: for one-sided data (all positive) the step $s$ is about half the
    absmax step. Blocks as in [quantize_absmax][llmath.numerics.quantize.quantize_absmax].

    Args:
        x: the values, any shape `(...)`.
        bits: $b$, from 2 to 16; codes are `uint8` for $b \le 8$, else `uint16`.
        axis: per-channel axis (keyword-only).
        group_size: group size along the last axis (keyword-only).

    Returns:
        `(codes, scales, zero_points)`: codes of the shape of `x`; scales (float64) and zero
            points (integers, the codes' dtype), both of the block shape.

    Raises:
        ValueError: as for [quantize_absmax][llmath.numerics.quantize.quantize_absmax].

    Examples:
        >>> codes, scale, zero = quantize_zero_point([0.0, 1.0, 2.55], bits=8)
        >>> codes.tolist(), round(float(scale), 6), int(zero)
        ([0, 100, 255], 0.01, 0)

    Jacob et al. (2018), section 2.1, equation (1): $r = S(q - Z)$.
    """
    x = as_float_array(x, name="x", expected="(...)")
    bits = _check_bits(bits)
    ax, g = _check_layout(x.shape, axis, group_size, name="x")
    # --8<-- [start:zero-point-body]
    qmax = 2**bits - 1
    hi = np.maximum(_block_max(x, ax, g), 0.0)  # (blocks): max(x, 0)
    lo = np.minimum(-_block_max(-x, ax, g), 0.0)  # (blocks): min(x, 0)
    scales = (hi - lo) / qmax  # (blocks)
    safe = np.where(scales > 0, scales, 1.0)
    zeros = np.clip(np.round(-lo / safe), 0, qmax)  # (blocks)
    s, z = _expand(safe, x.ndim, ax, g), _expand(zeros, x.ndim, ax, g)
    codes = np.clip(np.round(x / s) + z, 0, qmax)  # (...)
    dtype = _code_dtype(bits, signed=False)
    return codes.astype(dtype), scales, zeros.astype(dtype)
    # --8<-- [end:zero-point-body]


def _as_codes(codes: object, *, name: str) -> NDArray[np.int64]:
    """Integer codes of any shape (floats, booleans and others refused), as int64."""
    try:
        raw = np.asarray(codes)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name} must be an integer array; {exc}") from None
    if raw.size == 0:
        raise ShapeError(f"{name} must not be empty; got shape {raw.shape}")
    if raw.dtype.kind not in "iu" or (raw.dtype == np.uint64 and raw.max() >= 2**63):
        raise ValueError(f"{name} must be integers (the quantiser's codes); got dtype {raw.dtype}")
    return raw.astype(np.int64)


@guard
# --8<-- [start:dequantize]
def dequantize(
    codes: ArrayLike,
    scales: ArrayLike,
    *,
    zero_points: ArrayLike | None = None,
    axis: int | None = None,
    group_size: int | None = None,
) -> Array:
    # --8<-- [end:dequantize]
    r"""Map integer codes back to real numbers: $\hat x = s\,(q - z)$ blockwise.

    The inverse of [quantize_absmax][llmath.numerics.quantize.quantize_absmax] ($z = 0$) and of
    [quantize_zero_point][llmath.numerics.quantize.quantize_zero_point] (pass its zero points);
    `axis` and `group_size` must be the ones used to quantise.

    Args:
        codes: integer codes, shape `(...)`.
        scales: $s \ge 0$, shape `()` (or `(1,)`), `(codes.shape[axis],)` or
            `codes.shape[:-1] + (L // g,)`.
        zero_points: $z$, integers of the shape of `scales` (keyword-only; default 0).
        axis: per-channel axis (keyword-only).
        group_size: group size along the last axis (keyword-only).

    Returns:
        `(...)`: the float64 values $s\,(q - z)$, shape of `codes`.

    Raises:
        ValueError: if `codes` or `zero_points` are not integers, `scales` is negative or not
            finite, or a shape does not match the layout.

    Examples:
        >>> dequantize([50, -127, 0], 0.01).tolist()
        [0.5, -1.27, 0.0]
    """
    q = _as_codes(codes, name="codes")
    s = as_float_array(scales, name="scales", expected="(blocks)")
    if (s < 0).any():
        raise ValueError(f"scales must be >= 0; got {float(s.min())!r}")
    ax, g = _check_layout(q.shape, axis, group_size, name="codes")
    if g is not None:
        want: tuple[int, ...] = (*q.shape[:-1], q.shape[-1] // g)
    elif ax is not None:
        want = (q.shape[ax],)
    else:
        want = ()
        s = s.reshape(()) if s.size == 1 else s
    if s.shape != want:
        raise ShapeError(
            f"scales must have shape {want} for codes of shape {q.shape}; got {s.shape}"
        )
    z = np.zeros(want, dtype=np.int64)
    if zero_points is not None:
        z = _as_codes(zero_points, name="zero_points")
        z = z.reshape(()) if want == () and z.size == 1 else z
        if z.shape != want:
            raise ShapeError(f"zero_points must have shape {want} (as scales); got {z.shape}")
    # --8<-- [start:dequantize-body]
    steps = q - _expand(z, q.ndim, ax, g)  # (...): integers, exact
    out: Array = _expand(s, q.ndim, ax, g) * steps  # (...)
    return out
    # --8<-- [end:dequantize-body]
