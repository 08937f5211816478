"""Worked examples for "Decoding beyond sampling": greedy and beam search against exhaustive
enumeration on a bigram model of a garden-path grammar; beam search's length bias on Part 3's
grammar; speculative decoding's exact output distribution, a χ² test, and the expected number
of tokens per target call against simulation.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, new_figure, svg
from llmath import (
    NGramModel,
    beam_search,
    expected_tokens_per_step,
    generate_corpus,
    length_penalty,
    speculative_decode,
    speculative_step,
)

Array = NDArray[np.float64]
NOUNS = ("cat", "dog", "bird", "child", "fish", "owl", "fox", "hen")
# Three openings: "the" and "a" are likelier but spread over eight nouns; "one" has one.
GARDEN = {
    "S": [(0.40, ("the", "N")), (0.35, ("a", "M")), (0.25, ("one", "cat"))],
    "N": [(1 / 8, (n,)) for n in NOUNS],
    "M": [(1 / 8, (n,)) for n in NOUNS],
}
GARDEN_SEED, GARDEN_N, K = 3, 4000, 0.001
MAX_NEW = 3
LENGTH_SEED, LENGTH_N = 1, 3000
LENGTH_MAX, LENGTH_WIDTH = 10, 40
SPEC_SEED, SPEC_DRAWS = 5, 20_000
CONTEXT = ("the",)
GAMMAS = (1, 2, 4, 6)
ROUNDS = 1000
ALPHAS = (0.5, 0.7, 0.9)

LogProbs = Callable[[Sequence[int]], Array]


def as_log_probs(model: NGramModel) -> LogProbs:
    """An n-gram model as beam search's next_log_probs: ids so far -> log P(next | context)."""
    vocab = model.vocab

    def next_log_probs(ids: Sequence[int]) -> Array:
        return np.log(model.distribution([vocab[i] for i in ids]))

    return next_log_probs


@functools.cache
def garden_model() -> NGramModel:
    corpus = generate_corpus(np.random.default_rng(GARDEN_SEED), GARDEN_N, grammar=GARDEN)
    return NGramModel(2, k=K).fit(corpus)


def words(model: NGramModel, ids: Sequence[int]) -> str:
    return " ".join(model.vocab[i] for i in ids)


@functools.cache
def enumerate_all(prefix: Sequence[int] = ()) -> list[tuple[float, tuple[int, ...]]]:
    """Every continuation of `prefix` of at most MAX_NEW tokens ending in </s>, with its
    log-probability given the prefix, best first (`longer_bound` shows that no longer
    sequence can do better from the empty prefix)."""
    m = garden_model()
    f = as_log_probs(m)
    eos = m.vocab.index("</s>")
    nV = len(m.vocab)
    start = list(prefix)
    out = []
    for n in range(1, MAX_NEW + 1):
        for body in itertools.product([v for v in range(nV) if v != eos], repeat=n - 1):
            seq = (*body, eos)
            lp = sum(f(start + list(seq[:i]))[seq[i]] for i in range(n))
            out.append((float(lp), seq))
    return sorted(out, key=lambda t: -t[0])


def longer_bound() -> float:
    """max log P of any MAX_NEW-token prefix without </s>: every longer sequence is below it."""
    m = garden_model()
    f = as_log_probs(m)
    eos = m.vocab.index("</s>")
    others = [v for v in range(len(m.vocab)) if v != eos]
    return max(
        float(sum(f(list(s[:i]))[s[i]] for i in range(MAX_NEW)))
        for s in itertools.product(others, repeat=MAX_NEW)
    )


def beam_results() -> dict[int, tuple[list[int], float]]:
    """Beam width -> (best sequence, its log-probability)."""
    m = garden_model()
    eos = m.vocab.index("</s>")
    out = {}
    for k in (1, 2, 3):
        r = beam_search(as_log_probs(m), [], beam_width=k, max_new_tokens=MAX_NEW, eos=eos)
        out[k] = (r.sequences[0], float(r.log_probs[0]))
    return out


def prefix_continuations(prefix: Sequence[int]) -> dict[str, tuple[list[int], float]]:
    """Continuing `prefix`: the best continuation by exhaustive search (`enumerate_all`), and
    what beams of width 1 and 3 return. Each entry: (the continuation, its log-probability
    given the prefix)."""
    m = garden_model()
    eos = m.vocab.index("</s>")
    lp, seq = enumerate_all(tuple(prefix))[0]  # cached: the key must be hashable
    out = {"exact": (list(seq), lp)}
    for k in (1, 3):
        r = beam_search(
            as_log_probs(m), list(prefix), beam_width=k, max_new_tokens=MAX_NEW, eos=eos
        )
        out[f"beam k = {k}"] = (r.sequences[0], float(r.log_probs[0]))
    return out


def beam_table() -> Array:
    """Rows: width 1, 2, 3 and the exact search. Columns: log P of the answer, P."""
    b = beam_results()
    best = enumerate_all()[0][0]
    rows = [[lp, math.exp(lp)] for _, lp in b.values()] + [[best, math.exp(best)]]
    return np.array(rows)


# --- length bias ------------------------------------------------------------------------------


@functools.cache
def length_model() -> NGramModel:
    return NGramModel(2, k=K).fit(generate_corpus(np.random.default_rng(LENGTH_SEED), LENGTH_N))


@functools.cache
def best_by_length() -> Array:
    """Exact: for each length n = 2..LENGTH_MAX (</s> included), the largest log P of a
    sentence of that length, by dynamic programming over the bigram's last word."""
    m = length_model()
    f = as_log_probs(m)
    eos = m.vocab.index("</s>")
    nV = len(m.vocab)
    table = np.array([f([v]) for v in range(nV)])  # (nV, nV): log P(next | last)
    delta = f([]).copy()  # best log P of one word ending in v
    delta[eos] = -np.inf
    rows = []
    for n in range(2, LENGTH_MAX + 1):
        rows.append([n, float(np.max(delta + table[:, eos]))])  # stop now: n tokens in all
        step = delta[:, None] + table  # (nV, nV)
        step[:, eos] = -np.inf
        delta = step.max(axis=0)
    return np.array(rows)


@functools.cache
def length_beams() -> dict[float, tuple[list[int], float, float]]:
    """alpha -> the beam's best (sequence, log P, score) with the power penalty n^alpha."""
    m = length_model()
    eos = m.vocab.index("</s>")
    out = {}
    for alpha in (0.0, 1.0):
        r = beam_search(
            as_log_probs(m), [], beam_width=LENGTH_WIDTH, max_new_tokens=LENGTH_MAX,
            eos=eos, alpha=alpha, penalty="power",
        )  # fmt: skip
        out[alpha] = (r.sequences[0], float(r.log_probs[0]), float(r.scores[0]))
    return out


def length_figure() -> str:
    t = best_by_length()
    one_word = t[0, 1]  # n = 2: a one-word sentence, which the model finds very unlikely
    t = t[1:]
    assert (np.diff(t[:, 1]) < 0).all()  # from three tokens on, every token lowers log P
    fig, (a, b) = new_figure(6.4, 2.8, ncols=2)
    fig.subplots_adjust(wspace=0.5)
    a.plot(t[:, 0], t[:, 1], "o-", color=BLUE)
    a.set_xlabel("tokens (with </s>)")
    a.set_ylabel("best log P")
    norm = t[:, 1] / np.array([length_penalty(int(n), alpha=1.0, kind="power") for n in t[:, 0]])
    b.plot(t[:, 0], norm, "o-", color=ORANGE)
    b.set_xlabel("tokens (with </s>)")
    b.set_ylabel("best log P / n")
    return svg(
        fig,
        alt="Best log-probability and best per-token log-probability by sentence length",
        caption="Part 3's grammar, a bigram model, and for each length the most probable "
        "sentence (exact, by dynamic programming). Left: from three tokens on, the raw "
        "log-probability falls with every token, so the shortest wins (a one-word sentence, "
        f"two tokens, is left out: its best log P is {one_word:.1f}). Right: divided by the "
        "length (α = 1), the maximum moves to a longer sentence.",
    )


# --- speculative decoding ---------------------------------------------------------------------


@functools.cache
def spec_models() -> tuple[NGramModel, NGramModel]:
    """Target: a bigram model of Part 3's grammar; draft: a unigram model of the same text."""
    corpus = generate_corpus(np.random.default_rng(LENGTH_SEED), LENGTH_N)
    return NGramModel(2, k=0.1).fit(corpus), NGramModel(1, k=0.1).fit(corpus)


def spec_pair() -> tuple[Array, Array]:
    target, draft = spec_models()
    assert target.vocab == draft.vocab
    return target.distribution(list(CONTEXT)), draft.distribution([])


def exact_output() -> Array:
    """P(output = x) = q(x) min(1, p/q) + (1 - sum of that) r(x), computed term by term."""
    p, q = spec_pair()
    accepted = q * np.minimum(1.0, p / q)
    rejected = 1.0 - accepted.sum()
    excess = np.maximum(p - q, 0.0)
    return accepted + rejected * excess / excess.sum()


@functools.cache
def spec_samples() -> NDArray[np.intp]:
    p, q = spec_pair()
    rng = np.random.default_rng(SPEC_SEED)
    return np.array([speculative_step(p, q, rng=rng)[0] for _ in range(SPEC_DRAWS)])


def chi_squared() -> tuple[float, float, int]:
    """χ² of the sampled tokens against p, cells with expected count < 5 pooled; and the
    same test of draws from the draft q (which should fail)."""
    import scipy.stats

    p, q = spec_pair()
    n = SPEC_DRAWS
    big = n * p >= 5
    counts = np.bincount(spec_samples(), minlength=len(p))
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(n * p[big], n * p[~big].sum())
    q_counts = np.bincount(np.random.default_rng(SPEC_SEED).choice(len(q), size=n, p=q),
                           minlength=len(q))  # fmt: skip
    q_obs = np.append(q_counts[big], q_counts[~big].sum())
    return (
        float(scipy.stats.chisquare(obs, exp).pvalue),
        float(scipy.stats.chisquare(q_obs, exp).pvalue),
        int(big.sum()) + 1,
    )


def pair_with_alpha(alpha: float) -> tuple[Array, Array]:
    """Target p and draft q = alpha p + (1 - alpha) (a token p never emits): min(p, q) sums
    to alpha exactly, so each draft is accepted with probability alpha, independently."""
    p = np.array([0.4, 0.3, 0.2, 0.1, 0.0])
    return p, alpha * p + (1 - alpha) * np.array([0.0, 0.0, 0.0, 0.0, 1.0])


@functools.cache
def simulation() -> tuple[Array, Array]:
    """Rows: ALPHAS. Columns: GAMMAS. Mean tokens per target call over ROUNDS rounds, and
    the standard error of each mean."""
    rng = np.random.default_rng(7)
    mean = np.zeros((len(ALPHAS), len(GAMMAS)))
    se = np.zeros_like(mean)
    for i, alpha in enumerate(ALPHAS):
        p, q = pair_with_alpha(alpha)
        for j, g in enumerate(GAMMAS):
            target, draft = (lambda ids, d=p: d), (lambda ids, d=q: d)  # bound now
            sizes = [
                len(speculative_decode(target, draft, [], gamma=g, rng=rng)[0])
                for _ in range(ROUNDS)
            ]
            mean[i, j], se[i, j] = np.mean(sizes), np.std(sizes) / math.sqrt(ROUNDS)
    return mean, se


def simulated_tokens() -> Array:
    return simulation()[0]


def formula_tokens() -> Array:
    return np.array([[expected_tokens_per_step(a, g) for g in GAMMAS] for a in ALPHAS])


def tokens_figure() -> str:
    sim, exact = simulated_tokens(), formula_tokens()
    fig, ax = new_figure(5.6, 3.0)
    for i, (a, c) in enumerate(zip(ALPHAS, (BLUE, ORANGE, GREEN), strict=True)):
        gs = np.linspace(1, max(GAMMAS), 60)
        ax.plot(gs, (1 - a ** (gs + 1)) / (1 - a), color=c, lw=1.5, label=f"α = {a}")
        ax.plot(GAMMAS, sim[i], "o", color=c, ms=5)
        assert np.allclose(exact[i], (1 - a ** (np.array(GAMMAS) + 1)) / (1 - a))
    ax.set_xlabel("γ, tokens drafted per round")
    ax.set_ylabel("tokens per target call")
    ax.legend(frameon=False)
    return svg(
        fig,
        alt="Expected tokens per target call against the number of drafted tokens",
        caption="Lines: (1 − α^(γ+1)) / (1 − α) for three acceptance rates. Dots: the mean "
        f"over {ROUNDS} simulated rounds of speculative decoding with a draft whose acceptance "
        "rate is exactly α. The gain saturates at 1 / (1 − α).",
    )


def tables() -> dict[str, Array]:
    return {
        "decoding/beam": beam_table(),
        "decoding/tokens": simulated_tokens(),
        "decoding/tokens-formula": formula_tokens(),
    }
