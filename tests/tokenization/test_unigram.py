"""Tests for llmath.tokenization.unigram: Viterbi and the forward sum against brute-force
enumeration of every segmentation, Hypothesis vocabularies, and bad input."""

from __future__ import annotations

import itertools
import math

import hypothesis.strategies as st
import pytest
from hypothesis import given

from llmath.tokenization.unigram import unigram_log_likelihood, unigram_segment


def segmentations(text: str) -> list[list[str]]:
    """All 2^(n-1) ways to cut `text`: choose the cut points."""
    n = len(text)
    out = []
    for cuts in itertools.product((False, True), repeat=max(n - 1, 0)):
        pieces, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                pieces.append(text[start:i])
                start = i
        out.append([*pieces, text[start:]])
    return out


def brute(text: str, lp: dict[str, float]) -> tuple[float, float, list[list[str]]]:
    """Best score, log of the summed probability, and every best segmentation."""
    if not text:
        return 0.0, 0.0, [[]]  # one segmentation: no tokens
    scored = [(sum(lp[t] for t in s), s) for s in segmentations(text) if all(t in lp for t in s)]
    if not scored:
        return -math.inf, -math.inf, []
    top = max(sc for sc, _ in scored)
    total = math.log(math.fsum(math.exp(sc) for sc, _ in scored))
    return top, total, [s for sc, s in scored if sc == top]


VOCABS = st.dictionaries(
    st.text(alphabet="abc", min_size=1, max_size=3),
    st.floats(min_value=-8.0, max_value=-0.01),
    min_size=1,
    max_size=12,
).map(lambda d: {"a": -3.0, "b": -3.5, "c": -4.0, **d})


@given(VOCABS, st.text(alphabet="abc", max_size=9))
def test_viterbi_is_the_best_of_all_segmentations(lp: dict[str, float], text: str) -> None:
    tokens, score = unigram_segment(text, lp)
    top, total, best = brute(text, lp)
    assert "".join(tokens) == text
    assert math.isclose(score, top, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(score, sum(lp[t] for t in tokens), rel_tol=1e-12, abs_tol=1e-12)
    assert text == "" or tokens in best or math.isclose(score, top)
    marginal = unigram_log_likelihood(text, lp)
    assert math.isclose(marginal, total, rel_tol=1e-12, abs_tol=1e-12)
    assert marginal >= score - 1e-12


def test_worked_example() -> None:
    lp = {"a": -2.0, "b": -2.0, "ab": -3.0, "abb": -6.0}
    assert unigram_segment("abb", lp) == (["ab", "b"], -5.0)
    assert unigram_segment("", lp) == ([], 0.0)
    p = math.exp(-6.0) + math.exp(-5.0) + math.exp(-6.0)  # abb | ab b | a b b
    assert math.isclose(unigram_log_likelihood("abb", lp), math.log(p), rel_tol=1e-14)


def test_no_segmentation() -> None:
    with pytest.raises(ValueError, match="nothing covers 'c'"):
        unigram_segment("abc", {"a": -1.0, "b": -1.0})
    assert unigram_log_likelihood("abc", {"a": -1.0, "b": -1.0}) == -math.inf


@pytest.mark.parametrize(
    ("text", "lp", "match"),
    [
        (b"ab", {"a": -1.0}, "text must be a str"),
        ("ab", {}, "log_probs"),
        ("ab", {"a": 0.5}, "log_probs"),
        ("ab", {"a": math.nan}, "log_probs"),
        ("ab", {"a": True}, "log_probs"),
        ("ab", {"": -1.0}, "log_probs"),
        ("ab", [("a", -1.0)], "log_probs"),
    ],
)
def test_bad_input(text: object, lp: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        unigram_segment(text, lp)  # type: ignore[arg-type]
