"""n-gram models against hand counting, the grammar against its own sampler, and bad input."""

from __future__ import annotations

import math
from collections import Counter

import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.stats
from hypothesis import given

from llmath.probability.ngram import (
    EOS,
    GRAMMAR,
    UNK,
    NGramModel,
    enumerate_sentences,
    generate_corpus,
)

CORPUS = ["a b c", "a b", "b c a", "c"]


def _hand_counts(corpus: list[str], n: int) -> Counter[tuple[str, ...]]:
    grams: Counter[tuple[str, ...]] = Counter()
    for s in corpus:
        toks = ["<s>"] * (n - 1) + s.split() + [EOS]
        for i in range(n - 1, len(toks)):
            grams[tuple(toks[i - n + 1 : i + 1])] += 1
    return grams


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("k", [0.0, 0.5, 1.0])
def test_distribution_equals_hand_counted_add_k(n: int, k: float) -> None:
    model = NGramModel(n, k=k).fit(CORPUS)
    V = len(model.vocab)
    grams = _hand_counts(CORPUS, n)
    contexts = {g[:-1] for g in grams}
    for ctx in contexts:
        total = sum(c for g, c in grams.items() if g[:-1] == ctx)
        for w in model.vocab:
            expected = (grams[(*ctx, w)] + k) / (total + k * V)
            context = [t for t in ctx if t != "<s>"]
            assert model.prob(w, context) == pytest.approx(expected, rel=1e-14)


def test_vocab_and_unknown_words() -> None:
    model = NGramModel(2, k=1.0).fit(CORPUS)
    assert model.vocab == ["a", "b", "c", EOS, UNK]
    assert model.prob("zebra", ["a"]) == model.prob(UNK, ["a"])
    np.testing.assert_array_equal(model.distribution(["zebra"]), np.full(5, 0.2))


def test_chain_rule_log_prob_is_sum_of_conditionals() -> None:
    model = NGramModel(3, k=0.3).fit(CORPUS)
    sentence = ["b", "c", "a", "a"]
    toks = [*sentence, EOS]
    by_hand = sum(math.log(model.prob(w, toks[:i])) for i, w in enumerate(toks))
    assert model.log_prob(sentence) == pytest.approx(by_hand, rel=1e-14)
    assert model.log_prob("b c a a") == model.log_prob(sentence)


def test_nll_is_per_token_including_end_marker() -> None:
    model = NGramModel(1, k=0.0).fit(["a b"])  # P(a) = P(b) = P(</s>) = 1/3
    assert model.nll(["a b", "b"]) == pytest.approx(math.log(3), rel=1e-15)
    assert NGramModel(2, k=0.0).fit(["a b"]).nll(["b a"]) == math.inf


def test_unigram_with_huge_k_is_uniform() -> None:
    model = NGramModel(1, k=1e12).fit(CORPUS)
    assert math.exp(model.nll(CORPUS)) == pytest.approx(len(model.vocab), rel=1e-9)


@given(
    st.integers(1, 4),
    st.floats(0.01, 5),
    st.lists(st.sampled_from(["a", "b", "c", "d", "zebra"]), max_size=5),
)
def test_every_distribution_is_a_distribution(n: int, k: float, context: list[str]) -> None:
    model = NGramModel(n, k=k).fit(CORPUS)
    p = model.distribution(context)
    assert p.shape == (len(model.vocab),)
    assert (p > 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_enumeration_hand_value_and_total() -> None:
    sentences = enumerate_sentences()
    # S -> NP VP (1), NP -> Det N (0.7), the (0.6), cat (0.3), VP -> Vi (0.45), sleeps (0.4)
    assert sentences["the cat sleeps"] == pytest.approx(1 * 0.7 * 0.6 * 0.3 * 0.45 * 0.4)
    assert sum(sentences.values()) == pytest.approx(1.0, abs=1e-12)
    # 50 noun phrases; 4 + 4 * 50 + 4 * 3 * 50 verb phrases
    assert len(sentences) == 50 * (4 + 4 * 50 + 4 * 3 * 50)


def test_ambiguous_derivations_are_summed() -> None:
    g = {"S": [(0.5, ("A",)), (0.5, ("B",))], "A": [(1.0, ("x",))], "B": [(1.0, ("x",))]}
    assert enumerate_sentences(g) == {"x": 1.0}


def test_sampler_matches_enumerated_distribution() -> None:
    """Two independent routes to the grammar's distribution: sampling and enumeration."""
    corpus = generate_corpus(np.random.default_rng(0), 8000)
    truth = enumerate_sentences()
    assert set(corpus) <= set(truth)
    # first words: chi-square goodness of fit against exact marginals
    first = Counter(s.split()[0] for s in corpus)
    exact = Counter()
    for s, p in truth.items():
        exact[s.split()[0]] += p
    words = sorted(exact)
    observed = np.array([first[w] for w in words])
    expected = np.array([exact[w] for w in words]) * len(corpus)
    assert scipy.stats.chisquare(observed, expected).pvalue > 1e-3
    lengths = Counter(len(s.split()) for s in corpus)
    exact_len = Counter()
    for s, p in truth.items():
        exact_len[len(s.split())] += p
    for length, p in exact_len.items():
        assert lengths[length] / len(corpus) == pytest.approx(
            p, abs=0.02
        )  # 8000 draws: sd <= 0.0056


def test_grammar_rule_probabilities_sum_to_one() -> None:
    for symbol, rules in GRAMMAR.items():
        assert sum(p for p, _ in rules) == pytest.approx(1.0), symbol


def test_sampling_from_a_deterministic_model() -> None:
    model = NGramModel(2, k=0.0).fit(["x y z"])
    assert model.sample(np.random.default_rng(1)) == "x y z"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: NGramModel(0), "positive integer"),
        (lambda: NGramModel(2, k=-1.0), "k must be"),
        (lambda: NGramModel(2, k=True), "k must be a real number >= 0; got True"),
        (lambda: NGramModel(2, k="1"), "k must be a real number >= 0; got '1'"),  # type: ignore[arg-type]
        (lambda: NGramModel(2).fit([]), "at least one sentence"),
        (lambda: NGramModel(2).fit(["a </s>"]), "reserved"),
        (lambda: NGramModel(2).distribution(["a"]), "not been fitted"),
        (lambda: NGramModel(2, k=0.0).fit(["a b"]).distribution(["zebra"]), "never seen"),
        (lambda: NGramModel(1).fit(["a"]).nll([]), "sentences must contain at least one sentence"),
        (lambda: NGramModel(1).fit(["a"]).sample(np.random), "Generator"),
        (lambda: generate_corpus(np.random.default_rng(), 0), "positive integer"),
        (lambda: generate_corpus(np.random.default_rng(), 1, start="Q"), "start"),
        (lambda: enumerate_sentences({"S": [(1.0, ("S", "a"))]}), "max_depth"),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_examples_module_against_independent_computation() -> None:
    from examples.probability import ngrams as ex

    t = ex.tables()
    truth = enumerate_sentences()
    # chain rule: the running sum of log conditionals ends at the sentence's log probability
    assert t["ngrams/chain-rule"][-1, 2] == pytest.approx(math.log(truth[ex.SENTENCE]))
    # Bayes: posterior from the formula equals direct counting, by an independent loop here
    trans = {"sees", "likes", "chases", "follows"}
    p_b = sum(p for s, p in truth.items() if len(s.split()) == ex.EVIDENCE_LENGTH)
    p_ab = sum(
        p
        for s, p in truth.items()
        if len(s.split()) == ex.EVIDENCE_LENGTH and trans & set(s.split())
    )
    assert t["ngrams/bayes"][0, 3] == pytest.approx(p_ab / p_b)
    # the grammar's prior of a transitive verb phrase is its rule probability
    assert t["ngrams/bayes"][0, 0] == pytest.approx(0.35)
    # bigram counts after "the", by hand
    grams = _hand_counts(ex.train(), 2)
    after = t["ngrams/after-the"][0]
    assert after.sum() == sum(c for g, c in grams.items() if g[0] == "the")
    # every model is worse than the source itself
    assert (t["ngrams/learning-curves"] > ex.source_perplexity()[2]).all()


# ---- the bad-input contract: no hang, no silent corpus of characters ---------------------------


def test_a_grammar_that_never_terminates_is_an_error_not_a_hang() -> None:
    rng = np.random.default_rng(0)
    forever = {"S": [(1.0, ("a", "S"))]}  # every expansion adds another S
    with pytest.raises(ValueError, match="max_steps = 50"):
        generate_corpus(rng, 1, grammar=forever, max_steps=50)
    explosive = {"S": [(0.9, ("S", "S")), (0.1, ("a",))]}  # grows with probability 1 - 1/9
    with pytest.raises(ValueError, match="never terminate"):
        generate_corpus(rng, 5, grammar=explosive)


@pytest.mark.parametrize(
    ("grammar", "match"),
    [
        ({"S": [(-1.0, ("a",))]}, "weight .* must be a finite number > 0; got -1.0"),
        ({"S": [(0.0, ("a",)), (1.0, ("b",))]}, "> 0; got 0.0"),
        ({"S": [(float("nan"), ("a",))]}, "> 0; got nan"),
        ({"S": [(1.0, "ab")]}, "tuple of symbols"),
        ({"S": []}, "non-empty list"),
    ],
)
def test_malformed_grammars_are_refused(grammar: object, match: str) -> None:
    for call in (
        lambda: generate_corpus(np.random.default_rng(0), 1, grammar=grammar),  # type: ignore[arg-type]
        lambda: enumerate_sentences(grammar),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match=match):
            call()


def test_a_bare_string_is_not_a_corpus() -> None:
    with pytest.raises(ValueError, match=r"sentences must be a list of sentences, not one string"):
        NGramModel(2).fit("the cat sat")
    model = NGramModel(2).fit(["the cat sat"])
    with pytest.raises(ValueError, match=r"write \['the cat'\]"):
        model.nll("the cat")
    with pytest.raises(ValueError, match="every sentence in sentences"):
        model.fit([["the", 3]])  # type: ignore[list-item]
