r"""Geometry of high dimensions: where the volume of a ball is, the radius of a random point,
and the Johnson–Lindenstrauss random projection.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    check_bool,
    check_choice,
    check_positive_int,
    check_real,
    check_rng,
    guard,
)

__all__ = [
    "ball_volume_fraction",
    "distance_ratios",
    "jl_min_dim",
    "radius_stats",
    "random_projection",
    "sample_ball",
    "unit_ball_volume",
]

Array = NDArray[np.float64]


@guard
# --8<-- [start:fraction]
def ball_volume_fraction(n: int, r: ArrayLike) -> Array | float:
    # --8<-- [end:fraction]
    r"""Return the fraction of the unit n-ball's volume within radius r: $r^n$.

    The ball of radius $r$ is the unit ball scaled by $r$ in each of $n$ directions:

    $$
    \frac{V_n(r)}{V_n(1)} = r^n, \qquad
    \text{shell } (1-\varepsilon, 1]: 1 - (1-\varepsilon)^n .
    $$

    Args:
        n: dimension.
        r: radii in $[0, 1]$, any shape `(...)`.

    Returns:
        The fractions, same shape; a float for a scalar.

    Raises:
        ValueError: if `n` is not a positive integer or a radius is outside $[0, 1]$.

    Examples:
        >>> round(ball_volume_fraction(100, 0.99), 6)
        0.366032
    """
    n = check_positive_int(n, name="n")
    radii = as_float_array(r, name="r", expected="(...)")
    if not ((radii >= 0) & (radii <= 1)).all():
        raise ValueError(f"r must be in [0, 1]; got {r!r:.60}")
    with np.errstate(under="ignore"):  # r**n underflowing to 0 is the right answer
        out = radii**n
    return float(out) if out.ndim == 0 else out


def unit_ball_volume(n: int, *, log: bool = False) -> float:
    r"""Return the volume of the unit ball in n dimensions (or its natural log).

    $$
    V_n = \frac{\pi^{n/2}}{\Gamma(n/2 + 1)} ,
    $$

    largest at $n = 5$ and then falling faster than exponentially; computed through
    $\ln \Gamma$, so `log=True` stays finite where $V_n$ underflows.

    Args:
        n: dimension.
        log: return $\ln V_n$ instead.

    Returns:
        $V_n$ or $\ln V_n$.

    Raises:
        ValueError: if `n` is not a positive integer.

    Examples:
        >>> round(unit_ball_volume(2), 6), round(unit_ball_volume(3), 6)
        (3.141593, 4.18879)
    """
    n = check_positive_int(n, name="n")
    log_v = 0.5 * n * math.log(math.pi) - math.lgamma(0.5 * n + 1)
    return log_v if check_bool(log, name="log") else math.exp(log_v)


# --8<-- [start:radius]
def radius_stats(n: int, *, distribution: str = "ball") -> dict[str, float]:
    # --8<-- [end:radius]
    r"""Return the mean, median, RMS and mode of the norm of a random point in n dimensions.

    Uniform in the unit ball, $P(R \le r) = r^n$, so the density is $n r^{n-1}$:

    $$
    \begin{aligned}
    \mathbb{E}R &= \tfrac{n}{n+1}, \quad
    \operatorname{med} R = 2^{-1/n}, \\
    \sqrt{\mathbb{E}R^2} &= \sqrt{\tfrac{n}{n+2}}, \quad
    \operatorname{mode} R = 1 .
    \end{aligned}
    $$

    Gaussian $x \sim \mathcal N(0, I/n)$: $R^2 = \chi^2_n / n$, with density
    $\propto r^{n-1} e^{-n r^2/2}$, mode $\sqrt{1 - 1/n}$, RMS $1$ and mean
    $\sqrt{2/n}\,\Gamma(\tfrac{n+1}{2}) / \Gamma(\tfrac n2)$ (no closed-form median).

    Args:
        n: dimension.
        distribution: `"ball"` (uniform in the unit ball) or `"gaussian"` ($\mathcal N(0, I/n)$).

    Returns:
        `{"mean", "median", "rms", "mode"}` for the ball; `{"mean", "rms", "mode"}` for the
            Gaussian.

    Raises:
        ValueError: if `n` is not a positive integer or `distribution` is unknown.

    Examples:
        >>> radius_stats(2)
        {'mean': 0.6666666666666666, 'median': 0.7071067811865476, 'rms': 0.7071067811865476, 'mode': 1.0}
    """
    # --8<-- [start:radius-body]
    n = check_positive_int(n, name="n")
    kind = check_choice(distribution, name="distribution", choices=("ball", "gaussian"))
    if kind == "ball":
        return {"mean": n / (n + 1), "median": 2.0 ** (-1.0 / n),
                "rms": math.sqrt(n / (n + 2)), "mode": 1.0}  # fmt: skip
    log_mean = 0.5 * math.log(2.0 / n) + math.lgamma((n + 1) / 2) - math.lgamma(n / 2)
    return {"mean": math.exp(log_mean), "rms": 1.0, "mode": math.sqrt(1.0 - 1.0 / n)}
    # --8<-- [end:radius-body]


def sample_ball(n: int, m: int, *, rng: np.random.Generator) -> Array:
    r"""Draw m points uniformly from the unit n-ball.

    A Gaussian vector's direction is uniform on the sphere; a radius $U^{1/n}$ with $U$ uniform
    on $[0, 1]$ has $P(R \le r) = r^n$, the ball's volume fraction.

    Args:
        n: dimension.
        m: number of points.
        rng: the random generator.

    Returns:
        Points, `(m, n)`.

    Raises:
        ValueError: if a count is not a positive integer or `rng` is not a Generator.

    Examples:
        >>> x = sample_ball(3, 5, rng=np.random.default_rng(0))
        >>> x.shape, bool((np.linalg.norm(x, axis=1) <= 1).all())
        ((5, 3), True)
    """
    n = check_positive_int(n, name="n")
    m = check_positive_int(m, name="m")
    rng = check_rng(rng)
    g = rng.standard_normal((m, n))  # (m, n)
    radius = rng.random(m) ** (1.0 / n)  # (m,)
    points: Array = g / np.linalg.norm(g, axis=1, keepdims=True) * radius[:, None]  # (m, n)
    return points


@guard
# --8<-- [start:projection]
def random_projection(x: ArrayLike, k: int, *, rng: np.random.Generator) -> Array:
    # --8<-- [end:projection]
    r"""Project rows of width D to width k with a Gaussian matrix scaled by $1/\sqrt{k}$.

    $$
    y = x R / \sqrt{k}, \quad R_{ij} \sim \mathcal N(0, 1),
    \quad \mathbb{E}\,\lVert y \rVert^2 = \lVert x \rVert^2 .
    $$

    Args:
        x: points, `(M, D)`.
        k: target dimension.
        rng: the random generator.

    Returns:
        Projected points, `(M, k)`.

    Raises:
        ValueError: if `x` is not a finite 2-D array, `k` not a positive integer or `rng` not a
            Generator.

    Examples:
        >>> random_projection(np.eye(4), 2, rng=np.random.default_rng(0)).shape
        (4, 2)

    Dasgupta and Gupta (2003), Sect. 2.
    """
    # --8<-- [start:projection-body]
    x = as_float_array(x, name="x", expected="(M, D)", ndim=2)
    k = check_positive_int(k, name="k")
    R = check_rng(rng).standard_normal((x.shape[1], k))  # (D, k)
    y: Array = x @ R / math.sqrt(k)  # (M, k)
    return y
    # --8<-- [end:projection-body]


@guard
def distance_ratios(x: ArrayLike, y: ArrayLike) -> Array:
    r"""Return $\lVert y_i - y_j \rVert^2 / \lVert x_i - x_j \rVert^2$ over all pairs $i < j$.

    How much a map $x_i \mapsto y_i$ (a random projection) stretches or shrinks each squared
    distance; the Johnson–Lindenstrauss lemma bounds them all within $[1-\varepsilon,
    1+\varepsilon]$.

    Args:
        x: original points, `(M, D)`, no two equal.
        y: their images, `(M, k)`.

    Returns:
        Ratios, `(M(M-1)/2,)`, pairs in row-major order of the upper triangle.

    Raises:
        ValueError: if the shapes do not match, there are fewer than two points or two points
            of `x` coincide.

    Examples:
        >>> distance_ratios([[0.0, 0.0], [3.0, 4.0]], [[0.0], [10.0]])
        array([4.])
    """
    a = as_float_array(x, name="x", expected="(M, D)", ndim=2)
    b = as_float_array(y, name="y", expected="(M, k)", ndim=2)
    if a.shape[0] != b.shape[0] or a.shape[0] < 2:
        raise ShapeError(f"x {a.shape} and y {b.shape} need the same number M >= 2 of rows")
    i, j = np.triu_indices(a.shape[0], k=1)
    before = ((a[i] - a[j]) ** 2).sum(axis=1)  # (pairs,)
    if not (before > 0).all():
        raise ValueError("x has two equal rows (or rows too close to tell apart)")
    ratios: Array = ((b[i] - b[j]) ** 2).sum(axis=1) / before  # (pairs,)
    return ratios


def jl_min_dim(m: int, eps: float) -> int:
    r"""Return a dimension k that preserves all pairwise distances of m points within ε.

    Dasgupta and Gupta's bound: for

    $$
    k \ge \frac{4 \ln m}{\varepsilon^2/2 - \varepsilon^3/3}
    $$

    a Gaussian projection keeps every squared distance within a factor $1 \pm \varepsilon$ with
    probability at least $1/m$ (repeat to succeed); it does not depend on the original
    dimension.

    Args:
        m: number of points, $\ge 2$.
        eps: distortion, in $(0, 1)$.

    Returns:
        The smallest integer $k$ satisfying the bound.

    Raises:
        ValueError: if `m` is not an integer $\ge 2$ or `eps` is not in $(0, 1)$.

    Examples:
        >>> jl_min_dim(1000, 0.5)
        332

    Johnson and Lindenstrauss (1984); Dasgupta and Gupta (2003), Theorem 2.1.
    """
    m = check_positive_int(m, name="m", at_least=2)
    e = check_real(eps, name="eps", above=0)
    if e >= 1:
        raise ValueError(f"eps must be in (0, 1); got {eps!r}")
    return math.ceil(4 * math.log(m) / (e**2 / 2 - e**3 / 3))
