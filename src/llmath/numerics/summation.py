r"""Summing many numbers in finite precision: left to right, pairwise, and compensated (Kahan).

Each function rounds every intermediate result to `dtype` (`"float64"`, `"float32"` or
`"float16"`), so the same code measures the error of a sum in any of these precisions; the exact
reference is `math.fsum`. With unit roundoff $u = \varepsilon/2$ the worst-case error bounds for
$n$ terms are (Higham 2002, sections 4.2 and 4.3):

$$
\begin{aligned}
\text{naive: } & (n - 1)\,u \textstyle\sum|x_i|,\\
\text{pairwise: } & \lceil\log_2 n\rceil\,u \textstyle\sum|x_i|,\\
\text{Kahan: } & (2u + O(n u^2)) \textstyle\sum|x_i| .
\end{aligned}
$$
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_choice, guard

__all__ = ["kahan_sum", "naive_sum", "pairwise_sum"]

DTYPES = ("float64", "float32", "float16")


def _terms(x: ArrayLike, dtype: str) -> NDArray[np.floating]:
    x = as_float_array(x, name="x", expected="(N,)", ndim=1)
    dt = check_choice(dtype, name="dtype", choices=DTYPES)
    top = float(np.finfo(dt).max)
    if np.abs(x).max() > top:
        raise ValueError(f"x has entries beyond {dt}'s largest value {top:.6g}")
    return x.astype(dt)  # rounded to dtype


@guard
# --8<-- [start:naive]
def naive_sum(x: ArrayLike, *, dtype: str = "float64") -> float:
    # --8<-- [end:naive]
    r"""Return $x_1 + x_2 + \dots + x_N$ added left to right, rounding each partial sum to `dtype`.

    $$
    s_0 = 0,\qquad s_i = \operatorname{fl}(s_{i-1} + x_i) .
    $$

    Computed with `numpy.cumsum`, which accumulates strictly in order (unlike `numpy.sum`,
    which adds pairwise in blocks of 8 and 128). Once $|s_{i-1}|$ is large, each new term loses
    its low bits: a term smaller than half a unit in the last place of $s_{i-1}$ is lost entirely.

    Args:
        x: the terms, shape `(N,)`, first rounded to `dtype`.
        dtype: the precision of every addition (keyword-only).

    Returns:
        The sum, as a Python float.

    Raises:
        ValueError: if `x` is not a finite 1-D real array, `dtype` is unknown, or the sum
            overflows `dtype`.

    Examples:
        >>> naive_sum([1.0, 1e-8, 1e-8], dtype="float32")  # each 1e-8 is below half an ulp of 1
        1.0
    """
    t = _terms(x, dtype)
    return float(np.cumsum(t, dtype=t.dtype)[-1])


@guard
# --8<-- [start:pairwise]
def pairwise_sum(x: ArrayLike, *, dtype: str = "float64") -> float:
    # --8<-- [end:pairwise]
    r"""Return the sum of `x` by adding neighbours in pairs, level by level, like a binary tree.

    $$
    S(x_{1:n}) = S(x_{1:\lceil n/2\rceil}) + S(x_{\lceil n/2\rceil+1:n}) ,
    $$

    done bottom-up: each pass adds $x_1 + x_2$, $x_3 + x_4$, ... (an odd last term is carried
    up with $+0$, which is exact). Every term passes through only $\lceil \log_2 n \rceil$
    additions, so its rounding errors accumulate $\log_2 n$ times, not $n$ times.

    Args:
        x: the terms, shape `(N,)`.
        dtype: the precision of every addition (keyword-only).

    Returns:
        The sum, as a Python float.

    Raises:
        ValueError: as for [naive_sum][llmath.numerics.summation.naive_sum].

    Examples:
        >>> x = [1.0] + [2.0**-24] * 7  # each term is half an ulp of 1 in float32
        >>> naive_sum(x, dtype="float32"), pairwise_sum(x, dtype="float32")
        (1.0, 1.0000003576278687)

    Higham, "Accuracy and Stability of Numerical Algorithms" (2002), sections 4.1-4.2.
    """
    t = _terms(x, dtype)
    # --8<-- [start:pairwise-body]
    while t.size > 1:
        if t.size % 2:
            t = np.append(t, t.dtype.type(0))  # (even,)
        t = t[0::2] + t[1::2]  # (n/2,): one level of the tree
    return float(t[0])
    # --8<-- [end:pairwise-body]


@guard
# --8<-- [start:kahan]
def kahan_sum(x: ArrayLike, *, dtype: str = "float64") -> float:
    # --8<-- [end:kahan]
    r"""Return the sum of `x` by compensated (Kahan) summation: carry the lost low bits along.

    $$
    \begin{aligned}
    y &= x_i - c,\quad t = s + y,\\
    c &= (t - s) - y,\quad s = t .
    \end{aligned}
    $$

    $t - s$ is the part of $y$ that made it into the sum (exactly, by Sterbenz's lemma when the
    terms are small against $s$), so $c$ is minus what was rounded away; it is subtracted from
    the next term. A Python loop over `dtype` scalars: slow (about a microsecond a term), but
    every operation is rounded exactly as it would be in `dtype`.

    Args:
        x: the terms, shape `(N,)`.
        dtype: the precision of every operation (keyword-only).

    Returns:
        The sum, as a Python float.

    Raises:
        ValueError: as for [naive_sum][llmath.numerics.summation.naive_sum].

    Examples:
        >>> kahan_sum([1.0] + [1e-8] * 100, dtype="float32")
        1.0000009536743164

    Kahan, "Further remarks on reducing truncation errors" (1965); Higham (2002), section 4.3.
    """
    t = _terms(x, dtype)
    # --8<-- [start:kahan-body]
    s = c = t.dtype.type(0)
    for v in t:
        y = v - c
        total = s + y
        c = (total - s) - y  # what was rounded away, negated
        s = total
    return float(s)
    # --8<-- [end:kahan-body]
