r"""Xavier (Glorot) and He (Kaiming) initialisation: weight variances that keep signals alive.

For $y = x W$ with $W$ of shape `(fan_in, fan_out)` and independent zero-mean entries,
$\operatorname{Var}(y_j) = \text{fan\_in} \cdot \operatorname{Var}(w) \cdot \operatorname{E}[x^2]$
forward and $\operatorname{Var}(\partial x_i) = \text{fan\_out} \cdot \operatorname{Var}(w) \cdot
\operatorname{Var}(\partial y)$ backward: the two rules below choose $\operatorname{Var}(w)$ so that
one or both stay constant from layer to layer.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from llmath._checks import check_choice, check_positive_int, check_real, check_rng

__all__ = ["he_init", "xavier_init"]

_DISTRIBUTIONS = ("normal", "uniform")


def _draw(
    rng: np.random.Generator, std: float, shape: tuple[int, int], distribution: str
) -> NDArray[np.float64]:
    """Zero-mean entries of standard deviation `std`: normal, or uniform on [-a, a], a = √3·std."""
    if distribution == "normal":
        return rng.normal(0.0, std, size=shape)
    bound = math.sqrt(3.0) * std  # Var(U[-a, a]) = a^2 / 3
    return rng.uniform(-bound, bound, size=shape)


# --8<-- [start:xavier]
def xavier_init(
    fan_in: int,
    fan_out: int,
    *,
    rng: np.random.Generator,
    distribution: str = "normal",
    gain: float = 1.0,
) -> NDArray[np.float64]:
    # --8<-- [end:xavier]
    r"""Draw a `(fan_in, fan_out)` weight matrix with Glorot and Bengio's variance.

    $$
    \operatorname{Var}(w) = g^2\,
      \frac{2}{\text{fan\_in} + \text{fan\_out}},
    $$

    the compromise between the forward condition $\text{fan\_in} \operatorname{Var}(w) = 1$ and
    the backward one $\text{fan\_out} \operatorname{Var}(w) = 1$ (exact for both when the layer
    is square). Normal: standard deviation $g\sqrt{2/(\text{fan\_in} + \text{fan\_out})}$;
    uniform: on $[-a, a]$ with $a = g\sqrt{6/(\text{fan\_in} + \text{fan\_out})}$, the same
    variance. As `torch.nn.init.xavier_normal_`/`xavier_uniform_` (whose weights are stored
    transposed, `(fan_out, fan_in)`).

    Args:
        fan_in: inputs per output, the rows.
        fan_out: outputs, the columns.
        rng: the random generator.
        distribution: `"normal"` or `"uniform"`.
        gain: $g > 0$, e.g. $5/3$ for tanh (PyTorch's `calculate_gain`).

    Returns:
        Weights, shape `(fan_in, fan_out)`.

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = xavier_init(300, 100, rng=np.random.default_rng(0))
        >>> w.shape, round(float(w.var() * (300 + 100) / 2), 1)
        ((300, 100), 1.0)

    Glorot and Bengio (2010), Eq. (12) and (16).
    """
    n_in = check_positive_int(fan_in, name="fan_in")
    n_out = check_positive_int(fan_out, name="fan_out")
    generator = check_rng(rng)
    kind = check_choice(distribution, name="distribution", choices=_DISTRIBUTIONS)
    g = check_real(gain, name="gain", above=0)
    std = g * math.sqrt(2.0 / (n_in + n_out))
    return _draw(generator, std, (n_in, n_out), kind)


# --8<-- [start:he]
def he_init(
    fan_in: int, fan_out: int, *, rng: np.random.Generator, distribution: str = "normal"
) -> NDArray[np.float64]:
    # --8<-- [end:he]
    r"""Draw a `(fan_in, fan_out)` weight matrix with He et al.'s variance for ReLU layers.

    $$
    \operatorname{Var}(w) = \frac{2}{\text{fan\_in}}:
    $$

    a ReLU zeroes half of a symmetric pre-activation, so $\operatorname{E}[\mathrm{relu}(z)^2]
    = \tfrac12 \operatorname{Var}(z)$ and the factor 2 restores the forward variance. Normal:
    standard deviation $\sqrt{2/\text{fan\_in}}$; uniform: on $[-a, a]$ with
    $a = \sqrt{6/\text{fan\_in}}$. As `torch.nn.init.kaiming_normal_(w, nonlinearity="relu")`
    (its default mode `fan_in`).

    Args:
        fan_in: inputs per output, the rows.
        fan_out: outputs, the columns.
        rng: the random generator.
        distribution: `"normal"` or `"uniform"`.

    Returns:
        Weights, shape `(fan_in, fan_out)`.

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = he_init(400, 100, rng=np.random.default_rng(0))
        >>> w.shape, round(float(w.var() * 400 / 2), 1)
        ((400, 100), 1.0)

    He et al. (2015), Eq. (10).
    """
    n_in = check_positive_int(fan_in, name="fan_in")
    n_out = check_positive_int(fan_out, name="fan_out")
    generator = check_rng(rng)
    kind = check_choice(distribution, name="distribution", choices=_DISTRIBUTIONS)
    return _draw(generator, math.sqrt(2.0 / n_in), (n_in, n_out), kind)
