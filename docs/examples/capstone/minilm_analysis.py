"""Worked examples for "Inside a real model": all-MiniLM-L6-v2's similarities, attention
spectra, weight spectra, low-rank truncation, int8 quantisation and embedding geometry.

The model and the sentences are those of the reproduction chapter (examples.capstone.minilm).
Every number on the page is computed here, by llmath, while the page is built.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.cached import persistent
from examples.capstone import minilm as base
from examples.capstone import minilm_sweeps as sweeps
from llmath import (
    bert_attention,
    cosine_similarity,
    entropy,
    low_rank_approx,
    norm,
    spectral_gap,
    stationary_distribution,
)

Array = NDArray[np.float64]
N_PAIRS, MATRICES, RANKS = sweeps.N_PAIRS, sweeps.MATRICES, sweeps.RANKS
SEED = 384


# ---- similarity and neighbours ------------------------------------------------------------


@cache
def similarity() -> dict[str, Any]:
    """Cosine similarities of the paraphrase sentences and each one's nearest neighbour."""
    e = base.embeddings()[: 2 * N_PAIRS]
    s = cosine_similarity(e[:, None], e[None])  # (16, 16)
    off = s.copy()
    np.fill_diagonal(off, -np.inf)
    nearest = off.argmax(axis=1)
    partner = np.arange(2 * N_PAIRS) ^ 1
    dot = e @ e.T  # unit vectors: the dot product is the cosine
    return {
        "cos": s,
        "nearest": nearest,
        "partner": partner,
        "dot_vs_cos": float(np.abs(dot - s).max()),
    }


def similarity_figure() -> str:
    from examples.show import new_figure, svg

    s = similarity()["cos"]
    fig, ax = new_figure(5.2, 4.4)
    im = ax.imshow(s, cmap="viridis", vmin=-0.2, vmax=1)
    ax.set_xticks(range(len(s)))
    ax.set_yticks(range(len(s)))
    ax.tick_params(labelsize=8)
    ax.set_xlabel("sentence")
    ax.set_ylabel("sentence")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="cosine")
    return svg(fig, alt="A 16 by 16 heatmap of cosine similarities with bright 2 by 2 blocks on "
               "the diagonal", caption="Cosine similarities of the sixteen paraphrase sentences. "
               "The bright 2 × 2 blocks on the diagonal are the eight pairs; unrelated sentences "
               "are near 0.")  # fmt: skip


# ---- attention matrices as Markov chains ---------------------------------------------------


@cache
def attention_stats() -> dict[str, Array]:
    """For every layer, head and sentence: spectral gap, stationary mass on [CLS] and [SEP],
    entropy of the stationary distribution relative to the uniform one, and the mean row's
    weight on [SEP]."""
    ids, mask = base.batch(base.SENTENCES)
    att = bert_attention(base.params(), ids, mask, config=base.config())  # (N, B, H, T, T)
    N, B, H = att.shape[:3]
    lengths = mask.sum(axis=1)
    keys = ("gap", "cls", "sep", "rel_entropy", "col_cls", "col_sep", "L")
    out = {k: np.zeros((N, H, B)) for k in keys}
    for b in range(B):
        L = int(lengths[b])
        for n in range(N):
            for h in range(H):
                a = att[n, b, h, :L, :L]  # (L, L): the real tokens, rows sum to 1
                pi = stationary_distribution(a)
                out["gap"][n, h, b] = spectral_gap(a)
                out["cls"][n, h, b] = pi[0]
                out["sep"][n, h, b] = pi[L - 1]
                out["rel_entropy"][n, h, b] = entropy(pi) / np.log(L)
                out["col_cls"][n, h, b] = a[:, 0].mean()
                out["col_sep"][n, h, b] = a[:, L - 1].mean()
                out["L"][n, h, b] = L
    return out


def layer_table() -> Array:
    """Per layer, averaged over heads and sentences: gap, mean attention on [CLS], π([CLS]),
    π([SEP]), H(π)/log L."""
    s = attention_stats()
    return np.array([[s[k][n].mean() for k in ("gap", "col_cls", "cls", "sep", "rel_entropy")]
                     for n in range(s["gap"].shape[0])])  # fmt: skip


def uniform_share() -> float:
    """What a uniform stationary distribution would put on one token, averaged: mean 1/L."""
    return float((1 / attention_stats()["L"]).mean())


def attention_figure() -> str:
    from examples.show import new_figure, svg

    s = attention_stats()
    fig, axes = new_figure(7.0, 3.0, ncols=2)
    for ax, key, title in ((axes[0], "cls", "π on [CLS]"), (axes[1], "gap", "spectral gap")):
        im = ax.imshow(s[key].mean(axis=2), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_title(title)
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_xticks(range(0, 12, 2))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return svg(fig, alt="Two 6 by 12 heatmaps over layers and heads: stationary mass on [CLS] and "
               "spectral gap", caption="Every head of every layer, averaged over the 24 sentences. "
               "Left: the stationary distribution's mass on [CLS]. Right: the spectral gap "
               "1 − |λ₂| of the attention matrix.")  # fmt: skip


def head_example() -> dict[str, Any]:
    """The head with most stationary mass on [CLS], on one sentence, and its tokens."""
    s = attention_stats()
    n, h = np.unravel_index(s["cls"].mean(axis=2).argmax(), s["cls"].shape[:2])
    text = base.SENTENCES[0]
    ids = np.asarray(base.ids_of(text))
    att = bert_attention(base.params(), ids, np.ones_like(ids), config=base.config())[n, h]
    inv = {i: t for t, i in base.vocab().items()}
    return {"layer": int(n), "head": int(h), "a": att, "tokens": [inv[int(i)] for i in ids]}


def head_figure() -> str:
    from examples.show import new_figure, svg

    ex = head_example()
    fig, ax = new_figure(4.6, 4.2)
    im = ax.imshow(ex["a"], cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(ex["tokens"])), ex["tokens"], rotation=90, fontsize=9)
    ax.set_yticks(range(len(ex["tokens"])), ex["tokens"], fontsize=9)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return svg(fig, alt="An attention matrix whose first column, [CLS], is bright", caption=(
        f"Layer {ex['layer'] + 1}, head {ex['head'] + 1} on “{base.SENTENCES[0]}”: the head "
        "with the most stationary mass on [CLS]. Row t is the distribution of query t's "
        "attention over the keys."))  # fmt: skip


# ---- singular values of the weights --------------------------------------------------------


@cache  # once per process, also when the build cache is off
@persistent
def singular_values() -> dict[tuple[int, str], Array]:
    """σ of every attention and MLP weight of every layer, largest first (cached)."""
    return sweeps.singular_values()


@cache  # once per process, also when the build cache is off
@persistent
def rank_sweep() -> Array:
    """Per r: mean and worst cosine to the original embeddings, nearest-neighbour hits (cached)."""
    return sweeps.rank_sweep()


@cache  # once per process, also when the build cache is off
@persistent
def quant_sweep() -> dict[str, dict[str, Any]]:
    """Cosine to the original embeddings under int8/int4 weights (cached)."""
    return sweeps.quant_sweep()


def rank_for_energy(s: Array, share: float = 0.9) -> int:
    """The smallest r whose top r singular values hold `share` of Σσ² (the squared Frobenius norm)."""
    c = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(c, share) + 1)


@cache
def gaussian_spectra() -> dict[str, Array]:
    """Singular values of Gaussian matrices of the two shapes, the 'no structure' baseline."""
    rng = np.random.default_rng(SEED)
    return {shape: np.linalg.svd(rng.standard_normal(dims), compute_uv=False)
            for shape, dims in (("square", (384, 384)), ("wide", (384, 1536)))}  # fmt: skip


def rank_table() -> Array:
    """Per matrix kind: r for 90% of the energy, averaged over the 6 layers, and the Gaussian's."""
    g = gaussian_spectra()
    rows = []
    for name in MATRICES:
        rs = [rank_for_energy(singular_values()[(i, name)]) for i in range(base.config().n_layers)]
        shape = "square" if name in ("w_q", "w_k", "w_v", "w_o") else "wide"
        rows.append([np.mean(rs), min(rs), max(rs), rank_for_energy(g[shape])])
    return np.array(rows, dtype=np.float64)


def spectrum_figure() -> str:
    from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, new_figure, svg

    fig, ax = new_figure(6.0, 3.2)
    colours = dict(zip(MATRICES, (BLUE, ORANGE, GREEN, RED, PURPLE, "#64748b"), strict=True))
    for name in MATRICES:
        s = singular_values()[(0, name)]
        i = np.r_[np.arange(0, len(s) - 1, 3), len(s) - 1]  # every third value: a lighter SVG
        ax.plot(i + 1, s[i] / s[0], color=colours[name], lw=1.4,
                label=name.replace("w_", "W_"))  # fmt: skip
    g = gaussian_spectra()["square"]
    i = np.r_[np.arange(0, len(g) - 1, 3), len(g) - 1]
    ax.plot(i + 1, g[i] / g[0], color="#000000", ls="--", lw=1.2,
            label="Gaussian")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("index i")
    ax.set_ylabel("σᵢ / σ₁")
    ax.legend(ncol=2, fontsize=9, frameon=False)
    return svg(fig, alt="Singular values of layer 1's six weight matrices against a Gaussian matrix",
               caption="Singular values of the first layer's six weight matrices, divided by the "
               "largest, against a Gaussian 384 × 384 matrix (dashed).")  # fmt: skip


def lowrank_vs_part1() -> float:
    """The page's truncation against Part 1's low_rank_approx on one matrix."""
    r, w = RANKS[1], base.params().layers[2].w_v
    ours = sweeps.truncate(*np.linalg.svd(w, full_matrices=False), r)
    return float(np.abs(ours - low_rank_approx(w, r)).max())


def rank_figure() -> str:
    from examples.show import BLUE, ORANGE, new_figure, svg

    t = rank_sweep()
    fig, ax = new_figure(5.5, 3.0)
    ax.plot(t[:, 0], 1 - t[:, 1], "o-", color=BLUE, label="mean")
    ax.plot(t[:, 0], 1 - t[:, 2], "s--", color=ORANGE, label="worst sentence")
    ax.set_yscale("log")
    ax.set_xlabel("rank r kept in every weight matrix (of 384)")
    ax.set_ylabel("1 − cosine to the original")
    ax.legend(frameon=False)
    return svg(fig, alt="Embedding drift falling as the kept rank grows",
               caption="How far the sentence embeddings move when all 36 attention and MLP "
               "weights are truncated to rank r.")  # fmt: skip


# ---- int8 quantisation ---------------------------------------------------------------------


def outliers() -> Array:
    """Per weight matrix: its largest |entry| over the median of its output channels' largest."""
    ratios = []
    for _, _, w in sweeps.weights(base.params()):
        per_channel = np.abs(w).max(axis=0)  # (D_out,): the scale of each output feature
        ratios.append(np.abs(w).max() / np.median(per_channel))
    return np.array(ratios)


def quant_similarity_change() -> float:
    """Largest change of a pairwise cosine similarity under int8 per-channel weights."""
    e = quant_sweep()["int8, per output channel"]["emb"]
    s_q = cosine_similarity(e[:, None], e[None])
    return float(np.abs(s_q - similarity()["cos"]).max())


def quant_table() -> Array:
    q = quant_sweep()
    return np.array([[1 - v["mean"], 1 - v["min"], v["hits"]] for v in q.values()])


def mixing(steps: int = 12) -> dict[str, Any]:
    """The figure's head as a Markov chain: distance of e_t A^n from π against |λ₂|^n."""
    a = head_example()["a"]
    pi = stationary_distribution(a)
    lam2 = 1 - spectral_gap(a)
    mu = np.zeros(len(a))
    mu[len(a) // 2] = 1.0  # start at a middle token
    dist = []
    for _ in range(steps):
        mu = mu @ a
        dist.append(0.5 * np.abs(mu - pi).sum())  # total variation distance
    return {"dist": np.array(dist), "lam2": lam2, "pi_cls": float(pi[0])}


def cls_centred() -> dict[str, float]:
    """The [CLS] vectors' paraphrase margin before and after subtracting their mean."""
    cls = base.hidden_all()[: 2 * N_PAIRS, 0]
    out = {}
    for name, x in (("raw", cls), ("centred", cls - cls.mean(axis=0))):
        s = cosine_similarity(x[:, None], x[None])
        n, partner = len(x), np.arange(len(x)) ^ 1
        other = np.ones((n, n), bool)
        other[np.arange(n), np.arange(n)] = other[np.arange(n), partner] = False
        out[name + "_pair"] = float(s[np.arange(n), partner].mean())
        out[name + "_other"] = float(s[other].mean())
    return out


def weight_bytes() -> dict[str, float]:
    n = sum(w.size for _, _, w in sweeps.weights(base.params()))
    total = base.param_counts()["total"]
    return {"n": n, "share": n / total, "f32": 4 * n / 1e6, "i8": n / 1e6}


# ---- geometry: norms and anisotropy ------------------------------------------------------


def _mean_offdiag_cos(x: Array) -> float:
    u = x / norm(x)[:, None]
    s = u @ u.T
    n = len(u)
    return float((s.sum() - np.trace(s)) / (n * n - n))


@cache
def geometry() -> dict[str, Any]:
    _, mask = base.batch(base.SENTENCES)
    tokens = base.hidden_all()[mask.astype(bool)]  # (real tokens, D)
    u = (base.hidden_all() * mask[..., None]).sum(axis=1) / mask.sum(axis=1)[:, None]
    rng = np.random.default_rng(SEED)
    gauss = rng.standard_normal((len(tokens), base.config().D))
    rows = rng.choice(base.config().n_vocab, size=2000, replace=False)
    word = base.params().word[rows]
    centred = tokens - tokens.mean(axis=0)
    mean_dir = tokens.mean(axis=0) / norm(tokens.mean(axis=0))
    return {
        "tokens": _mean_offdiag_cos(tokens),
        "sentences": _mean_offdiag_cos(base.embeddings()),
        "word": _mean_offdiag_cos(word),
        "gauss": _mean_offdiag_cos(gauss),
        "centred": _mean_offdiag_cos(centred),
        "n_tokens": len(tokens),
        "D": base.config().D,
        "u_norm": norm(u),
        "token_norm": norm(tokens),
        "mean_dir_cos": cosine_similarity(tokens, mean_dir),
    }


def geometry_figure() -> str:
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    g = geometry()
    _, mask = base.batch(base.SENTENCES)
    tokens = base.hidden_all()[mask.astype(bool)]
    rng = np.random.default_rng(SEED)
    gauss = rng.standard_normal((len(tokens), g["D"]))
    fig, ax = new_figure(6.0, 3.0)
    bins = np.linspace(-0.4, 1.0, 57)
    for x, colour, label in ((gauss, ORANGE, "Gaussian vectors"), (tokens, BLUE, "token states"),
                             (tokens - tokens.mean(axis=0), GREEN, "token states, centred")):  # fmt: skip
        u = x / norm(x)[:, None]
        s = (u @ u.T)[np.triu_indices(len(u), 1)]
        counts, _ = np.histogram(s, bins=bins, density=True)
        ax.stairs(counts, bins, color=colour, lw=1.5, label=label)
    ax.set_xlabel("cosine between two vectors")
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=10)
    return svg(fig, alt="Histograms of pairwise cosines: Gaussian vectors near 0, token states "
               "shifted to positive values", caption=f"Pairwise cosines of the "
               f"{g['n_tokens']} real tokens' last hidden states, of as many Gaussian vectors in "
               f"D = {g['D']}, and of the token states after subtracting their mean.")  # fmt: skip


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    sim = similarity()["cos"]
    return {
        "analysis/cos": sim[:6, :6],
        "analysis/layers": layer_table(),
        "analysis/rank90": rank_table(),
        "analysis/ranks": rank_sweep()[:, 1:3],
        "analysis/quant": quant_table(),
    }
