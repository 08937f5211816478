"""Tests for llmath.probability.sampling: torch oracles, closed-form limits, independent reference
filters, Hypothesis invariants, empirical frequencies and bad input."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.stats
import torch
from examples.probability import sampling as ex
from hypothesis import assume, given

from llmath._checks import ShapeError
from llmath.probability.sampling import (
    apply_temperature,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)

# ---------------------------------------------------------------- independent witnesses


def torch_temperature(z: np.ndarray, T: float) -> np.ndarray:
    return torch.softmax(torch.tensor(z, dtype=torch.float64) / T, dim=-1).numpy()


def ref_top_k(p: list[float], k: int) -> list[float]:
    """Top-k with plain Python lists: sort indices by (-p_i, i), keep k, renormalise."""
    keep = set(sorted(range(len(p)), key=lambda i: (-p[i], i))[:k])
    total = math.fsum(p[i] for i in keep)
    return [p[i] / total if i in keep else 0.0 for i in range(len(p))]


def torch_top_k(p: np.ndarray, k: int) -> np.ndarray:
    """Top-k with torch.topk along the last axis (for inputs without ties)."""
    t = torch.tensor(p, dtype=torch.float64)
    idx = torch.topk(t, k, dim=-1).indices
    kept = torch.zeros_like(t).scatter(-1, idx, t.gather(-1, idx))
    return (kept / kept.sum(-1, keepdim=True)).numpy()


def ref_top_p_support(p: list[float], top_p: float) -> set[int]:
    """The nucleus in exact rational arithmetic: the smallest sorted prefix with mass >= p."""
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    mass, keep = Fraction(0), set()
    for i in order:
        keep.add(i)
        mass += Fraction(p[i])
        if mass >= Fraction(top_p):
            break
    return keep


def hf_top_p(p: np.ndarray, top_p: float) -> np.ndarray:
    """Hugging Face's nucleus masking in torch: sort ascending, drop cumsum <= 1 - p."""
    t = torch.tensor(p, dtype=torch.float64)
    sorted_p, idx = torch.sort(t, descending=False, dim=-1)
    remove_sorted = sorted_p.cumsum(-1) <= 1 - top_p
    remove_sorted[..., -1] = False  # keep at least the most probable token
    remove = remove_sorted.scatter(-1, idx, remove_sorted)
    kept = t.masked_fill(remove, 0.0)
    return (kept / kept.sum(-1, keepdim=True)).numpy()


def exact_margin(p: list[float], top_p: float) -> float:
    """Distance from p to the nearest exact prefix mass (a tie with p makes the rule ambiguous)."""
    s = sorted(p, reverse=True)
    prefix = [sum(Fraction(x) for x in s[:r]) for r in range(1, len(s) + 1)]
    return float(min(abs(m - Fraction(top_p)) for m in prefix))


def normalise(w: np.ndarray) -> np.ndarray:
    return w / w.sum(axis=-1, keepdims=True)


class FixedUniforms(np.random.Generator):
    """A Generator whose `random` returns chosen numbers, to test the inverse CDF exactly."""

    def __init__(self, u: list[float]) -> None:
        super().__init__(np.random.PCG64(0))
        self.u = np.asarray(u)

    def random(self, size=None, dtype=np.float64, out=None):  # type: ignore[no-untyped-def]
        if self.u.size == np.prod(size):
            return self.u.reshape(size).copy()  # one chosen U per requested draw
        return np.broadcast_to(self.u, size).copy()


logit_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7),
    elements=st.floats(-20, 20),
)
temperatures = st.floats(0.05, 50.0)
distributions = (
    st.integers(1, 8)
    .flatmap(lambda v: hnp.arrays(np.float64, (v,), elements=st.floats(0.0, 1.0)))
    .filter(lambda w: w.sum() > 0.1)
    .map(normalise)
)
distinct_distributions = (
    st.integers(1, 8)
    .flatmap(lambda v: hnp.arrays(np.float64, (v,), elements=st.floats(0.001, 1.0), unique=True))
    .map(normalise)
    .filter(lambda p: len(np.unique(p)) == len(p))
)
mass = st.floats(0.01, 1.0)

Z = np.array([3.0, 2.2, 1.5, 1.0, 0.2, -1.0])


# ---------------------------------------------------------------- apply_temperature


def test_temperature_hand_values() -> None:
    z = np.log([1.0, 2.0, 3.0])
    np.testing.assert_allclose(apply_temperature(z, 1.0), [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)
    np.testing.assert_allclose(apply_temperature(z, 0.5), [1 / 14, 4 / 14, 9 / 14], rtol=1e-14)
    np.testing.assert_allclose(apply_temperature(z, 2.0), normalise(np.sqrt([1, 2, 3])), rtol=1e-14)


def test_temperature_matches_torch(rng: np.random.Generator) -> None:
    z = rng.standard_normal((4, 3, 11)) * 5
    for T in (0.05, 0.3, 1.0, 1.7, 10.0, 1e3):
        np.testing.assert_allclose(apply_temperature(z, T), torch_temperature(z, T), rtol=1e-12)


@given(logit_arrays, temperatures, st.floats(-100, 100))
def test_temperature_invariants_and_t1_is_softmax(z: np.ndarray, T: float, c: float) -> None:
    p = apply_temperature(z, T)
    assert p.shape == z.shape
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(apply_temperature(z + c, T), p, rtol=1e-9, atol=1e-15)  # shift
    np.testing.assert_allclose(apply_temperature(z / T, 1.0), p, rtol=1e-9, atol=1e-15)
    # order is kept (weakly: rounding may merge near-ties): z_i > z_j implies p_i >= p_j
    assert not ((z[..., :, None] > z[..., None, :]) & (p[..., :, None] < p[..., None, :])).any()
    g = np.asarray(greedy(z))[..., None]  # so the greedy token has the largest probability
    np.testing.assert_array_equal(np.take_along_axis(p, g, -1)[..., 0], p.max(-1))
    np.testing.assert_allclose(apply_temperature(z, 1.0), torch_temperature(z, 1.0), rtol=1e-12)


@given(hnp.arrays(np.float64, st.integers(2, 7), elements=st.floats(-5, 5)))
def test_entropy_increases_with_temperature(z: np.ndarray) -> None:
    assume(np.ptp(z) > 1e-3)

    def H(T: float) -> float:
        p = torch.tensor(apply_temperature(z, T))
        return float(-(p * torch.log(p.clamp_min(1e-300))).sum())

    hs = [H(T) for T in (0.1, 0.3, 1.0, 3.0, 10.0)]
    assert all(a < b + 1e-12 for a, b in itertools.pairwise(hs))


def test_temperature_limit_zero_is_one_hot_or_uniform_over_ties() -> None:
    np.testing.assert_array_equal(apply_temperature(Z, 1e-3), np.eye(6)[0])
    np.testing.assert_array_equal(apply_temperature([1.0, 5.0, 5.0, 2.0], 1e-3), [0, 0.5, 0.5, 0])
    tie3 = apply_temperature([7.0, 7.0, 7.0, -1.0], 1e-2)
    np.testing.assert_allclose(tie3, [1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-15)


def test_temperature_tiny_does_not_overflow() -> None:
    # (z - max) / 1e-310 overflows to -inf; it must become probability 0, not NaN or a warning
    np.testing.assert_array_equal(apply_temperature(Z, 1e-310), np.eye(6)[0])
    np.testing.assert_array_equal(apply_temperature([0.0, 0.0], 5e-324), [0.5, 0.5])


def test_temperature_limit_infinity_is_uniform() -> None:
    for T in (1e6, 1e12):
        np.testing.assert_allclose(apply_temperature(Z, T), np.full(6, 1 / 6), rtol=5 * 4 / T)
    np.testing.assert_array_equal(apply_temperature(Z, 1e308), np.full(6, 1 / 6))


@pytest.mark.parametrize("T", [0.01, 1.0, 100.0])
def test_temperature_uniform_logits_stay_uniform(T: float) -> None:
    np.testing.assert_allclose(apply_temperature(np.full((2, 5), 3.3), T), 0.2, rtol=1e-15)


def test_temperature_does_not_mutate() -> None:
    z = Z.copy()
    apply_temperature(z, 0.5)
    np.testing.assert_array_equal(z, Z)


@pytest.mark.parametrize(
    ("T", "match"),
    [
        (0, "divides by zero.*greedy"),
        (0.0, "divides by zero"),
        (-1.0, "finite number > 0; got -1.0"),
        (float("nan"), "finite number > 0; got nan"),
        (float("inf"), "finite number > 0; got inf"),
        (True, "real number > 0; got True"),
        ("1", "real number > 0"),
        (None, "real number > 0"),
    ],
)
def test_temperature_rejects_bad_temperature(T: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        apply_temperature(Z, T)  # type: ignore[arg-type]


def test_temperature_rejects_bad_logits() -> None:
    with pytest.raises(ValueError, match="finite"):
        apply_temperature([1.0, np.nan], 1.0)
    with pytest.raises(ValueError, match="finite"):
        apply_temperature([1.0, -np.inf], 1.0)
    with pytest.raises(ShapeError, match="at least 1 axis"):
        apply_temperature(2.0, 1.0)


# ---------------------------------------------------------------- greedy


def test_greedy_hand_values_and_types() -> None:
    g = greedy([0.1, 2.0, -1.0])
    assert g == 1 and type(g) is int
    out = greedy([[1.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 2])  # tie: the lower index


def test_greedy_matches_torch_argmax(rng: np.random.Generator) -> None:
    z = rng.standard_normal((3, 4, 9))
    np.testing.assert_array_equal(greedy(z), torch.argmax(torch.tensor(z), dim=-1).numpy())


def test_greedy_is_top_k_with_k_one(rng: np.random.Generator) -> None:
    p = normalise(rng.random((5, 7)))
    np.testing.assert_array_equal(top_k_filter(p, 1), np.eye(7)[greedy(p)])


def test_greedy_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="logits must not be empty"):
        greedy(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="finite"):
        greedy([0.0, np.nan])
    with pytest.raises(ShapeError):
        greedy(3.0)


# ---------------------------------------------------------------- top_k_filter


def test_top_k_hand_values() -> None:
    np.testing.assert_allclose(top_k_filter([0.5, 0.2, 0.3], 2), [0.625, 0, 0.375], rtol=1e-15)
    np.testing.assert_array_equal(top_k_filter([0.2, 0.5, 0.3], 1), [0, 1, 0])


def test_top_k_ties_keep_the_lower_index() -> None:
    np.testing.assert_allclose(top_k_filter([0.4, 0.3, 0.3], 2), [4 / 7, 3 / 7, 0], rtol=1e-15)
    np.testing.assert_allclose(top_k_filter([0.25] * 4, 3), [1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-15)


@given(distributions, st.data())
def test_top_k_matches_python_reference(p: np.ndarray, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(p)))
    np.testing.assert_allclose(top_k_filter(p, k), ref_top_k(list(p), k), rtol=1e-14, atol=0)
    np.testing.assert_allclose(top_k_filter(p, len(p)), p, rtol=1e-14, atol=1e-300)  # k = V


def test_top_k_matches_torch_topk_batched(rng: np.random.Generator) -> None:
    p = normalise(rng.random((3, 4, 10)))  # continuous: no ties
    for k in (1, 3, 7, 10):
        np.testing.assert_allclose(top_k_filter(p, k), torch_top_k(p, k), rtol=1e-14)


@given(distinct_distributions, st.data())
def test_top_k_invariants(p: np.ndarray, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(p)))
    q = top_k_filter(p, k)
    assert (q >= 0).all() and math.isclose(q.sum(), 1.0, rel_tol=1e-14)
    assert (q > 0).sum() == k  # no ties and all positive: exactly k survive
    assert p[q > 0].min() > p[q == 0].max(initial=-1.0)  # every kept token beats every dropped one
    kept = q > 0
    np.testing.assert_allclose(q[kept], p[kept] / p[kept].sum(), rtol=1e-14)  # ratios unchanged


@given(hnp.arrays(np.float64, st.integers(2, 8), elements=st.floats(-10, 10)), temperatures)
def test_top_k_commutes_with_temperature(z: np.ndarray, T: float) -> None:
    gaps = np.diff(np.unique(z))
    assume((gaps > 1e-6).all())  # near-ties could be broken differently at different T
    for k in range(1, len(z) + 1):
        first = top_k_filter(apply_temperature(z, T), k)
        q = top_k_filter(apply_temperature(z, 1.0), k)
        later = np.zeros_like(q)
        later[q > 0] = torch_temperature(np.log(q[q > 0]), T)
        np.testing.assert_allclose(first, later, rtol=1e-9, atol=1e-300)


def test_top_k_does_not_mutate() -> None:
    p = np.array([0.1, 0.6, 0.3])
    top_k_filter(p, 1)
    np.testing.assert_array_equal(p, [0.1, 0.6, 0.3])


@pytest.mark.parametrize(
    ("k", "match"),
    [
        (0, "1 <= k <= nV = 3; got 0"),
        (-1, "got -1"),
        (4, "1 <= k <= nV = 3; got 4"),
        (2.0, "integer"),
        (True, "got True"),
    ],
)
def test_top_k_rejects_bad_k(k: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        top_k_filter([0.2, 0.3, 0.5], k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        ([0.5, 0.6], "sum to 1"),
        ([1.2, -0.2], "non-negative"),
        ([np.nan, 1.0], "finite"),
    ],
)
def test_filters_reject_non_distributions(probs: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        top_k_filter(probs, 1)
    with pytest.raises(ValueError, match=match):
        top_p_filter(probs, 0.5)
    with pytest.raises(ValueError, match=match):
        sample(probs, np.random.default_rng(0))


# ---------------------------------------------------------------- top_p_filter


def test_top_p_hand_values() -> None:
    np.testing.assert_allclose(top_p_filter([0.1, 0.6, 0.3], 0.7), [0, 2 / 3, 1 / 3], rtol=1e-15)
    np.testing.assert_array_equal(top_p_filter([0.1, 0.6, 0.3], 0.5), [0, 1, 0])
    np.testing.assert_array_equal(top_p_filter([0.1, 0.6, 0.3], 0.6), [0, 1, 0])  # mass = p: kept
    np.testing.assert_array_equal(top_p_filter([0.1, 0.6, 0.3], 1e-9), [0, 1, 0])


def test_top_p_rounding_in_the_running_sum_costs_no_token() -> None:
    # eight 0.1s sum to 0.7999999999999999 in float64; exactly 8 tokens reach p = 0.8
    p = np.full(10, 0.1)
    assert np.cumsum(p)[7] < 0.8
    assert (top_p_filter(p, 0.8) > 0).sum() == 8
    assert ref_top_p_support([0.1] * 10, 0.8) == set(range(8))  # exactly: 8 * fl(0.1) = fl(0.8)


def test_top_p_one_is_the_identity_even_for_a_tiny_tail() -> None:
    p = np.array([1.0, 1e-20])  # a valid distribution whose float64 running sum hits 1 early
    np.testing.assert_array_equal(top_p_filter(p, 1.0), p)


@given(distributions, mass)
def test_top_p_matches_exact_reference(p: np.ndarray, top_p: float) -> None:
    assume(exact_margin(list(p), top_p) > 1e-10)  # away from a boundary tie
    q = top_p_filter(p, top_p)
    support = {int(i) for i in np.flatnonzero(q > 0)}
    assert support == {i for i in ref_top_p_support(list(p), top_p) if p[i] > 0}
    kept = sorted(support)
    np.testing.assert_allclose(q[kept], p[kept] / p[kept].sum(), rtol=1e-14)


def test_top_p_matches_hugging_face_style_masking(rng: np.random.Generator) -> None:
    p = normalise(rng.random((6, 12)) ** 3)
    for top_p in (0.3, 0.5, 0.77, 0.9, 0.95):
        np.testing.assert_allclose(top_p_filter(p, top_p), hf_top_p(p, top_p), rtol=1e-14)


@given(distributions, mass)
def test_top_p_invariants(p: np.ndarray, top_p: float) -> None:
    q = top_p_filter(p, top_p)
    kept = q > 0
    assert (q >= 0).all() and math.isclose(q.sum(), 1.0, rel_tol=1e-14)
    assert p[kept].sum() >= top_p - 1e-12  # kept mass is at least p
    smallest = np.flatnonzero(kept)[np.argmin(p[kept])]
    assert p[kept].sum() - p[smallest] < top_p + 1e-9  # and no kept token could be spared
    assert p[kept].min() >= p[~kept].max(initial=0.0)  # the nucleus is a prefix of the sorted order
    np.testing.assert_allclose(top_p_filter(p, 1.0), p, rtol=1e-14, atol=1e-300)  # p = 1


def test_top_p_batched_rows_are_independent(rng: np.random.Generator) -> None:
    p = normalise(rng.random((2, 3, 8)))
    out = top_p_filter(p, 0.6)
    for idx in np.ndindex(2, 3):
        np.testing.assert_array_equal(out[idx], top_p_filter(p[idx], 0.6))


@pytest.mark.parametrize("top_p", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.9", None])
def test_top_p_rejects_bad_p(top_p: object) -> None:
    with pytest.raises(ValueError, match="0 < p <= 1"):
        top_p_filter([0.2, 0.8], top_p)  # type: ignore[arg-type]


# ---------------------------------------------------------------- sample


def test_sample_inverse_cdf_exact() -> None:
    p = [0.2, 0.0, 0.5, 0.3]  # F = 0.2, 0.2, 0.7, 1.0
    u = [0.0, 0.19999, 0.2, 0.5, 0.69999, 0.7, 0.999999]
    expected = [0, 0, 2, 2, 2, 3, 3]  # min{i : u < F_i}; token 1 has an empty interval
    np.testing.assert_array_equal(sample(p, FixedUniforms(u), size=len(u)), expected)
    t = torch.searchsorted(torch.cumsum(torch.tensor(p), 0), torch.tensor(u), right=True)
    np.testing.assert_array_equal(t.numpy(), expected)


def test_sample_never_runs_past_the_end() -> None:
    p = [0.3, 0.7 - 1e-10, 0.0]  # sums to 1 - 1e-10: a valid distribution within 1e-9
    assert sample(p, FixedUniforms([1 - 2**-53])) == 1


def test_sample_matches_torch_searchsorted_on_real_uniforms() -> None:
    p = normalise(np.arange(1.0, 9.0))
    u = np.random.default_rng(5).random(1000)
    t = torch.searchsorted(torch.cumsum(torch.tensor(p), 0), torch.tensor(u), right=True)
    np.testing.assert_array_equal(sample(p, np.random.default_rng(5), size=1000), t.numpy())


def test_sample_frequencies_chi_square() -> None:
    p = top_p_filter(apply_temperature(Z, 0.7), 0.95)
    n = 100_000
    ids = sample(p, np.random.default_rng(12345), size=n)
    counts = np.bincount(ids, minlength=6)
    kept = p > 0
    assert counts[~kept].sum() == 0  # filtered-out tokens are never drawn
    res = scipy.stats.chisquare(counts[kept], n * p[kept])
    assert res.pvalue > 1e-3
    se = np.sqrt(p * (1 - p) / n)
    assert (np.abs(counts / n - p) <= 5 * se + 1e-15).all()


def test_sample_shapes_and_types(rng: np.random.Generator) -> None:
    p = normalise(np.ones(5))
    one = sample(p, rng)
    assert type(one) is int and 0 <= one < 5
    assert sample(p, rng, size=7).shape == (7,)
    assert sample(p, rng, size=(2, 3)).shape == (2, 3)
    batch = np.eye(4)[[2, 0, 3]]  # (B, V) = (3, 4), each row one-hot
    np.testing.assert_array_equal(sample(batch, rng), [2, 0, 3])
    many = sample(batch, rng, size=(5, 2))
    assert many.shape == (5, 2, 3) and many.dtype == np.int64
    np.testing.assert_array_equal(many, np.broadcast_to([2, 0, 3], (5, 2, 3)))


def test_sample_batched_rows_have_their_own_frequencies() -> None:
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    ids = sample(p, np.random.default_rng(1), size=50_000)  # (N, 2)
    np.testing.assert_allclose((ids == 0).mean(axis=0), [0.9, 0.2], atol=0.01)


def test_sample_is_reproducible_and_leaves_global_state_alone() -> None:
    p = normalise(np.arange(1.0, 6.0))
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state itself)
    a = sample(p, np.random.default_rng(3), size=50)
    np.random.default_rng(123).random(10)  # other generators do not interfere
    b = sample(p, np.random.default_rng(3), size=50)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("bad_rng", [None, 0, np.random.RandomState(0), np.random])
def test_sample_requires_a_generator(bad_rng: object) -> None:
    with pytest.raises(ValueError, match=r"^rng must be a numpy\.random\.Generator"):
        sample([0.5, 0.5], bad_rng)  # type: ignore[arg-type]


def test_sample_rng_is_not_optional() -> None:
    with pytest.raises(TypeError):
        sample([0.5, 0.5])  # type: ignore[call-arg]


# ---------------------------------------------------------------- the chapter's example module


def test_example_tables_against_independent_computation() -> None:
    t = ex.tables()
    assert all(np.isfinite(v).all() for v in t.values())
    temps = t["sampling/temperature"]
    for row, T in zip(temps, ex.TEMPS, strict=False):
        np.testing.assert_allclose(
            row[:-1], torch_temperature(ex.LOGITS, T), rtol=1e-12, atol=1e-300
        )
        assert math.isclose(
            row[-1], scipy.stats.entropy(row[:-1], base=2), rel_tol=1e-10, abs_tol=1e-14
        )
    np.testing.assert_array_equal(temps[-2, :-1], np.eye(ex.V)[np.argmax(ex.LOGITS)])
    np.testing.assert_allclose(temps[-1], [*np.full(ex.V, 1 / ex.V), math.log2(ex.V)], rtol=1e-14)
    np.testing.assert_allclose(
        t["sampling/example"][1], torch_temperature(ex.LOGITS, 1.0), rtol=1e-12
    )
    np.testing.assert_allclose(
        t["sampling/ties"][0], torch_temperature(ex.TIE_LOGITS, 1.0), rtol=1e-12
    )
    np.testing.assert_allclose(t["sampling/ties"][2, :2], 0.5, rtol=1e-12)  # T -> 0 with a tie

    p1 = torch_temperature(ex.LOGITS, 1.0)
    for row, k in zip(t["sampling/top-k"], ex.KS, strict=True):
        np.testing.assert_allclose(row[:-1], ref_top_k(list(p1), k), rtol=1e-12)
        assert math.isclose(row[-1], np.sort(p1)[::-1][:k].sum(), rel_tol=1e-12)
    for row, top_p in zip(t["sampling/top-p"], ex.PS, strict=True):
        kept = sorted(ref_top_p_support(list(p1), top_p))
        assert set(np.flatnonzero(row[:-1])) == set(kept)
        assert row[-1] >= top_p - 1e-12 and math.isclose(row[-1], p1[kept].sum(), rel_tol=1e-12)
    np.testing.assert_allclose(
        t["sampling/cumulative"][1], np.cumsum(np.sort(p1)[::-1]), rtol=1e-12
    )

    zipf = {T: normalise(np.arange(1, ex.ZIPF_V + 1) ** (-1 / T)) for T in (ex.FLAT_T, ex.PEAKED_T)}
    for i, top_p in enumerate(ex.ADAPT_PS):
        for j, T in enumerate((ex.FLAT_T, ex.PEAKED_T)):
            kept = sorted(ref_top_p_support(list(zipf[T]), top_p))
            assert t["sampling/adaptive-k"][i, j] == len(kept)
            assert math.isclose(
                t["sampling/adaptive-mass"][i, j], zipf[T][kept].sum(), rel_tol=1e-10
            )

    order = t["sampling/order"]
    np.testing.assert_allclose(order[0], order[1], rtol=1e-12)  # top-k commutes with temperature
    assert (order[2] > 0).sum() != (order[3] > 0).sum()  # top-p does not

    q = hf_top_p(torch_temperature(ex.LOGITS, ex.SAMPLE_T), ex.SAMPLE_P)
    np.testing.assert_allclose(t["sampling/cdf"], [q, np.cumsum(q)], rtol=1e-12, atol=1e-300)
    emp = t["sampling/empirical"]
    np.testing.assert_allclose(emp[0], q, rtol=1e-12)
    assert (np.abs(emp[1] - q) <= 5 * np.sqrt(q * (1 - q) / ex.N_DRAWS) + 1e-15).all()
    chi2, dof = ex.chi_square()
    kept = q > 0
    res = scipy.stats.chisquare(emp[1][kept] * ex.N_DRAWS, q[kept] * ex.N_DRAWS)
    assert math.isclose(chi2, res.statistic, rel_tol=1e-9) and res.pvalue > 1e-3
    assert math.isclose(scipy.stats.chi2.sf(chi2, dof), math.exp(-chi2 / 2), rel_tol=1e-12)

    np.testing.assert_allclose(
        t["sampling/ex-p-intervals"][:, 1], np.cumsum(np.sort(p1)[::-1]), rtol=1e-12
    )
    assert ex.p_intervals_check()
    t_star = ex.hot_threshold()
    assert math.isclose(torch_temperature(ex.LOGITS, t_star).min(), 1 - ex.HOT_P, rel_tol=1e-9)
    hot = [
        len(ref_top_p_support(list(torch_temperature(ex.LOGITS, T)), ex.HOT_P)) for T in ex.HOT_TS
    ]
    np.testing.assert_array_equal(t["sampling/ex-hot"][0], hot)
    rate = t["sampling/ex-greedy-rate"]
    pmax = np.array([torch_temperature(ex.LOGITS, T).max() for T in ex.GREEDY_TS])
    np.testing.assert_allclose(rate[:, 0], pmax, rtol=1e-12)
    assert (np.abs(rate[:, 1] - pmax) <= 5 * np.sqrt(pmax * (1 - pmax) / ex.N_GREEDY)).all()


def test_example_first_draws_follow_the_cdf() -> None:
    u, ids = ex.first_draws()
    F = np.cumsum(ex.sampled())
    for a, i in zip(u, ids, strict=True):
        assert (F[i - 1] if i else 0.0) <= a < F[i]


@pytest.mark.parametrize("size", [2.5, "3", True, 0, -1, (2, 2.5), [2, 3]])
def test_sample_size_is_not_coerced(size: object) -> None:
    with pytest.raises(ValueError, match=r"^size must be None, a positive integer or a tuple"):
        sample([0.5, 0.5], np.random.default_rng(0), size=size)  # type: ignore[arg-type]
