"""Moments and minibatch variance, against scipy.stats, enumeration and closed forms."""

from __future__ import annotations

import itertools
from fractions import Fraction

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.stats
from hypothesis import given

from llmath.probability.distributions import (
    expectation,
    minibatch_mean_variance,
    minibatch_means,
    variance,
)

FACES = np.arange(1.0, 7.0)
FAIR = np.full(6, 1 / 6)


def test_fair_die_closed_form() -> None:
    assert float(expectation(FACES, FAIR)) == pytest.approx(3.5, rel=1e-15)
    assert float(variance(FACES, FAIR)) == pytest.approx(35 / 12, rel=1e-14)


def test_against_scipy_rv_discrete(rng: np.random.Generator) -> None:
    values = np.sort(rng.normal(size=7)) * 3
    p = rng.dirichlet(np.ones(7))
    ref = scipy.stats.rv_discrete(values=(np.arange(7), p))
    # rv_discrete needs integer support: map index -> value through the moments of f(X)
    mean = float(ref.expect(lambda k: values[np.asarray(k, dtype=int)]))
    var = float(ref.expect(lambda k: (values[np.asarray(k, dtype=int)] - mean) ** 2))
    assert float(expectation(values, p)) == pytest.approx(mean, rel=1e-12)
    assert float(variance(values, p)) == pytest.approx(var, rel=1e-12)


def test_batched_probs(rng: np.random.Generator) -> None:
    values = rng.normal(size=5)
    p = rng.dirichlet(np.ones(5), size=(2, 3))
    assert expectation(values, p).shape == (2, 3)
    np.testing.assert_allclose(variance(values, p)[1, 2], variance(values, p[1, 2]), rtol=1e-14)


def test_variance_survives_a_large_offset() -> None:
    shifted = FACES + 1e9
    assert float(variance(shifted, FAIR)) == pytest.approx(35 / 12, rel=1e-6)


@given(
    hnp.arrays(np.float64, 6, elements=st.floats(-100, 100)),
    hnp.arrays(np.float64, 6, elements=st.floats(0.01, 1)),
    st.floats(-50, 50),
    st.floats(-5, 5),
)
def test_linearity_and_scaling(x: np.ndarray, w: np.ndarray, a: float, b: float) -> None:
    p = w / w.sum()
    assert float(expectation(a * x + b, p)) == pytest.approx(
        a * float(expectation(x, p)) + b, abs=1e-9 * (1 + abs(a)) * 100
    )
    assert float(variance(x, p)) >= 0
    assert float(variance(a * x + b, p)) == pytest.approx(
        a * a * float(variance(x, p)), rel=1e-9, abs=1e-7
    )


def _enumerated(pop: np.ndarray, b: int, replace: bool) -> Fraction:
    """Exact variance of the batch mean over every equally likely batch, in rationals."""
    pop_q = [Fraction(v) for v in pop]
    batches = (
        itertools.product(range(len(pop)), repeat=b)
        if replace
        else itertools.combinations(range(len(pop)), b)
    )
    means = [sum(pop_q[i] for i in ix) / b for ix in batches]
    m = sum(means) / len(means)
    return sum((x - m) ** 2 for x in means) / len(means)


@pytest.mark.parametrize(
    ("n", "b", "replace"),
    [
        *[(5, 1, True), (5, 2, True), (6, 3, True), (4, 4, True)],
        *[(5, 1, False), (5, 2, False), (6, 3, False), (7, 4, False), (7, 7, False)],
    ],
)
def test_minibatch_variance_equals_enumeration(n: int, b: int, replace: bool) -> None:
    pop = np.array([1, 4, 2, 8, 5, 7, 3][:n], dtype=float) / 4
    exact = float(_enumerated(pop, b, replace))
    assert minibatch_mean_variance(pop, b, replace=replace) == pytest.approx(exact, abs=1e-14)


def test_finite_population_correction_endpoints(rng: np.random.Generator) -> None:
    pop = rng.normal(size=20)
    assert minibatch_mean_variance(pop, 1, replace=False) == pytest.approx(np.var(pop))
    assert minibatch_mean_variance(pop, 20, replace=False) == 0.0
    assert minibatch_mean_variance(pop, 20) == pytest.approx(np.var(pop) / 20)
    assert minibatch_mean_variance([3.0], 1, replace=False) == 0.0


@given(st.integers(2, 60), st.data())
def test_without_never_exceeds_with(n: int, data: st.DataObject) -> None:
    pop = np.arange(n, dtype=float) ** 1.5
    b = data.draw(st.integers(1, n))
    assert minibatch_mean_variance(pop, b, replace=False) <= minibatch_mean_variance(pop, b) + 1e-12


@pytest.mark.parametrize("replace", [True, False])
def test_simulation_matches_formula(replace: bool) -> None:
    pop = np.random.default_rng(1).gamma(2.0, size=30)
    means = minibatch_means(pop, 10, 20000, np.random.default_rng(2), replace=replace)
    target = minibatch_mean_variance(pop, 10, replace=replace)
    # the sample variance of 20000 draws has relative standard error about sqrt(2/20000) = 1%
    assert np.var(means) == pytest.approx(target, rel=0.05)
    assert means.mean() == pytest.approx(pop.mean(), abs=5 * np.sqrt(target / 20000))


def test_without_replacement_batches_have_distinct_members() -> None:
    pop = 2.0 ** np.arange(10)  # distinct powers of two: a sum identifies its members
    means = minibatch_means(pop, 4, 200, np.random.default_rng(0), replace=False)
    sums = np.rint(means * 4).astype(int)
    assert all(bin(s).count("1") == 4 for s in sums)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: expectation([1, 2], [0.5, 0.6]), "sum"),
        (lambda: expectation([1, 2, 3], [0.5, 0.5]), r"\(\.\.\., nV\) with nV = len\(values\) = 3"),
        (lambda: variance([[1, 2]], [0.5, 0.5]), r"values must have shape \(nV,\)"),
        (lambda: variance([1, np.nan], [0.5, 0.5]), "finite"),
        (lambda: expectation([1, 2], [-0.5, 1.5]), "negative"),
        (lambda: minibatch_mean_variance([1.0, 2.0], 3, replace=False), "<= N = 2"),
        (lambda: minibatch_mean_variance([1.0, 2.0], 0), "positive integer"),
        (lambda: minibatch_mean_variance([], 1), r"population must not be empty"),
        (lambda: minibatch_means([1.0, 2.0], 1, 5, np.random), "Generator"),
        (lambda: minibatch_means([1.0, 2.0], 1, 0, np.random.default_rng()), "n_batches"),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_examples_module_against_independent_computation() -> None:
    from examples.probability import distributions as ex

    t = ex.tables()
    np.testing.assert_allclose(t["distributions/dice"][0, :2], [3.5, 35 / 12], rtol=1e-14)
    loaded = scipy.stats.rv_discrete(values=(np.arange(1, 7), ex.LOADED))
    np.testing.assert_allclose(t["distributions/dice"][1, :2], [loaded.mean(), loaded.var()])
    pop = ex.small_population()
    enum = t["distributions/enumeration"]
    assert enum[0, 0] == pytest.approx(float(_enumerated(pop, ex.B_SMALL, True)), rel=1e-12)
    assert enum[1, 0] == pytest.approx(float(_enumerated(pop, ex.B_SMALL, False)), rel=1e-12)
    sim = t["distributions/simulation"]
    np.testing.assert_allclose(sim[:, 1], sim[:, 0], rtol=0.15)  # 4000 draws: ~2% noise
    np.testing.assert_allclose(sim[:-1, 3], sim[:-1, 2], rtol=0.15)
    assert abs(sim[-1, 3]) < 1e-20  # every batch is the whole set: the same mean
