"""Tests for llmath.probability.perplexity and the perplexity page's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.probability import perplexity as ex
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from llmath._checks import ShapeError
from llmath.probability.perplexity import (
    bits_per_byte,
    bits_to_nats,
    nats_to_bits,
    perplexity,
    perplexity_from_log_probs,
)

LN2 = math.log(2.0)
LOSSES = st.floats(0, 50)
LOG_PROBS = arrays(np.float64, st.integers(1, 20), elements=st.floats(-30, 0))


# ---- hand values and closed forms -----------------------------------------------------------


def test_hand_values() -> None:
    assert perplexity(0.0) == 1.0
    assert perplexity(3.0, unit="bits") == 8.0
    assert perplexity(math.log(7.0)) == pytest.approx(7.0, rel=1e-15)
    assert nats_to_bits(LN2) == 1.0
    assert bits_to_nats(1.0) == LN2
    assert bits_per_byte(8 * LN2 * 100, 100) == 8.0
    # probabilities 1/2 and 1/8: geometric mean of 2 and 8 is 4
    assert perplexity_from_log_probs([math.log(0.5), math.log(0.125)]) == pytest.approx(
        4.0, rel=1e-15
    )
    assert perplexity_from_log_probs([0.0, 0.0]) == 1.0
    assert perplexity_from_log_probs([-math.inf, 0.0]) == math.inf
    assert perplexity(math.inf) == math.inf


def test_vectorised_conversions() -> None:
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(bits_to_nats(nats_to_bits(x)), x)
    assert perplexity(x).shape == (2, 2)
    np.testing.assert_allclose(perplexity(x), np.exp(x), rtol=1e-15)


@pytest.mark.parametrize("v", [1, 2, 10, 256, 50257])
def test_uniform_model_has_perplexity_v(v: int) -> None:
    lp = np.full(37, -math.log(v))
    assert perplexity_from_log_probs(lp) == pytest.approx(v, rel=1e-13)
    assert perplexity(math.log2(v), unit="bits") == pytest.approx(v, rel=1e-13)


def test_matches_torch_cross_entropy(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((50, 11))
    targets = rng.integers(0, 11, size=50)
    loss = F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(targets))
    log_probs = torch.log_softmax(torch.as_tensor(logits), dim=-1)[torch.arange(50), targets]
    assert perplexity_from_log_probs(log_probs.numpy()) == pytest.approx(
        math.exp(loss.item()), rel=1e-12
    )
    assert perplexity(loss.item()) == pytest.approx(torch.exp(loss).item(), rel=1e-12)


def test_matches_scipy_geometric_mean(rng: np.random.Generator) -> None:
    probs = rng.uniform(0.01, 1.0, size=40)
    assert perplexity_from_log_probs(np.log(probs)) == pytest.approx(
        1.0 / stats.gmean(probs), rel=1e-12
    )


# ---- invariants -----------------------------------------------------------------------------


@given(LOSSES)
def test_units_agree(loss: float) -> None:
    assert perplexity(nats_to_bits(loss), unit="bits") == pytest.approx(perplexity(loss), rel=1e-12)
    assert nats_to_bits(loss) == pytest.approx(loss / LN2, rel=1e-15)
    assert bits_to_nats(nats_to_bits(loss)) == pytest.approx(loss, rel=1e-15)
    assert perplexity(loss) >= 1.0


@given(LOG_PROBS)
def test_log_probs_agree_with_mean_loss(lp: np.ndarray) -> None:
    ppl = perplexity_from_log_probs(lp)
    assert ppl == pytest.approx(perplexity(float(-lp.mean())), rel=1e-12)
    # a geometric mean lies between the smallest and largest inverse probability
    assert math.exp(-lp.max()) * (1 - 1e-12) <= ppl <= math.exp(-lp.min()) * (1 + 1e-12)


@given(LOG_PROBS, st.integers(1, 10_000))
def test_bits_per_byte_is_total_bits_over_bytes(lp: np.ndarray, n: int) -> None:
    total = float(-lp.sum())
    assert bits_per_byte(total, n) * n == pytest.approx(total / LN2, rel=1e-12, abs=1e-300)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"mean_loss must be >= 0"):
        perplexity(-0.1)
    with pytest.raises(ValueError, match=r"mean_loss must be a number \(not NaN\); got nan"):
        perplexity(math.nan)
    with pytest.raises(ValueError, match=r'unit must be "nats" or "bits"; got \'bit\''):
        perplexity(1.0, unit="bit")
    with pytest.raises(ValueError, match=r"log_probs must be <= 0 .*got 0.5"):
        perplexity_from_log_probs([-1.0, 0.5])
    with pytest.raises(ValueError, match=r"log_probs must be a number \(not NaN\)"):
        perplexity_from_log_probs([-1.0, math.nan])
    with pytest.raises(
        ShapeError, match=r"log_probs must not be empty: expected shape \(T,\); got \(0,\)"
    ):
        perplexity_from_log_probs([])
    with pytest.raises(ShapeError, match=r"got shape \(2, 2\)"):
        perplexity_from_log_probs(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="n_bytes must be a positive integer"):
        bits_per_byte(10.0, 0)
    with pytest.raises(ValueError, match="n_bytes must be a positive integer"):
        bits_per_byte(10.0, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total_nats must be a finite number >= 0"):
        bits_per_byte(-1.0, 10)
    with pytest.raises(ValueError, match="total_nats must be a finite number >= 0"):
        bits_per_byte(math.inf, 10)
    with pytest.raises(ValueError, match="x must hold real numbers"):
        nats_to_bits("one")


# ---- the page's examples --------------------------------------------------------------------


def test_example_tables_independently() -> None:
    t = ex.tables()
    np.testing.assert_array_equal(t["perplexity/uniform"], ex.uniform_table()[:, 1:])
    np.testing.assert_array_equal(t["perplexity/ten"], ex.ten_table()[:, 1:])
    np.testing.assert_array_equal(t["perplexity/compression"], ex.compression_table()[:, :3])
    np.testing.assert_array_equal(t["perplexity/tokenisation"], ex.tokenisation_table()[:, 1:])
    u = ex.uniform_table()
    np.testing.assert_allclose(u[:, 3], u[:, 0], rtol=1e-12)
    np.testing.assert_allclose(u[:, 4], u[:, 0], rtol=1e-12)
    np.testing.assert_allclose(u[:, 2], np.log2(u[:, 0]), rtol=1e-12)

    d = t["perplexity/data"]
    expected = [np.exp(-(ex.P_DATA @ np.log(m))) for m in (ex.P_DATA, ex.Q_MODEL)]
    np.testing.assert_allclose(d[:2, 1], expected, rtol=1e-12)
    assert d[2, 1] == pytest.approx(5.0, rel=1e-12)
    np.testing.assert_allclose(d[:, 0], d[:, 1], rtol=0.02)  # a finite sample, close
    assert d[0, 1] == pytest.approx(math.exp(stats.entropy(ex.P_DATA)), rel=1e-12)

    ten = ex.ten_table()
    np.testing.assert_allclose(ten[:, 3], 10.0, rtol=1e-12)
    np.testing.assert_allclose(ten[:, 2], math.log(10), rtol=1e-12)
    assert list(ten[:, 0]) == [10, 26]

    c = ex.compression_table()
    n = len(ex.TEXT.encode("utf-8"))
    assert list(c[:, 3]) == [n, n]
    assert c[0, 0] == pytest.approx(8.0, rel=1e-14)
    counts = np.unique(np.frombuffer(ex.TEXT.encode("utf-8"), dtype=np.uint8), return_counts=True)[
        1
    ]
    # a unigram model fitted to its own data costs n * H(empirical) bits
    assert c[1, 1] == pytest.approx(n * stats.entropy(counts, base=2), rel=1e-12)
    np.testing.assert_allclose(c[:, 2], c[:, 1] / 8, rtol=1e-15)

    tok = ex.tokenisation_table()
    assert list(tok[:, 0]) == [len(ex.TEXT), len(ex.TEXT.split(" "))]
    assert tok[0, 1] == pytest.approx(tok[1, 1], rel=1e-12)  # same total
    assert tok[0, 4] == pytest.approx(tok[1, 4], rel=1e-12)  # same bits per byte
    chars = np.unique(list(ex.TEXT), return_counts=True)[1]
    assert tok[0, 1] == pytest.approx(len(ex.TEXT) * stats.entropy(chars), rel=1e-12)
    np.testing.assert_allclose(tok[:, 3], np.exp(tok[:, 1] / tok[:, 0]), rtol=1e-12)
    assert "".join(ex.tokenisations()["words"]) == ex.TEXT
