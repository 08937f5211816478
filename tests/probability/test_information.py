"""Tests for llmath.probability.information and the information page's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.probability import information as ex
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special, stats

from llmath._checks import ShapeError
from llmath.probability.information import (
    check_distribution,
    cross_entropy_dist,
    entropy,
    kl_divergence,
    mutual_information,
)
from tests.oracles import t64

LN2 = math.log(2.0)

# Distributions built from non-negative weights (some exactly 0), normalised.
WEIGHTS = arrays(np.float64, st.integers(1, 8), elements=st.floats(0, 10)).filter(
    lambda w: w.sum() > 1e-3
)
DISTS = WEIGHTS.map(lambda w: w / w.sum())
# Pairs (p, q) of the same length, q strictly positive so that every quantity is finite.
PAIRS = DISTS.flatmap(
    lambda p: st.tuples(
        st.just(p),
        arrays(np.float64, p.shape, elements=st.floats(0.01, 10)).map(lambda w: w / w.sum()),
    )
)
TABLES = arrays(
    np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(0, 10)
).filter(lambda w: w.sum() > 1e-3)


# ---- check_distribution ---------------------------------------------------------------------


def test_check_distribution_returns_float64_copy_semantics() -> None:
    p = [[1, 0], [0.5, 0.5]]
    out = check_distribution(p)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.5, 0.5]])
    assert p == [[1, 0], [0.5, 0.5]]  # not mutated


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([0.5, -0.1, 0.6], r"p must be non-negative; got np.float64\(-0.1\) at index \(1,\)"),
        ([0.5, float("nan"), 0.5], r"p must be finite; got nan at index \(1,\)"),
        ([0.5, float("inf")], r"p must be finite; got inf"),
        ([0.5, 0.6], r"p must sum to 1 .*got a sum of 1.1"),
        ([[0.5, 0.5], [0.2, 0.2]], r"sum of 0.4 at index \(1,\)"),
        (["a", "b"], r"real numbers"),
    ],
)
def test_check_distribution_rejects(bad: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_distribution(bad)


def test_check_distribution_shapes_and_name() -> None:
    with pytest.raises(ShapeError, match=r"at least 1 axis\); got shape \(\)"):
        check_distribution(1.0)
    with pytest.raises(ShapeError, match="p must not be empty"):
        check_distribution(np.zeros((2, 0)))
    with pytest.raises(ValueError, match=r"^q must sum"):
        check_distribution([0.3, 0.3], name="q")
    check_distribution([0.5, 0.5 + 1e-12])  # within the default tolerance
    with pytest.raises(ValueError, match="within 1e-15"):
        check_distribution([0.5, 0.5 + 1e-12], atol=1e-15)


# ---- entropy --------------------------------------------------------------------------------


def test_entropy_hand_values() -> None:
    assert entropy([0.5, 0.5], unit="bits") == 1.0
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert entropy([0.25] * 4, unit="bits") == 2.0
    assert math.isclose(entropy([0.25] * 4), math.log(4), rel_tol=1e-15)
    # H(1/2, 1/4, 1/4) = 1.5 bits
    assert entropy([0.5, 0.25, 0.25], unit="bits") == 1.5
    np.testing.assert_array_equal(entropy([[1.0, 0.0], [0.5, 0.5]], unit="bits"), [0.0, 1.0])


def test_entropy_matches_scipy_and_torch(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(7), size=(3, 4))
    p[0, 0, 2] = 0.0
    p[0, 0] /= p[0, 0].sum()
    np.testing.assert_allclose(entropy(p), stats.entropy(p, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(
        entropy(p, unit="bits"), stats.entropy(p, base=2, axis=-1), rtol=1e-12
    )
    oracle = torch.distributions.Categorical(probs=t64(p)).entropy()
    np.testing.assert_allclose(entropy(p), oracle.numpy(), rtol=1e-12)


@given(DISTS)
def test_entropy_bounds_and_units(p: np.ndarray) -> None:
    h = entropy(p)
    assert -1e-15 <= h <= math.log(p.size) + 1e-12
    assert math.isclose(entropy(p, unit="bits"), h / LN2, rel_tol=1e-12, abs_tol=1e-15)


# ---- cross-entropy and KL -------------------------------------------------------------------


def test_cross_entropy_and_kl_hand_values() -> None:
    assert cross_entropy_dist([1.0, 0.0], [0.5, 0.5], unit="bits") == 1.0
    assert cross_entropy_dist([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert cross_entropy_dist([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0 log 0 skipped
    # KL(Bern(1/2) || Bern(1/4)) = 1/2 log2(2) + 1/2 log2(2/3) = 1 - log2(3)/2 bits
    kl = kl_divergence([0.5, 0.5], [0.25, 0.75], unit="bits")
    assert math.isclose(kl, 1 - math.log2(3) / 2, rel_tol=1e-14)
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == math.log(2)


def test_kl_matches_scipy_and_torch(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(6), size=5)
    q = rng.dirichlet(np.ones(6), size=5)
    p[1, 3] = 0.0
    p[1] /= p[1].sum()
    expected = special.rel_entr(p, q).sum(axis=-1)
    np.testing.assert_allclose(kl_divergence(p, q), expected, rtol=1e-12)
    np.testing.assert_allclose(kl_divergence(p, q), special.kl_div(p, q).sum(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(kl_divergence(p, q), stats.entropy(p, q, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(
        kl_divergence(p, q, unit="bits"), stats.entropy(p, q, base=2, axis=-1), rtol=1e-12
    )
    # torch's F.kl_div(input=log q, target=p) computes sum p (log p - log q).
    oracle = F.kl_div(t64(np.log(q)), t64(p), reduction="none").sum(dim=-1)
    np.testing.assert_allclose(kl_divergence(p, q), oracle.numpy(), rtol=1e-12)
    torch_kl = torch.distributions.kl_divergence(
        torch.distributions.Categorical(probs=t64(p)), torch.distributions.Categorical(probs=t64(q))
    )
    np.testing.assert_allclose(kl_divergence(p, q), torch_kl.numpy(), rtol=1e-12)


def test_cross_entropy_matches_torch_soft_targets(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((4, 9))
    p = rng.dirichlet(np.ones(9), size=4)
    q = special.softmax(logits, axis=-1)
    oracle = F.cross_entropy(t64(logits), t64(p), reduction="none")  # soft-label cross-entropy
    np.testing.assert_allclose(cross_entropy_dist(p, q), oracle.numpy(), rtol=1e-12)


def test_broadcasting_over_leading_axes(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(5))
    q = rng.dirichlet(np.ones(5), size=(2, 3))
    out = kl_divergence(p, q)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1, 2], kl_divergence(p, q[1, 2]), rtol=1e-15)


@given(PAIRS)
def test_decomposition_gibbs_and_units(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    kl = kl_divergence(p, q)
    assert kl >= -1e-12
    assert kl_divergence(p, p) == 0.0
    assert math.isclose(cross_entropy_dist(p, q), entropy(p) + kl, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(kl_divergence(p, q, unit="bits"), kl / LN2, rel_tol=1e-12, abs_tol=1e-15)
    # KL to the uniform distribution is log V - H(p)
    u = np.full(p.size, 1.0 / p.size)
    assert math.isclose(kl_divergence(p, u), math.log(p.size) - entropy(p), abs_tol=1e-12)


@pytest.mark.parametrize("fn", [entropy, cross_entropy_dist, kl_divergence])
def test_unknown_unit(fn: object) -> None:
    args = ([0.5, 0.5],) if fn is entropy else ([0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match=r'unit must be "nats" or "bits"; got \'dits\''):
        fn(*args, unit="dits")  # type: ignore[operator]


def test_pair_shape_and_value_errors() -> None:
    with pytest.raises(ShapeError, match=r"same last axis nV; got shapes \(2,\) and \(3,\)"):
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ShapeError, match="must broadcast"):
        cross_entropy_dist(np.full((2, 2), 0.5), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=r"^q must be non-negative"):
        kl_divergence([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match=r"^p must be finite"):
        cross_entropy_dist([math.nan, 1.0], [0.5, 0.5])


# ---- mutual information ---------------------------------------------------------------------


def test_mutual_information_hand_values() -> None:
    assert mutual_information([[0.5, 0.0], [0.0, 0.5]], unit="bits") == 1.0
    assert mutual_information([[0.25, 0.25], [0.25, 0.25]]) == 0.0
    # X uniform on 4 values, Y = X mod 2: I = H(Y) = 1 bit
    joint = np.zeros((4, 2))
    joint[np.arange(4), np.arange(4) % 2] = 0.25
    assert math.isclose(mutual_information(joint, unit="bits"), 1.0, rel_tol=1e-15)


@given(TABLES)
def test_mutual_information_identities(w: np.ndarray) -> None:
    joint = w / w.sum()
    p_x, p_y = joint.sum(axis=1), joint.sum(axis=0)
    mi = mutual_information(joint)
    h_x, h_y, h_xy = (stats.entropy(v.reshape(-1)) for v in (p_x, p_y, joint))
    assert -1e-12 <= mi <= min(h_x, h_y) + 1e-12
    assert math.isclose(mi, h_x + h_y - h_xy, abs_tol=1e-12)
    assert math.isclose(mutual_information(joint.T), mi, abs_tol=1e-12)  # symmetric
    assert math.isclose(mutual_information(joint, unit="bits"), mi / LN2, abs_tol=1e-12)


def test_mutual_information_bad_input() -> None:
    with pytest.raises(ShapeError, match=r"shape \(N, M\) \(2 axes\); got shape \(4,\)"):
        mutual_information([0.25] * 4)
    with pytest.raises(ValueError, match=r"^joint must sum to 1"):
        mutual_information([[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"^joint must be non-negative"):
        mutual_information([[0.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="unit"):
        mutual_information([[1.0]], unit="bit")


# ---- the page's examples --------------------------------------------------------------------


def test_example_tables_against_scipy_and_torch() -> None:
    t = ex.tables()
    d = ex.DISTRIBUTIONS
    np.testing.assert_allclose(
        t["information/entropies"][:, 0], stats.entropy(d, axis=-1), atol=1e-15
    )
    np.testing.assert_allclose(t["information/entropies"][:, 1], stats.entropy(d, base=2, axis=-1))
    h, kl, _, ce = t["information/decomposition"][0]
    assert math.isclose(h, stats.entropy(ex.P), rel_tol=1e-12)
    assert math.isclose(kl, stats.entropy(ex.P, ex.Q), rel_tol=1e-12)
    assert math.isclose(ce, -(ex.P @ np.log(ex.Q)), rel_tol=1e-12)
    asym = t["information/asymmetry"]
    assert asym[0, 1] == pytest.approx(stats.entropy(ex.Q, ex.P), rel=1e-12)
    assert asym[1, 0] == math.inf
    assert asym[1, 1] == pytest.approx(special.rel_entr(ex.Q_ZERO, ex.P).sum(), rel=1e-12)
    tri = t["information/triangle"][0]
    assert tri[3] > tri[2]  # the triangle inequality fails
    a, _, c = ex.COINS
    assert tri[3] == pytest.approx(stats.entropy(a, c), rel=1e-12)
    # The loss: torch's cross-entropy on the same logits and targets, per position.
    oracle = F.cross_entropy(t64(ex.LOGITS), torch.as_tensor(ex.TARGETS), reduction="none")
    np.testing.assert_allclose(t["information/loss"][0], oracle.numpy(), rtol=1e-12)
    mi = t["information/mutual-information"][0]
    joint = ex.JOINT
    h_x = stats.entropy(joint.sum(axis=1))
    h_joint = stats.entropy(joint.reshape(-1))
    h_y = stats.entropy(joint.sum(axis=0))
    np.testing.assert_allclose(mi[[2, 3]], h_x + h_y - h_joint, rtol=1e-12)
    np.testing.assert_allclose(mi[[1, 4]], h_joint - h_y, rtol=1e-12)
    np.testing.assert_allclose(t["information/attention"].sum(axis=1), 1.0, rtol=1e-15)


def test_example_forward_reverse_and_attention() -> None:
    fr = ex.forward_reverse()["table"]
    assert fr[0, 1] > 3 * fr[1, 1]  # forward fit much wider than the reverse fit
    assert fr[1, 0] in (10.0, 30.0)  # reverse fit sits on a mode
    assert fr[1, 3] == pytest.approx(math.log(2), abs=1e-3)
    att = ex.attention_mi()
    obj = att["objective"]
    assert obj[0] == pytest.approx(float(special.logsumexp(att["scores"])), rel=1e-12)
    assert obj[0] > max(obj[1], obj[2])
    assert 0 <= att["mi"] <= att["log_t"]
    loss = ex.training_loss()
    assert loss["mean"] == pytest.approx(loss["from_logits"], rel=1e-12)


@pytest.mark.parametrize("atol", [float("nan"), float("inf"), -1e-9, "1e-9", True])
def test_check_distribution_tolerance_must_be_a_finite_number(atol: object) -> None:
    with pytest.raises(ValueError, match=r"^atol must be a"):
        check_distribution([0.5, 0.6], atol=atol)  # type: ignore[arg-type]
