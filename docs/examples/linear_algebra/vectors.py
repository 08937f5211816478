"""Worked examples for the vectors chapter: inputs chosen here, every result computed by llmath."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from numpy.typing import NDArray

import llmath

# Two 2-D vectors for the dot-product example: 45 degrees apart, chosen so the reader can check.
A = np.array([3.0, 1.0])
B = np.array([1.0, 2.0])

# A made-up embedding table: random numbers, not trained, so its similarities mean nothing.
V, D = 6, 4  # vocabulary size n_V (the name V predates the notation page) and width D
SEED = 0
IDS = np.array([3, 0, 3, 5])

# Three unit directions 0, 45 and 90 degrees: the counterexample to "1 - cos is a distance".
TRIANGLE = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])

CONCENTRATION_WIDTHS = (2, 4, 16, 64, 256, 768)
CONCENTRATION_PAIRS = 4_000
CONCENTRATION_SEED = 1
SWEEP_DEGREES = (15.0, 30.0, 45.0, 60.0, 75.0, 90.0)


def dot_example() -> dict[str, float]:
    """The dot product of A and B two ways, and both sides of the law of cosines."""
    dot = float(A @ B)
    na, nb = float(llmath.norm(A)), float(llmath.norm(B))
    cos = float(llmath.cosine_similarity(A, B))
    theta = math.degrees(math.acos(cos))
    theta_atan2 = math.degrees(math.atan2(B[1], B[0]) - math.atan2(A[1], A[0]))
    return {
        "dot": dot,
        "norm_a": na,
        "norm_b": nb,
        "cos": cos,
        "theta_from_dot": theta,
        "theta_from_atan2": theta_atan2,
        "lhs_law_of_cosines": float(llmath.norm(A - B)) ** 2,
        "rhs_law_of_cosines": na**2 + nb**2 - 2 * na * nb * cos,
    }


def naive_norm(x: NDArray[np.floating]) -> np.floating:
    """The textbook formula sqrt(sum x_i^2), in the dtype of x, overflow warnings silenced."""
    with np.errstate(over="ignore", under="ignore"):
        return np.sqrt(np.sum(x * x))  # type: ignore[no-any-return]


def overflow_demo() -> list[tuple[str, float, float]]:
    """(scale, naive, llmath.norm) for 3-4-5 vectors scaled to tiny, ordinary and huge."""
    rows = []
    for scale in (1e-200, 1.0, 1e200):
        x = np.array([3.0, 4.0]) * scale
        rows.append((f"{scale:g}", float(naive_norm(x)), float(llmath.norm(x))))
    return rows


def float16_threshold() -> dict[str, float]:
    """The smallest float16 x for which the naive norm of (x, x) in float16 is infinite."""
    bits = np.arange(0x0001, 0x7C00, dtype=np.uint16)  # every positive finite float16
    xs = bits.view(np.float16)  # (31743,)
    pairs = np.stack([xs, xs], axis=-1)  # (31743, 2)
    with np.errstate(over="ignore"):
        naive = np.sqrt(np.sum(pairs * pairs, axis=-1, dtype=np.float16))  # (31743,)
    first = int(np.argmax(np.isinf(naive)))
    fmax = float(np.finfo(np.float16).max)
    return {
        "x": float(xs[first]),
        "previous": float(xs[first - 1]),
        "closed_form": math.sqrt(fmax / 2),
        "float16_max": fmax,
        "true_norm": float(llmath.norm(pairs[first].astype(np.float64))),
    }


def scaling_check() -> dict[str, float]:
    """cos(c a, b) for c = 1, 3, -0.5 with a, b the first two rows of the embedding table."""
    E = embedding_table()
    a, b = E[0], E[1]
    return {
        "c=1": float(llmath.cosine_similarity(a, b)),
        "c=3": float(llmath.cosine_similarity(3.0 * a, b)),
        "c=-0.5": float(llmath.cosine_similarity(-0.5 * a, b)),
    }


def zero_vector_message() -> str:
    """The error llmath raises for the cosine with a zero vector."""
    try:
        llmath.cosine_similarity([0.0, 0.0], [1.0, 2.0])
    except ValueError as exc:
        return str(exc)
    raise AssertionError("cosine_similarity accepted a zero vector")


def triangle() -> NDArray[np.float64]:
    """Rows: 1 - cos, chord sqrt(2 - 2 cos), angle arccos(cos) (radians).

    Columns: d(a, b), d(b, c), d(a, b) + d(b, c), d(a, c).
    """
    a, b, c = TRIANGLE
    cos = np.array(
        [
            llmath.cosine_similarity(a, b),
            llmath.cosine_similarity(b, c),
            llmath.cosine_similarity(a, c),
        ]
    )  # (3,)
    rows = []
    for d in (1.0 - cos, np.sqrt(2.0 - 2.0 * cos), np.arccos(cos)):
        rows.append([d[0], d[1], d[0] + d[1], d[2]])
    return np.array(rows)  # (3, 4)


def triangle_random(n: int = 10_000, dim: int = 3, seed: int = 2) -> float:
    """Fraction of random Gaussian triples (a, b, c) where 1 - cos breaks the triangle rule."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.standard_normal((3, n, dim))  # (n, dim) each
    d_ab = 1.0 - llmath.cosine_similarity(a, b)  # (n,)
    d_bc = 1.0 - llmath.cosine_similarity(b, c)
    d_ac = 1.0 - llmath.cosine_similarity(a, c)
    return float(np.mean(d_ab + d_bc < d_ac))


def triangle_sweep() -> NDArray[np.float64]:
    """Unit vectors at 0, t, 2t. Rows: t. Cols: d(a,b)+d(b,c), d(a,c), gap, -2cos t (1-cos t)."""
    rows = []
    for deg in SWEEP_DEGREES:
        t = math.radians(deg)
        a, b, c = (np.array([math.cos(k * t), math.sin(k * t)]) for k in (0, 1, 2))
        two_steps = 2.0 - float(llmath.cosine_similarity(a, b) + llmath.cosine_similarity(b, c))
        direct = 1.0 - float(llmath.cosine_similarity(a, c))
        rows.append([two_steps, direct, two_steps - direct, -2 * math.cos(t) * (1 - math.cos(t))])
    return np.array(rows)  # (6, 4)


def embedding_table() -> NDArray[np.float64]:
    """The made-up (nV, D) table: standard normal entries from default_rng(SEED)."""
    return np.random.default_rng(SEED).standard_normal((V, D))  # (nV, D)


def lookup() -> dict[str, NDArray[np.float64]]:
    """One-hot rows for IDS, the lookup by product and by indexing, and their difference."""
    E = embedding_table()  # (nV, D)
    hot = llmath.one_hot(IDS, V)  # (T, nV)
    by_product = hot @ E  # (4, D)
    by_index = llmath.embed(IDS, E)  # (4, D)
    return {
        "one_hot": hot,
        "by_product": by_product,
        "by_index": by_index,
        "max_abs_diff": np.array(np.max(np.abs(by_product - by_index))),
    }


def cosine_matrix() -> NDArray[np.float64]:
    """Cosine similarity of every pair of rows of the embedding table, shape (nV, nV)."""
    E = embedding_table()
    return llmath.cosine_similarity(E[:, None, :], E[None, :, :])  # (nV, nV)


def normalised_gram_gap() -> float:
    """max |E_hat E_hat^T - cosine matrix| with E_hat the rows of E divided by their norms."""
    E = embedding_table()
    E_hat = E / llmath.norm(E)[:, None]  # (nV, D)
    return float(np.max(np.abs(E_hat @ E_hat.T - cosine_matrix())))


@cache
def random_cosines(dim: int) -> NDArray[np.float64]:
    """Cosines of CONCENTRATION_PAIRS independent pairs of standard normal vectors in R^dim."""
    rng = np.random.default_rng([CONCENTRATION_SEED, dim])
    a = rng.standard_normal((CONCENTRATION_PAIRS, dim))  # (n, dim)
    b = rng.standard_normal((CONCENTRATION_PAIRS, dim))  # (n, dim)
    return llmath.cosine_similarity(a, b)  # (n,)


@cache
def concentration() -> NDArray[np.float64]:
    """Rows D; cols mean, std, 1/sqrt(D), std*sqrt(D), max |cos|, count of cos exactly 0."""
    rows = []
    for dim in CONCENTRATION_WIDTHS:
        c = random_cosines(dim)
        std = float(np.std(c))
        rows.append(
            [
                dim,
                float(np.mean(c)),
                std,
                1 / math.sqrt(dim),
                std * math.sqrt(dim),
                float(np.max(np.abs(c))),
                float(np.sum(c == 0.0)),
            ]
        )
    return np.array(rows)


def cosine_density(t: NDArray[np.float64], dim: int) -> NDArray[np.float64]:
    """Exact density of the cosine between two independent isotropic vectors in R^dim (dim >= 2).

    p(t) = Gamma(dim/2) / (sqrt(pi) Gamma((dim-1)/2)) (1 - t^2)^((dim-3)/2) on (-1, 1).
    """
    log_c = math.lgamma(dim / 2) - 0.5 * math.log(math.pi) - math.lgamma((dim - 1) / 2)
    return np.exp(log_c + (dim - 3) / 2 * np.log1p(-(t**2)))  # type: ignore[no-any-return]


def ks_distance(dim: int, grid: int = 20_001) -> float:
    """Kolmogorov-Smirnov distance between the sampled cosines and the exact distribution.

    The exact CDF is the trapezoid integral of `cosine_density` on a fine grid; the largest
    gap between it and the empirical CDF of the CONCENTRATION_PAIRS samples is returned.
    """
    c = np.sort(random_cosines(dim))  # (n,)
    t = np.linspace(-1.0, 1.0, grid)  # (grid,)
    with np.errstate(divide="ignore"):  # the density may be infinite at +-1 for dim = 2
        p = cosine_density(np.clip(t, -1 + 1e-12, 1 - 1e-12), dim)
    cdf = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) / 2 * np.diff(t))])
    cdf /= cdf[-1]
    exact = np.interp(c, t, cdf)  # (n,)
    n = len(c)
    above = np.arange(1, n + 1) / n - exact
    below = exact - np.arange(n) / n
    return float(max(above.max(), below.max()))


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the vectors page, keyed as on the page."""
    look = lookup()
    return {
        "vectors/embedding-table": embedding_table(),
        "vectors/one-hot": look["one_hot"],
        "vectors/lookup": look["by_index"],
        "vectors/cosine-matrix": cosine_matrix(),
        "vectors/triangle": triangle(),
        "vectors/triangle-sweep": triangle_sweep(),
        "vectors/concentration": concentration()[:, 1:],
    }


# ---- figures -------------------------------------------------------------------------------


def figure_law_of_cosines() -> str:
    """a, b, a - b and the angle between a and b."""
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    fig, ax = new_figure(4.2, 3.2)
    for v, colour, name in ((A, BLUE, "a"), (B, ORANGE, "b")):
        ax.annotate(
            "", xy=v, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2}
        )
        ax.text(v[0] + 0.08, v[1] + 0.05, f"{name} = ({v[0]:g}, {v[1]:g})", color=colour)
    ax.annotate("", xy=A, xytext=B, arrowprops={"arrowstyle": "->", "color": GREEN, "lw": 2})
    mid = (A + B) / 2
    ax.text(mid[0] + 0.1, mid[1] + 0.1, "a − b", color=GREEN)
    t0, t1 = math.atan2(A[1], A[0]), math.atan2(B[1], B[0])
    ts = np.linspace(t0, t1, 40)
    ax.plot(0.7 * np.cos(ts), 0.7 * np.sin(ts), color="#000000", lw=1)
    theta = math.degrees(math.acos(float(llmath.cosine_similarity(A, B))))
    ax.text(0.75, 0.55, f"θ = {theta:.0f}°")
    ax.set_xlim(-0.2, 4.2)
    ax.set_ylim(-0.2, 2.6)
    ax.set_aspect("equal")
    ax.set_xlabel("first coordinate")
    ax.set_ylabel("second coordinate")
    return svg(
        fig,
        alt="Vectors a and b from the origin, their difference a − b, and angle θ",
        caption="The triangle behind the law of cosines: a, b, a − b and the angle θ.",
    )


def figure_concentration() -> str:
    """Histograms of random cosines against the exact density, and std against 1/sqrt(D)."""
    from examples.show import BLUE, GREEN, ORANGE, PURPLE, new_figure, svg

    fig, (left, right) = new_figure(8.4, 3.2, 1, 2)
    t = np.linspace(-0.999, 0.999, 400)
    for dim, colour in ((4, BLUE), (64, ORANGE), (768, GREEN)):
        c = random_cosines(dim)
        left.hist(c, bins=60, range=(-1, 1), density=True, alpha=0.45, color=colour)
        left.plot(t, cosine_density(t, dim), color=colour, lw=1.5, label=f"D = {dim}")
    left.set_xlabel("cosine of two random vectors")
    left.set_ylabel("density")
    left.legend(frameon=False)
    rows = concentration()
    right.loglog(rows[:, 0], rows[:, 2], "o", color=PURPLE, label="measured std")
    dims = np.geomspace(2, 768, 50)
    right.loglog(dims, 1 / np.sqrt(dims), color="#000000", lw=1, label="1/√D")
    right.set_xlabel("width D")
    right.set_ylabel("std of cosine")
    right.legend(frameon=False)
    fig.tight_layout()
    return svg(
        fig,
        alt="Histograms of cosine similarity of random vectors narrowing as D grows, "
        "and their standard deviation following 1 over root D",
        caption="Left: cosines of random pairs (histograms) and the exact density (lines). "
        "Right: their standard deviation against 1/√D.",
    )
