"""Worked examples for "Sampling from a model": inputs chosen here, every result computed by llmath.

The running example is one next-token distribution over six words, "The cat sat on the ___",
with logits chosen by hand. Nothing here is a trained model.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, check, new_figure, svg
from llmath.linalg.vectors import one_hot
from llmath.probability.information import entropy
from llmath.probability.sampling import (
    apply_temperature,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)

TOKENS = ("mat", "rug", "floor", "sofa", "roof", "moon")
LOGITS = np.array([3.0, 2.2, 1.5, 1.0, 0.2, -1.0])  # (nV,)
TIE_LOGITS = np.array([3.0, 3.0, 1.5, 1.0, 0.2, -1.0])  # "rug" raised to tie with "mat"
V = len(TOKENS)
TEMPS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 100.0)
TIE_TEMPS = (1.0, 0.1, 0.01)
KS = (1, 2, 3, 4, 5, 6)
PS = (0.5, 0.75, 0.9, 0.95, 0.99, 1.0)

ZIPF_V = 50
ZIPF_LOGITS = -np.log(
    np.arange(1, ZIPF_V + 1)
)  # softmax at tau gives p_r proportional to r^(-1/tau)
FLAT_T, PEAKED_T = 2.0, 0.5
ADAPT_PS = (0.5, 0.8, 0.9, 0.95)
FIXED_K = 10

ORDER_T, ORDER_K, ORDER_P = 2.0, 3, 0.8

SAMPLE_T, SAMPLE_P = 0.8, 0.9  # the distribution the sampling check draws from
N_DRAWS = 200_000
SEED = 2026

HOT_TS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
HOT_P = 0.9
GREEDY_TS = (0.25, 0.5, 1.0, 2.0)
N_GREEDY = 20_000


def p1() -> NDArray[np.float64]:
    """The running example at tau = 1: softmax(LOGITS)."""
    return apply_temperature(LOGITS, 1.0)


# ---------------------------------------------------------------- temperature


def temperature_table() -> NDArray[np.float64]:
    """Rows: the distribution at each tau in TEMPS, then the two limits; last column H in bits."""
    rows = [apply_temperature(LOGITS, tau) for tau in TEMPS]
    rows.append(one_hot(greedy(LOGITS), V))  # tau -> 0: one-hot on the (unique) argmax
    rows.append(np.full(V, 1.0 / V))  # tau -> infinity: uniform
    P = np.array(rows)  # (len(TEMPS) + 2, nV)
    return np.column_stack([P, entropy(P, unit="bits")])


def ties_table() -> NDArray[np.float64]:
    """TIE_LOGITS at each tau in TIE_TEMPS, then greedy's one-hot."""
    rows = [apply_temperature(TIE_LOGITS, tau) for tau in TIE_TEMPS]
    rows.append(one_hot(greedy(TIE_LOGITS), V))
    return np.array(rows)


@functools.cache
def entropy_curve() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """tau on a log grid, H(softmax(LOGITS / tau)) and H(softmax(TIE_LOGITS / tau)) in bits."""
    taus = np.logspace(-2, 2.5, 181)
    h = np.array([entropy(apply_temperature(LOGITS, tau), unit="bits") for tau in taus])
    h_tie = np.array([entropy(apply_temperature(TIE_LOGITS, tau), unit="bits") for tau in taus])
    return taus, h, h_tie


def entropy_figure() -> str:
    """Entropy in bits against tau (log axis) for the running example and the tied logits."""
    taus, h, h_tie = entropy_curve()
    fig, ax = new_figure(6.2, 3.4)
    ax.semilogx(taus, h, color=BLUE, label="running example (unique maximum)")
    ax.semilogx(taus, h_tie, color=ORANGE, ls="--", label='"mat" and "rug" tied')
    ax.axhline(np.log2(V), color=GREEN, lw=0.8, ls=":", label=f"log₂ {V}: uniform (τ → ∞)")
    ax.axhline(1.0, color=ORANGE, lw=0.6, ls=":")
    ax.axhline(0.0, color=BLUE, lw=0.6, ls=":")
    ax.axvline(1.0, color="#000000", lw=0.5)
    ax.set_xlabel("temperature τ (log scale)")
    ax.set_ylabel("entropy H (bits)")
    ax.set_ylim(-0.1, np.log2(V) + 0.2)
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return svg(
        fig,
        alt="Entropy of the next-token distribution against temperature",
        caption="Entropy of the next-token distribution against the temperature τ, for the "
        "running example and for the same logits with two tied maxima.",
    )


# ---------------------------------------------------------------- top-k and top-p


def top_k_table() -> NDArray[np.float64]:
    """Rows: top_k_filter(P1, k) for every k; last column: the mass of P1 that was kept."""
    p = p1()
    rows = [top_k_filter(p, k) for k in KS]
    return np.array([[*r, p[r > 0].sum()] for r in rows])


def sorted_cumulative() -> NDArray[np.float64]:
    """Rows: P1 sorted in decreasing order, and its running sum (the masses top-p compares)."""
    s = np.sort(p1())[::-1]
    return np.vstack([s, np.cumsum(s)])


def top_p_table() -> NDArray[np.float64]:
    """Rows: top_p_filter(P1, p) for every p; last column: the mass of P1 that was kept."""
    p = p1()
    rows = [top_p_filter(p, pp) for pp in PS]
    return np.array([[*r, p[r > 0].sum()] for r in rows])


def zipf(tau: float) -> NDArray[np.float64]:
    """A Zipf-like distribution over ZIPF_V tokens: p_r proportional to r^(-1/tau)."""
    return apply_temperature(ZIPF_LOGITS, tau)


def adaptive() -> dict[str, NDArray[np.float64]]:
    """Kept counts and kept masses of top-p (rows ADAPT_PS) and of top-k (k = FIXED_K)."""
    flat, peaked = zipf(FLAT_T), zipf(PEAKED_T)
    counts, masses = [], []
    for pp in ADAPT_PS:
        kept = [top_p_filter(d, pp) > 0 for d in (flat, peaked)]
        counts.append([m.sum() for m in kept])
        masses.append([flat[kept[0]].sum(), peaked[kept[1]].sum()])
    topk = [d[top_k_filter(d, FIXED_K) > 0].sum() for d in (flat, peaked)]
    return {
        "counts": np.array(counts, dtype=np.float64),
        "masses": np.array(masses),
        "top_k_mass": np.array(topk),
    }


def adaptive_figure(p: float = 0.9) -> str:
    """The flat and the peaked distribution, with the tokens top-p keeps in colour."""
    fig, axes = new_figure(6.4, 3.0, 1, 2, sharey=True)
    r = np.arange(1, ZIPF_V + 1)
    for a, tau, name in zip(axes, (FLAT_T, PEAKED_T), ("flat", "peaked"), strict=True):
        d = zipf(tau)
        keep = top_p_filter(d, p) > 0
        a.bar(r[keep], d[keep], color=BLUE, width=0.8, label="kept")
        a.bar(r[~keep], d[~keep], color="#9ca3af", width=0.8, label="dropped")
        a.set_title(f"{name}: p_r ∝ r^(−{1 / tau:g}), keeps {keep.sum()}", fontsize=9)
        a.set_xlabel("rank r")
    axes[0].set_ylabel("probability")
    axes[0].legend(fontsize=8, frameon=False)
    return svg(
        fig,
        alt=f"Top-p with p = {p} on a flat and on a peaked distribution",
        caption=f"Top-p with p = {p}: the tokens kept (blue) from a flat and from a peaked "
        "Zipf-shaped distribution.",
    )


# ---------------------------------------------------------------- order of operations


def temper_filtered(q: NDArray[np.float64], tau: float) -> NDArray[np.float64]:
    """Temperature applied after a filter: q^(1/tau) renormalised on the kept tokens (0 elsewhere)."""
    kept = q > 0
    out = np.zeros_like(q)
    out[kept] = apply_temperature(np.log(q[kept]), tau)  # log q = logits up to a constant
    return out


def order_table() -> NDArray[np.float64]:
    """Rows: tau then top-k, top-k then tau, tau then top-p, top-p then tau (ORDER_T, ORDER_K, ORDER_P)."""
    p, pT = p1(), apply_temperature(LOGITS, ORDER_T)
    return np.array(
        [
            top_k_filter(pT, ORDER_K),
            temper_filtered(top_k_filter(p, ORDER_K), ORDER_T),
            top_p_filter(pT, ORDER_P),
            temper_filtered(top_p_filter(p, ORDER_P), ORDER_T),
        ]
    )


# ---------------------------------------------------------------- sampling


def sampled() -> NDArray[np.float64]:
    """The distribution the sampling check uses: temperature SAMPLE_T, then top-p SAMPLE_P."""
    return top_p_filter(apply_temperature(LOGITS, SAMPLE_T), SAMPLE_P)


def cdf_table() -> NDArray[np.float64]:
    """Rows: the sampled distribution and its cumulative sums F_i (token order, not sorted)."""
    q = sampled()
    return np.vstack([q, np.cumsum(q)])


def first_draws(n: int = 6) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The first n uniforms of the seeded generator and the tokens `sample` turns them into."""
    u = np.random.default_rng(SEED).random(n)  # what sample() draws first, same seed
    ids = sample(sampled(), np.random.default_rng(SEED), size=n)
    return u, np.asarray(ids)


@functools.cache
def empirical() -> NDArray[np.float64]:
    """Rows: the probabilities, the frequencies in N_DRAWS draws, the standard error sqrt(p(1-p)/N)."""
    q = sampled()
    ids = sample(q, np.random.default_rng(SEED), size=N_DRAWS)
    freq = np.bincount(np.asarray(ids), minlength=V) / N_DRAWS
    return np.vstack([q, freq, np.sqrt(q * (1 - q) / N_DRAWS)])


def chi_square() -> tuple[float, int]:
    """Pearson's statistic sum (O - E)^2 / E over the tokens with p > 0, and its degrees of freedom."""
    q, freq, _ = empirical()
    kept = q > 0
    observed, expected = freq[kept] * N_DRAWS, q[kept] * N_DRAWS
    return float(((observed - expected) ** 2 / expected).sum()), int(kept.sum()) - 1


# ---------------------------------------------------------------- exercises


def p_intervals() -> NDArray[np.float64]:
    """Row k: the interval (F_(k-1), F_(k)] of p for which top-p keeps exactly k tokens."""
    F = np.concatenate([[0.0], np.cumsum(np.sort(p1())[::-1])])
    return np.column_stack([F[:-1], F[1:]])


def p_intervals_check() -> bool:
    """top_p_filter at the midpoint and the right end of every interval keeps exactly k tokens."""
    ok = True
    for k, (lo, hi) in enumerate(p_intervals(), start=1):
        for pp in ((lo + hi) / 2, min(hi, 1.0)):
            ok &= int((top_p_filter(p1(), pp) > 0).sum()) == k
    return ok


def hot_counts() -> NDArray[np.float64]:
    """Tokens kept by top-p (HOT_P) after each temperature in HOT_TS."""
    return np.array(
        [[(top_p_filter(apply_temperature(LOGITS, tau), HOT_P) > 0).sum() for tau in HOT_TS]],
        dtype=np.float64,
    )


def hot_threshold() -> float:
    """The tau above which top-p (HOT_P) keeps all nV tokens: p_min(tau) = 1 - HOT_P, by bisection."""
    lo, hi = 1.0, 100.0  # p_min(tau) increases with tau; at 1 it is below 1 - HOT_P, at 100 above
    for _ in range(60):
        mid = (lo * hi) ** 0.5
        if apply_temperature(LOGITS, mid).min() > 1 - HOT_P:
            hi = mid
        else:
            lo = mid
    return hi


@functools.cache
def greedy_rate() -> NDArray[np.float64]:
    """Rows tau in GREEDY_TS: P(draw = greedy token) = max_i p_i(tau), and its frequency in draws."""
    rng = np.random.default_rng(SEED)
    g = greedy(LOGITS)
    rows = []
    for tau in GREEDY_TS:
        p = apply_temperature(LOGITS, tau)
        ids = np.asarray(sample(p, rng, size=N_GREEDY))
        rows.append([p.max(), (ids == g).mean()])
    return np.array(rows)


# ---------------------------------------------------------------- checks (independent witnesses)


def torch_top_p(probs: NDArray[np.float64], p: float) -> NDArray[np.float64]:
    """Top-p written the way Hugging Face's TopPLogitsWarper does it, in torch (float64).

    Sort ascending, drop every token whose cumulative mass from the bottom is at most 1 - p,
    always keep the largest, renormalise. An independent route to the same rule.
    """
    import torch

    t = torch.from_numpy(np.asarray(probs, dtype=np.float64))
    sorted_p, idx = torch.sort(t, descending=False, stable=True)
    remove_sorted = sorted_p.cumsum(-1) <= (1 - p)
    remove_sorted[..., -1] = False  # keep at least the most probable token
    remove = remove_sorted.scatter(-1, idx, remove_sorted)
    kept = t.masked_fill(remove, 0.0)
    return (kept / kept.sum(-1, keepdim=True)).numpy()


def temperature_checks() -> list[str]:
    """apply_temperature against torch.softmax(z / tau), and every row summing to 1."""
    import torch

    ours = np.array([apply_temperature(LOGITS, tau) for tau in TEMPS])
    ref = np.array([torch.softmax(torch.from_numpy(LOGITS) / tau, -1).numpy() for tau in TEMPS])
    return [
        check("max |apply_temperature − torch.softmax(z / τ)|", ours, ref, tol=1e-15),
        check("max |row sum − 1|", temperature_table()[:, :-1].sum(axis=1), 1.0, tol=1e-15),
    ]


def limit_checks() -> list[str]:
    """How close tau = 0.1 is to the one-hot limit and tau = 100 to uniform (bounds asserted)."""
    t = temperature_table()
    return [
        check("τ = 0.1: max |p − one-hot|", apply_temperature(LOGITS, 0.1), t[-2, :-1], tol=1e-3),
        check("τ = 100: max |p − 1/n_V|", apply_temperature(LOGITS, 100.0), 1 / V, tol=1e-2),
    ]


def top_k_checks() -> list[str]:
    """Rows sum to 1, k = 1 is greedy's one-hot, k = nV is the distribution itself."""
    t = top_k_table()
    return [
        check("max |row sum − 1|", t[:, :-1].sum(axis=1), 1.0, tol=1e-15),
        check("k = 1: max |row − one_hot(greedy)|", t[0, :-1], one_hot(greedy(LOGITS), V), tol=0.0),
        check("k = n_V: max |row − softmax(z)|", t[-1, :-1], p1(), tol=1e-15),
    ]


def top_p_checks() -> list[str]:
    """top_p_filter against the torch rewrite of Hugging Face's rule, for every p on the page."""
    ours = np.array([top_p_filter(p1(), pp) for pp in PS])
    ref = np.array([torch_top_p(p1(), pp) for pp in PS])
    return [check("max |top_p_filter − Hugging Face's rule in torch|", ours, ref, tol=1e-15)]


def sampling_checks() -> list[str]:
    """Every frequency within 4 standard errors of p (kept tokens), and no filtered token drawn.

    Each frequency is a mean of N_DRAWS indicators, standard error sqrt(p(1-p)/N); a deviation
    above 4 of them happens by chance with probability about 6e-5 per token. The seed is fixed.
    """
    q, freq, se = empirical()
    kept = q > 0
    z = np.abs(freq[kept] - q[kept]) / se[kept]
    return [
        check("max |frequency − p| / standard error", z.max(), 0.0, tol=4.0),
        check("frequency of filtered-out tokens", freq[~kept], 0.0, tol=0.0),
    ]


def greedy_rate_checks() -> list[str]:
    """The frequency of the greedy token against max p(tau), within 4 standard errors."""
    g = greedy_rate()
    se = np.sqrt(g[:, 0] * (1 - g[:, 0]) / N_GREEDY)
    return [
        check(
            "max |frequency − max p(τ)| / standard error",
            np.max(np.abs(g[:, 1] - g[:, 0]) / se),
            0.0,
            tol=4.0,
        )
    ]


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the page, keyed as on the page."""
    ad = adaptive()
    return {
        "sampling/example": np.vstack([LOGITS, p1()]),
        "sampling/temperature": temperature_table(),
        "sampling/ties": ties_table(),
        "sampling/top-k": top_k_table(),
        "sampling/cumulative": sorted_cumulative(),
        "sampling/top-p": top_p_table(),
        "sampling/adaptive-k": ad["counts"],
        "sampling/adaptive-mass": ad["masses"],
        "sampling/order": order_table(),
        "sampling/cdf": cdf_table(),
        "sampling/empirical": empirical(),
        "sampling/ex-p-intervals": p_intervals(),
        "sampling/ex-hot": hot_counts(),
        "sampling/ex-greedy-rate": greedy_rate(),
    }
