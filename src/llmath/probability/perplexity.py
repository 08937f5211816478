r"""Perplexity, bits per byte, and the conversion between nats and bits.

A language model's loss is the mean negative log-probability of the observed tokens, in nats.
Perplexity is its exponential; bits per byte divides the total information by the length of the
text in bytes, which does not depend on how the text was cut into tokens.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_positive_int, check_real, guard
from llmath.probability.information import _unit_log

__all__ = [
    "bits_per_byte",
    "bits_to_nats",
    "nats_to_bits",
    "perplexity",
    "perplexity_from_log_probs",
]

Array = NDArray[np.float64]
LN2 = math.log(2.0)


def _numbers(x: ArrayLike, *, name: str) -> Array:
    """Real numbers of any shape; infinity is allowed (an infinite loss is a loss), NaN is not."""
    return as_float_array(x, name=name, expected="(...)", finite=False)


def _out(x: Array) -> Array | float:
    return float(x) if x.ndim == 0 else x


@overload
def nats_to_bits(x: float) -> float: ...
@overload
def nats_to_bits(x: ArrayLike) -> Any: ...  # float for a scalar, else an array


@guard
def nats_to_bits(x: ArrayLike) -> Array | float:
    r"""Convert an amount of information from nats to bits: divide by $\ln 2$.

    $$
    \log_2 a = \frac{\ln a}{\ln 2} .
    $$

    Args:
        x: information in nats, any shape `(...)`.

    Returns:
        The same amount in bits, same shape; a float for a scalar.

    Raises:
        ValueError: if `x` does not hold real numbers, contains NaN or is empty.

    Examples:
        >>> nats_to_bits(0.6931471805599453)
        1.0
    """
    return _out(_numbers(x, name="x") / LN2)


@overload
def bits_to_nats(x: float) -> float: ...
@overload
def bits_to_nats(x: ArrayLike) -> Any: ...  # float for a scalar, else an array


@guard
def bits_to_nats(x: ArrayLike) -> Array | float:
    r"""Convert an amount of information from bits to nats: multiply by $\ln 2$.

    Args:
        x: information in bits, any shape `(...)`.

    Returns:
        The same amount in nats, same shape; a float for a scalar.

    Raises:
        ValueError: if `x` does not hold real numbers, contains NaN or is empty.

    Examples:
        >>> round(bits_to_nats(8.0), 4)
        5.5452
    """
    return _out(_numbers(x, name="x") * LN2)


@overload
def perplexity(mean_loss: float, *, unit: str = ...) -> float: ...
@overload
def perplexity(mean_loss: ArrayLike, *, unit: str = ...) -> Any: ...  # float for a scalar


@guard
# --8<-- [start:ppl]
def perplexity(mean_loss: ArrayLike, *, unit: str = "nats") -> Array | float:
    # --8<-- [end:ppl]
    r"""Return the perplexity for a mean negative log-probability per token.

    $$
    \mathrm{PPL} = e^{\bar\ell} \ \text{(}\bar\ell \text{ in nats)}
    = 2^{\bar\ell / \ln 2} \ \text{(the same loss in bits)} .
    $$

    The two units give the same number: only the base of the exponential changes with them.

    Args:
        mean_loss: the mean loss $\bar\ell \ge 0$ per token, any shape `(...)`.
        unit: the unit of `mean_loss`, `"nats"` or `"bits"` (keyword-only).

    Returns:
        The perplexity, $\ge 1$, same shape; a float for a scalar. `inf` for an infinite loss.

    Raises:
        ValueError: if `mean_loss` is NaN or negative, or `unit` is unknown, or the perplexity
            overflows float64 (a loss above about 709 nats).

    Examples:
        >>> perplexity(0.0)
        1.0
        >>> perplexity(3.0, unit="bits")
        8.0
    """
    # --8<-- [start:ppl-body]
    log = _unit_log(unit)
    loss = _numbers(mean_loss, name="mean_loss")
    if (loss < 0).any():
        raise ValueError(
            f"mean_loss must be >= 0 (a mean of -log p with p <= 1); got {mean_loss!r}"
        )
    return _out(np.exp(loss) if log is np.log else np.exp2(loss))
    # --8<-- [end:ppl-body]


@guard
# --8<-- [start:ppl-lp]
def perplexity_from_log_probs(log_probs: ArrayLike) -> float:
    # --8<-- [end:ppl-lp]
    r"""Return the perplexity of a sequence from the log-probabilities of its tokens.

    $$
    \mathrm{PPL} = \exp\Big(-\frac{1}{T} \sum_{t=1}^{T} \ln q(x_t \mid x_{<t})\Big)
    = \Big(\prod_{t=1}^{T} q(x_t \mid x_{<t})\Big)^{-1/T} ,
    $$

    the geometric mean of the inverse probabilities. Computed in log space: the product of
    thousands of probabilities underflows to 0 long before the perplexity is large.

    Args:
        log_probs: natural log-probabilities $\ln q(x_t \mid x_{<t}) \le 0$ of the observed
            tokens, shape `(T,)` with `T >= 1`. `-inf` (a token given probability 0) is
            allowed and gives `inf`.

    Returns:
        The perplexity, $\ge 1$.

    Raises:
        ShapeError: if `log_probs` is not 1-D or is empty.
        ValueError: if an entry is NaN, `+inf` or positive.

    Examples:
        >>> round(perplexity_from_log_probs([-0.6931471805599453, -1.3862943611198906]), 4)
        2.8284
    """
    # --8<-- [start:ppl-lp-body]
    lp = as_float_array(
        log_probs,
        name="log_probs",
        expected="(T,)",
        ndim=1,
        finite=False,
    )
    if (lp > 0).any():  # including +inf
        bad = float(lp[np.argmax(lp > 0)])
        raise ValueError(f"log_probs must be <= 0 (log of a probability); got {bad!r}")
    return float(np.exp(-np.mean(lp)))  # mean NLL in nats, then e^
    # --8<-- [end:ppl-lp-body]


@guard
# --8<-- [start:bpb]
def bits_per_byte(total_nats: float, n_bytes: int) -> float:
    # --8<-- [end:bpb]
    r"""Return the information per byte of text, in bits.

    $$
    \mathrm{bpb} = \frac{\text{total loss in nats}}{\ln 2 \cdot \text{number of bytes}} .
    $$

    The total loss is the sum (not the mean) of $-\ln q$ over all tokens of the text, and the
    bytes are those of the text's encoding (UTF-8 here), so the result does not depend on the
    tokeniser. An ideal arithmetic coder driven by the model needs about
    $\mathrm{bpb} \times \text{bytes} / 8$ bytes to store the text.

    Args:
        total_nats: the summed negative log-likelihood of the text in nats, $\ge 0$ and finite.
        n_bytes: the length of the text in bytes, $\ge 1$.

    Returns:
        Bits per byte; 8 means no compression at all for a byte-uniform model.

    Raises:
        ValueError: if `total_nats` is negative, NaN or infinite, or `n_bytes` is not a
            positive integer.

    Examples:
        >>> bits_per_byte(8 * 0.6931471805599453 * 100, 100)
        8.0
    """
    # --8<-- [start:bpb-body]
    n = check_positive_int(n_bytes, name="n_bytes")
    total = check_real(total_nats, name="total_nats", at_least=0)
    return total / LN2 / n
    # --8<-- [end:bpb-body]
