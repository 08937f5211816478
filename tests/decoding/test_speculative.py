"""Tests for llmath.decoding.speculative: the output distribution computed exactly and tested
by χ² (scipy), the same random draws replayed by an independent implementation, the expected
tokens per round against simulation, and bad input."""

from __future__ import annotations

import math
from collections import Counter

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.stats
from hypothesis import given

from llmath.decoding.speculative import (
    acceptance_rate,
    expected_tokens_per_step,
    residual_distribution,
    speculative_decode,
    speculative_step,
)

DIST = (
    hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(0.0, 1.0))
    .filter(lambda a: a.sum() > 0.1)
    .map(lambda a: a / a.sum())
)


@given(DIST, st.data())
def test_the_output_distribution_is_exactly_p(p: np.ndarray, data: st.DataObject) -> None:
    raw = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(0.0, 1.0)))
    q = (raw + 1e-3) / (raw + 1e-3).sum()
    alpha, r = acceptance_rate(p, q), residual_distribution(p, q)
    accepted = q * np.minimum(1.0, p / q)  # P(draft x and accepted)
    out = accepted + (1.0 - accepted.sum()) * r
    np.testing.assert_allclose(out, p, atol=1e-12)
    assert math.isclose(alpha, 1 - 0.5 * np.abs(p - q).sum(), abs_tol=1e-12)


def replay(p: np.ndarray, q: np.ndarray, rng: np.random.Generator) -> tuple[int, bool]:
    """The rule as Leviathan et al. write it: x ~ q, u ~ U(0, 1), keep if u <= p/q."""
    x = int(rng.choice(len(q), p=q))
    if rng.random() < p[x] / q[x]:
        return x, True
    r = np.maximum(p - q, 0)
    return int(rng.choice(len(p), p=r / r.sum())), False


def test_same_draws_same_tokens() -> None:
    p, q = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.4, 0.3, 0.2, 0.1])
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(2000):
        assert speculative_step(p, q, rng=a) == replay(p, q, b)


def test_chi_squared_against_the_target() -> None:
    rng = np.random.default_rng(11)
    p = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
    q = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
    n = 30_000
    counts = np.bincount([speculative_step(p, q, rng=rng)[0] for _ in range(n)], minlength=5)
    assert scipy.stats.chisquare(counts, n * p).pvalue > 1e-3
    draft_only = np.bincount(rng.choice(5, size=n, p=q), minlength=5)  # the test has power
    assert scipy.stats.chisquare(draft_only, n * p).pvalue < 1e-12


def test_acceptance_frequency_given_the_draft() -> None:
    rng = np.random.default_rng(3)
    p, q = np.array([0.7, 0.3]), np.array([0.2, 0.8])
    kept = sum(speculative_step(p, q, rng=rng, draft=1)[1] for _ in range(20_000)) / 20_000
    assert abs(kept - 0.3 / 0.8) < 4 * math.sqrt(0.375 * 0.625 / 20_000)


BIGRAM_P = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
BIGRAM_Q = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]])


def test_decode_samples_the_target_two_tokens_at_a_time() -> None:
    """The first two new tokens after prefix [2]: χ² against p(x1 | 2) p(x2 | x1)."""
    rng = np.random.default_rng(8)
    target = lambda ids: BIGRAM_P[ids[-1]]  # noqa: E731
    draft = lambda ids: BIGRAM_Q[ids[-1]]  # noqa: E731
    pairs: Counter[tuple[int, int]] = Counter()
    n = 6000
    for _ in range(n):
        ids = [2]
        while len(ids) < 3:
            ids += speculative_decode(target, draft, ids, gamma=2, rng=rng)[0]
        pairs[ids[1], ids[2]] += 1
    joint = BIGRAM_P[2][:, None] * BIGRAM_P  # (3, 3)
    observed = [pairs[i, j] for i in range(3) for j in range(3)]
    assert scipy.stats.chisquare(observed, n * joint.ravel()).pvalue > 1e-3


def test_expected_tokens_per_round_against_simulation() -> None:
    rng = np.random.default_rng(4)
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])
    alpha = acceptance_rate(p, q)
    for gamma in (1, 3, 5):
        sizes = [
            len(speculative_decode(lambda ids: p, lambda ids: q, [], gamma=gamma, rng=rng)[0])
            for _ in range(4000)
        ]
        expected = expected_tokens_per_step(alpha, gamma)
        assert abs(np.mean(sizes) - expected) < 4 * np.std(sizes) / math.sqrt(len(sizes))
        assert math.isclose(expected, (1 - alpha ** (gamma + 1)) / (1 - alpha), rel_tol=1e-12)


def test_closed_forms() -> None:
    assert expected_tokens_per_step(0.0, 4) == 1.0
    assert expected_tokens_per_step(1.0, 4) == 5.0
    assert acceptance_rate([0.5, 0.5], [0.5, 0.5]) == 1.0
    np.testing.assert_array_equal(residual_distribution([0.5, 0.5], [0.5, 0.5]), [0.5, 0.5])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: acceptance_rate([0.5, 0.6], [0.5, 0.5]), "p must sum to 1"),
        (lambda: acceptance_rate([0.5, 0.5], [-0.5, 1.5]), "q must be non-negative"),
        (lambda: acceptance_rate([0.5, 0.5], [0.2, 0.3, 0.5]), "same shape"),
        (lambda: speculative_step([0.5, 0.5], [1.0, 0.0], rng=np.random.default_rng(), draft=1),
         "draft"),
        (lambda: speculative_step([0.5, 0.5], [0.5, 0.5], rng=0), "rng"),
        (lambda: expected_tokens_per_step(1.5, 2), "alpha"),
        (lambda: expected_tokens_per_step(0.5, 0), "gamma"),
        (lambda: speculative_decode(lambda i: [0.5, 0.5], lambda i: [0.9, 0.2], [0], gamma=2,
                                    rng=np.random.default_rng()), "draft"),
        (lambda: speculative_decode(lambda i: [1.0], lambda i: [0.5, 0.5], [0], gamma=2,
                                    rng=np.random.default_rng()), "target"),
        (lambda: speculative_decode(lambda i: [0.5, 0.5], lambda i: [0.5, 0.5], [7], gamma=2,
                                    rng=np.random.default_rng()), "prefix"),
    ],
)  # fmt: skip
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
