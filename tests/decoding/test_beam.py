"""Tests for llmath.decoding.beam: exhaustive enumeration of every sequence on small random
models, an independent beam search written here, greedy as width 1, and bad input."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

from llmath.decoding.beam import beam_search, length_penalty

Model = Callable[[Sequence[int]], np.ndarray]


def bigram(seed: int, nV: int = 3) -> Model:
    """A random bigram model over nV tokens with log-probabilities; context [] uses row 0."""
    table = np.random.default_rng(seed).dirichlet(np.ones(nV) * 0.7, size=nV)
    logs = np.log(table)
    return lambda ids: logs[ids[-1] if ids else 0]


def exhaustive(
    model: Model, prefix: list[int], nV: int, L: int, eos: int | None, lp: Callable[[int], float]
) -> list[tuple[float, float, list[int]]]:
    """Every finished sequence (ending in eos, or of length L): (score, log p, seq), best first."""
    out = []
    for n in range(1, L + 1):
        for seq in itertools.product(range(nV), repeat=n):
            if eos is not None and eos in seq[:-1]:
                continue
            if n < L and seq[-1] != eos:
                continue
            logp = sum(model(prefix + list(seq[:i]))[seq[i]] for i in range(n))
            out.append((logp / lp(n), logp, list(seq)))
    return sorted(out, key=lambda t: (-t[0], t[2]))


def reference_beam(
    model: Model, prefix: list[int], k: int, L: int, eos: int | None, lp: Callable[[int], float]
) -> list[list[int]]:
    """Beam search written again, with a dict of hypotheses per step."""
    beams = {(): 0.0}
    done: dict[tuple[int, ...], float] = {}
    for _ in range(L):
        ext = {
            (*s, v): score + float(w)
            for s, score in beams.items()
            for v, w in enumerate(model(prefix + list(s)))
        }
        keep = sorted(ext, key=lambda s: (-ext[s], s))[:k]
        beams = {s: ext[s] for s in keep if s[-1] != eos}
        done |= {s: ext[s] for s in keep if s[-1] == eos}
        if not beams:
            break
    done |= beams
    return [list(s) for s in sorted(done, key=lambda s: (-done[s] / lp(len(s)), s))[:k]]


@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 4), st.sampled_from([0.0, 1.0]))
def test_matches_an_independent_beam_search(seed: int, k: int, L: int, alpha: float) -> None:
    model = bigram(seed)
    r = beam_search(model, [1], beam_width=k, max_new_tokens=L, eos=2, alpha=alpha)
    lp = lambda n: length_penalty(n, alpha=alpha)  # noqa: E731
    assert r.sequences == reference_beam(model, [1], k, L, 2, lp)
    for seq, logp, score in zip(r.sequences, r.log_probs, r.scores, strict=True):
        direct = sum(model([1, *seq[:i]])[seq[i]] for i in range(len(seq)))
        assert math.isclose(logp, direct, rel_tol=1e-12)
        assert math.isclose(score, logp / lp(len(seq)), rel_tol=1e-12)


@given(st.integers(0, 10_000), st.integers(1, 4), st.sampled_from([0.0, 0.6, 1.0]))
def test_a_wide_enough_beam_is_exhaustive(seed: int, L: int, alpha: float) -> None:
    model = bigram(seed)
    lp = lambda n: length_penalty(n, alpha=alpha)  # noqa: E731
    truth = exhaustive(model, [0], 3, L, 2, lp)
    r = beam_search(model, [0], beam_width=3**L, max_new_tokens=L, eos=2, alpha=alpha)
    assert r.sequences == [s for _, _, s in truth][: 3**L]
    np.testing.assert_allclose(r.scores, [sc for sc, _, _ in truth][: 3**L], rtol=1e-12)


@given(st.integers(0, 10_000), st.integers(1, 5))
def test_width_one_is_greedy(seed: int, L: int) -> None:
    model = bigram(seed, nV=4)
    seq: list[int] = []
    for _ in range(L):
        seq.append(int(np.argmax(model([3, *seq]))))
        if seq[-1] == 0:
            break
    assert beam_search(model, [3], beam_width=1, max_new_tokens=L, eos=0).sequences == [seq]


def test_beam_can_miss_the_most_probable_sequence() -> None:
    """Token 0 is likelier first, but every continuation after it is flat; 1 -> 1 is sure."""
    table = np.log(
        np.array([[0.55, 0.45, 1e-9], [1e-9, 1 - 2e-9, 1e-9], [1 / 3, 1 / 3, 1 / 3]])
    )  # rows: the last token (row 2 is the start context)
    flat = np.log(np.full(3, 1 / 3))
    model = lambda ids: flat if ids[-1] == 0 else table[ids[-1]]  # noqa: E731
    truth = exhaustive(model, [2], 3, 2, None, lambda n: 1.0)[0][2]
    assert truth[0] != 0
    r = beam_search(model, [2], beam_width=1, max_new_tokens=2)
    assert r.sequences[0][0] == 0 and r.sequences[0] != truth
    assert beam_search(model, [2], beam_width=2, max_new_tokens=2).sequences[0] == truth


def test_length_penalty_values() -> None:
    assert length_penalty(1, alpha=0.0) == 1.0
    assert length_penalty(7, alpha=1.0) == 2.0
    assert length_penalty(9, alpha=0.5, kind="power") == 3.0


def test_empty_prefix_and_impossible_tokens() -> None:
    with np.errstate(divide="ignore"):
        logs = np.log([0.0, 0.5, 0.5])
    r = beam_search(lambda ids: logs, [], beam_width=5, max_new_tokens=2)
    assert all(0 not in s for s in r.sequences) and len(r.sequences) == 4


with np.errstate(divide="ignore"):
    EYE_LOG = np.log(np.eye(3))  # rows of -inf and 0: three rows, not one distribution


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"beam_width": 0}, "beam_width"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"alpha": -0.5}, "alpha"),
        ({"penalty": "gnmt"}, "penalty"),
        ({"prefix": [5]}, "prefix"),
        ({"prefix": [[0]]}, "prefix"),
        ({"eos": 3}, "eos"),
        ({"next_log_probs": lambda ids: np.log([0.5, 0.6, 0.1])}, "next_log_probs"),
        ({"next_log_probs": lambda ids: [0.5, 0.5, 0.0]}, "next_log_probs"),
        ({"next_log_probs": lambda ids: EYE_LOG}, "next_log_probs"),
        ({"next_log_probs": 3}, "next_log_probs"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    logs = np.log([0.2, 0.3, 0.5])
    args: dict[str, object] = {
        "next_log_probs": lambda ids: logs[: 3 if max(ids, default=0) < 3 else 99],
        "prefix": [0],
        "beam_width": 2,
        "max_new_tokens": 2,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match), np.errstate(divide="ignore"):
        beam_search(**args)  # type: ignore[arg-type]
