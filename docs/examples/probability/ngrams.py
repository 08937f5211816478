"""Worked examples for the chapter on conditional probability and n-gram models."""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, check, new_figure, svg
from llmath.probability.information import entropy
from llmath.probability.ngram import NGramModel, enumerate_sentences, generate_corpus
from llmath.probability.perplexity import perplexity

Array = NDArray[np.float64]

TRAIN_SEED, TEST_SEED = 2, 1
N_TRAIN, N_TEST = 300, 500
ORDERS = [1, 2, 3, 4]
KS = [0.001, 0.01, 0.1, 1.0]
SIZES = [30, 100, 300, 1000, 3000, 10000]
K_FIGURE = 0.05
SENTENCE = "the old cat sees a bird"
TRANSITIVE = {"sees", "likes", "chases", "follows"}
EVIDENCE_LENGTH = 6


@cache
def truth() -> dict[str, float]:
    """Every sentence of the grammar with its exact probability."""
    return enumerate_sentences()


@cache
def corpora() -> tuple[list[str], list[str]]:
    train = generate_corpus(np.random.default_rng(TRAIN_SEED), max(SIZES))
    test = generate_corpus(np.random.default_rng(TEST_SEED), N_TEST)
    return train, test


def train(size: int = N_TRAIN) -> list[str]:
    return corpora()[0][:size]


def source_perplexity() -> tuple[float, float, float]:
    """(entropy of a sentence in nats, mean tokens per sentence incl. </s>, exp(ratio))."""
    p = np.array(list(truth().values()))
    lengths = np.array([len(s.split()) + 1 for s in truth()])
    h = float(entropy(p))
    mean_len = float(p @ lengths)
    return h, mean_len, float(perplexity(h / mean_len))


def _prefix_prob(prefix: list[str]) -> float:
    """Probability that a sentence starts with `prefix` (a list of words; '</s>' ends it)."""
    if prefix and prefix[-1] == "</s>":
        return truth().get(" ".join(prefix[:-1]), 0.0)
    n = len(prefix)
    return sum(p for s, p in truth().items() if s.split()[:n] == prefix)


@cache
def chain_rule() -> Array:
    """Rows: tokens of SENTENCE then </s>. Columns: true P(x_t | x_<t), its log, running sum."""
    words = [*SENTENCE.split(), "</s>"]
    rows, running = [], 0.0
    for t in range(len(words)):
        cond = _prefix_prob(words[: t + 1]) / _prefix_prob(words[:t])
        running += np.log(cond)
        rows.append([cond, np.log(cond), running])
    return np.array(rows)


def bayes() -> Array:
    """Prior P(transitive), P(len=L | transitive), P(len=L), posterior by Bayes, by counting."""
    joint_t5 = p_t = p_5 = 0.0
    for s, p in truth().items():
        words = s.split()
        trans = bool(TRANSITIVE & set(words))
        five = len(words) == EVIDENCE_LENGTH
        p_t += p * trans
        p_5 += p * five
        joint_t5 += p * (trans and five)
    likelihood = joint_t5 / p_t
    return np.array([p_t, likelihood, p_5, likelihood * p_t / p_5, joint_t5 / p_5])


def bigram_after_the() -> tuple[list[str], Array]:
    """Counts and estimates of the word after 'the' in the training corpus (bigram)."""
    m0 = NGramModel(2, k=0.0).fit(train())
    m1 = NGramModel(2, k=1.0).fit(train())
    c = m0.counts(["the"])
    keep = c > 0
    words = [w for w, k in zip(m0.vocab, keep, strict=True) if k]
    rows = np.vstack([c[keep], m0.distribution(["the"])[keep], m1.distribution(["the"])[keep]])
    return words, rows


def add_one_unseen_mass() -> tuple[int, int, float, float]:
    """After 'the': (#seen continuations, nV, mass add-one gives unseen words, same for k = 0.01)."""
    m1 = NGramModel(2, k=1.0).fit(train())
    c = m1.counts(["the"])
    unseen = c == 0
    small = NGramModel(2, k=0.01).fit(train())
    return (
        int((~unseen).sum()),
        len(m1.vocab),
        float(m1.distribution(["the"])[unseen].sum()),
        float(small.distribution(["the"])[unseen].sum()),
    )


@cache
def perplexity_grid() -> Array:
    """Held-out perplexity, rows n = ORDERS, columns k = KS (N_TRAIN training sentences)."""
    test = corpora()[1]
    return np.array(
        [[perplexity(NGramModel(n, k=k).fit(train()).nll(test)) for k in KS] for n in ORDERS]
    )


@cache
def learning_curves() -> Array:
    """Held-out perplexity, rows n = ORDERS, columns training sizes SIZES (k = K_FIGURE)."""
    test = corpora()[1]
    return np.array(
        [
            [perplexity(NGramModel(n, k=K_FIGURE).fit(train(size)).nll(test)) for size in SIZES]
            for n in ORDERS
        ]
    )


def figure() -> str:
    curves = learning_curves()
    fig, ax = new_figure(6.0, 3.4)
    for n, row, colour in zip(ORDERS, curves, (BLUE, ORANGE, GREEN, PURPLE), strict=True):
        ax.semilogx(SIZES, row, "o-", color=colour, label=f"n = {n}")
    ax.axhline(source_perplexity()[2], color="#888888", linestyle="--", linewidth=1)
    ax.text(SIZES[0], source_perplexity()[2] * 1.04, "the grammar itself", fontsize=9)
    ax.set_yscale("log")
    ax.set_xlabel("training sentences")
    ax.set_ylabel("held-out perplexity")
    ax.set_title(f"n-gram models with add-k smoothing, k = {K_FIGURE}")
    ax.legend(frameon=False, ncol=2)
    return svg(
        fig,
        alt="Held-out perplexity against the number of training sentences for unigram to "
        "4-gram models. Higher orders are worse with little data and better with a lot; all "
        "stay above the dashed line of the grammar's own perplexity.",
        caption="Held-out perplexity of n-gram models against the size of the training set",
    )


@cache
def grammatical_fraction(n: int, samples: int = 200) -> float:
    """Fraction of sentences sampled from an n-gram model that the grammar can produce."""
    model = NGramModel(n, k=0.0).fit(train(max(SIZES)))
    rng = np.random.default_rng(9)
    return float(np.mean([model.sample(rng) in truth() for _ in range(samples)]))


def counter_nll(n: int, k: float, train_sents: list[str], test_sents: list[str]) -> float:
    """Held-out mean NLL of an add-k n-gram model, counted with collections.Counter.

    An independent re-implementation of the textbook formula (c(h, w) + k) / (c(h) + k nV),
    sharing no code with NGramModel: the witness for the perplexity table.
    """
    vocab = [*sorted({w for s in train_sents for w in s.split()}), "</s>", "<unk>"]
    known = set(vocab)
    grams: Counter[tuple[str, ...]] = Counter()
    contexts: Counter[tuple[str, ...]] = Counter()
    for s in train_sents:
        toks = ["<s>"] * (n - 1) + s.split() + ["</s>"]
        for t in range(n - 1, len(toks)):
            grams[tuple(toks[t - n + 1 : t + 1])] += 1
            contexts[tuple(toks[t - n + 1 : t])] += 1
    total, count = 0.0, 0
    for s in test_sents:
        toks = ["<s>"] * (n - 1) + [w if w in known else "<unk>" for w in s.split()] + ["</s>"]
        for t in range(n - 1, len(toks)):
            h = tuple(toks[t - n + 1 : t])
            total -= math.log((grams[(*h, toks[t])] + k) / (contexts[h] + k * len(vocab)))
            count += 1
    return total / count


def perplexity_checks() -> list[str]:
    """The perplexity table against the Counter re-implementation, every n and k."""
    test = corpora()[1]
    ref = np.array([[math.exp(counter_nll(n, k, train(), test)) for k in KS] for n in ORDERS])
    return [
        check(
            "max |NGramModel − Counter re-implementation|",
            perplexity_grid(),
            ref,
            tol=0.0,
            rtol=1e-12,
        )
    ]


def chain_rule_checks() -> list[str]:
    """The enumerated probabilities sum to 1; the chain rule's running sum is ln P(sentence)."""
    return [
        check("|Σ P(sentence) − 1|", sum(truth().values()), 1.0, tol=1e-12),
        check(
            "|running sum − ln P(sentence)|",
            chain_rule()[-1, 2],
            np.log(truth()[SENTENCE]),
            tol=1e-12,
        ),
    ]


def after_the_checks() -> list[str]:
    """The k = 0 row is c(the, w) / c(the); both rows of estimates sum to 1 over all nV."""
    m0 = NGramModel(2, k=0.0).fit(train())
    m1 = NGramModel(2, k=1.0).fit(train())
    c = m0.counts(["the"])
    return [
        check(
            "k = 0: max |P̂ − c(the, w)/c(the)|", m0.distribution(["the"]), c / c.sum(), tol=1e-15
        ),
        check(
            "k = 1: max |P̂ − (c + 1)/(c(the) + n_V)|",
            m1.distribution(["the"]),
            (c + 1) / (c.sum() + len(m1.vocab)),
            tol=1e-15,
        ),
    ]


def context_count(n: int = 4) -> tuple[int, int, int, int]:
    """Exercise 3: (nV, symbols a context slot can hold, contexts, seen contexts) for order n.

    A slot holds any prediction symbol except </s>, or the begin marker <s>.
    """
    m = NGramModel(n, k=0.0).fit(train(max(SIZES)))
    slot = [w for w in m.vocab if w != "</s>"] + ["<s>"]
    return len(m.vocab), len(slot), len(slot) ** (n - 1), m.n_contexts


def tables() -> dict[str, Array]:
    return {
        "ngrams/chain-rule": chain_rule(),
        "ngrams/bayes": bayes()[None, :],
        "ngrams/after-the": bigram_after_the()[1],
        "ngrams/perplexity": perplexity_grid(),
        "ngrams/learning-curves": learning_curves(),
    }
