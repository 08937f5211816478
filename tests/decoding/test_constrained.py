"""Tests for llmath.decoding.constrained: the decimal DFA against Python's `re` on every short
string, token masks against brute-force completion, constrained sampling stays in the
language, and bad input."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from llmath.decoding.constrained import (
    DFA,
    constrained_probs,
    decimal_dfa,
    dfa_advance,
    token_mask,
)

DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
ALPHABET = "-019."
VOCAB = ["0", "1", "9", "-", ".", "10", "0.", ".5", "-0", "x", "<eos>"]
EOS = len(VOCAB) - 1


def strings(max_len: int) -> list[str]:
    return ["".join(t) for n in range(max_len + 1) for t in itertools.product(ALPHABET, repeat=n)]


def test_the_dfa_is_the_regular_expression() -> None:
    d = decimal_dfa()
    for s in strings(6):
        assert (dfa_advance(d, d.start, s) in d.accept) == bool(DECIMAL.fullmatch(s)), s


def can_finish(s: str) -> bool:
    """Some completion of s of at most 3 more characters is a decimal number."""
    return any(DECIMAL.fullmatch(s + w) for w in [*strings(3), "5"])


def test_masks_allow_exactly_the_tokens_that_can_still_finish() -> None:
    d = decimal_dfa()
    for prefix in strings(3):
        state = dfa_advance(d, d.start, prefix)
        if state is None:
            continue
        mask = token_mask(d, state, VOCAB, eos=EOS)
        expected = [can_finish(prefix + t) for t in VOCAB[:-1]] + [bool(DECIMAL.fullmatch(prefix))]
        assert mask.tolist() == expected, prefix


def test_constrained_sampling_stays_in_the_language() -> None:
    rng = np.random.default_rng(0)
    d = decimal_dfa()
    logits = rng.normal(size=len(VOCAB))
    for _ in range(300):
        state, text = d.start, ""
        for _ in range(12):
            probs = constrained_probs(logits, token_mask(d, state, VOCAB, eos=EOS))
            v = int(rng.choice(len(VOCAB), p=probs))
            if v == EOS:
                break
            text += VOCAB[v]
            state = dfa_advance(d, state, VOCAB[v])
            assert state is not None
        else:
            continue  # length limit reached before eos: no claim
        assert DECIMAL.fullmatch(text), text


def test_constrained_probs_renormalises() -> None:
    z = np.array([1.0, 2.0, 0.5, -1.0])
    m = np.array([True, False, True, True])
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(constrained_probs(z, m), p * m / (p * m).sum(), rtol=1e-14)


def test_dead_states_are_pruned() -> None:
    """A state with transitions but no path to acceptance is not live."""
    d = DFA(0, frozenset({1}), {(0, "a"): 1, (0, "b"): 2, (2, "b"): 2})
    assert token_mask(d, 0, ["a", "b", "ab"]).tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: token_mask("abc", 0, VOCAB), "dfa"),  # type: ignore[arg-type]
        (lambda: token_mask(decimal_dfa(), 9, VOCAB), "state"),
        (lambda: token_mask(decimal_dfa(), 0, "01"), "vocab"),
        (lambda: token_mask(decimal_dfa(), 0, [1, 2]), "vocab"),  # type: ignore[list-item]
        (lambda: token_mask(decimal_dfa(), 0, VOCAB, eos=99), "eos"),
        (lambda: constrained_probs([1.0, 2.0], [False, False]), "mask"),
        (lambda: constrained_probs([1.0, 2.0], [1.0, 0.0]), "mask"),
        (lambda: dfa_advance(decimal_dfa(), 0, b"1"), "text"),  # type: ignore[arg-type]
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
