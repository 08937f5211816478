"""Tests for llmath.linalg.eigen: closed forms, a torch float64 oracle, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath import ShapeError, check_row_stochastic, spectral_gap, stationary_distribution

# ---------------------------------------------------------------- independent witnesses


def torch_softmax(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row softmax in torch float64 (masked entries get -inf), independent of llmath.softmax."""
    z = torch.tensor(scores, dtype=torch.float64)
    if mask is not None:
        z = z.masked_fill(~torch.tensor(mask), float("-inf"))
    return torch.softmax(z, dim=-1).numpy()


def torch_stationary(p: np.ndarray) -> np.ndarray:
    """Left eigenvector for the eigenvalue nearest 1, from torch.linalg.eig(P^T), summed to 1."""
    lam, vecs = torch.linalg.eig(torch.tensor(p, dtype=torch.float64).T)
    v = vecs[:, int(torch.argmin((lam - 1).abs()))].numpy()
    v = v / v.sum()
    assert np.abs(v.imag).max() < 1e-12
    return v.real


def torch_gap(p: np.ndarray) -> float:
    moduli = torch.linalg.eigvals(torch.tensor(p, dtype=torch.float64)).abs()
    return float(1 - torch.sort(moduli, descending=True).values[1])


def two_state(a: float, b: float) -> np.ndarray:
    return np.array([[1 - a, a], [b, 1 - b]])


def cyclic(s: int) -> np.ndarray:
    return np.roll(np.eye(s), 1, axis=1)


score_matrices = st.integers(2, 6).flatmap(
    lambda s: arrays(np.float64, (s, s), elements=st.floats(-10, 10))
)
distributions = (
    st.integers(2, 6)
    .flatmap(lambda s: arrays(np.float64, (s,), elements=st.floats(0.01, 1.0)))
    .map(lambda w: w / w.sum())
)


# ---------------------------------------------------------------- check_row_stochastic


def test_check_row_stochastic_returns_float_copy_of_valid_input() -> None:
    p = [[0.5, 0.5], [0, 1]]
    out = check_row_stochastic(p)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.array(p, dtype=float))


@pytest.mark.parametrize(
    ("p", "error", "match"),
    [
        (np.full((2, 3), 1 / 3), ShapeError, "square"),
        (np.ones(3) / 3, ShapeError, "2 axes"),
        ([[1.5, -0.5], [0.5, 0.5]], ValueError, "non-negative"),
        ([[0.5, 0.4], [0.5, 0.5]], ValueError, "row 0 sums to"),
        ([[np.nan, 1.0], [0.5, 0.5]], ValueError, "finite"),
        ([["a", "b"], ["c", "d"]], ValueError, "real numbers"),
    ],
)
def test_check_row_stochastic_rejects_bad_input(p, error, match) -> None:
    with pytest.raises(error, match=match):
        check_row_stochastic(p)


def test_check_row_stochastic_names_the_argument() -> None:
    with pytest.raises(ValueError, match="every row of A must sum to 1"):
        check_row_stochastic([[0.5, 0.4], [0.5, 0.5]], name="A")


# ---------------------------------------------------------------- stationary_distribution


def test_stationary_hand_value() -> None:
    # pi_1 * 0.1 = pi_2 * 0.5 (flow balance), so pi = (5, 1) / 6
    np.testing.assert_allclose(
        stationary_distribution([[0.9, 0.1], [0.5, 0.5]]), [5 / 6, 1 / 6], rtol=1e-14
    )


@pytest.mark.parametrize(("a", "b"), [(0.3, 0.1), (0.9, 0.8), (0.5, 0.5), (1.0, 0.2), (0.01, 0.99)])
def test_stationary_two_state_closed_form(a: float, b: float) -> None:
    np.testing.assert_allclose(
        stationary_distribution(two_state(a, b)), [b / (a + b), a / (a + b)], rtol=1e-13
    )


@pytest.mark.parametrize("scale", [1e-9, 1e-12])
def test_stationary_close_to_identity_keeps_relative_accuracy(scale: float) -> None:
    # lambda_2 = 1 - 3 * scale: an eigenvalue test |lambda - 1| < 1e-8 would call this repeated
    a, b = scale, 2 * scale
    p = two_state(a, b)
    assert 1 - np.sort(np.linalg.eigvals(p))[0] < 1e-8
    np.testing.assert_allclose(stationary_distribution(p), [2 / 3, 1 / 3], rtol=1e-9)


def test_stationary_softmax_of_extreme_scores() -> None:
    # the docstring's example: scores +-10 give lambda_2 = 1 - 2 / (1 + e^20), about 1 - 4e-9
    p = torch_softmax(np.array([[10.0, -10.0], [-10.0, 10.0]]))
    assert math.isclose(1 - spectral_gap(p), 1 - 2 / (1 + math.exp(20)), rel_tol=1e-12)
    assert 3e-9 < spectral_gap(p) < 5e-9
    np.testing.assert_allclose(stationary_distribution(p), [0.5, 0.5], rtol=1e-12)


def test_stationary_matches_torch_eig(rng: np.random.Generator) -> None:
    for s in (2, 3, 5, 8, 16):
        p = torch_softmax(rng.standard_normal((s, s)) * 2)
        np.testing.assert_allclose(
            stationary_distribution(p), torch_stationary(p), rtol=1e-12, atol=1e-15
        )


def test_stationary_is_the_limit_of_power_iteration(rng: np.random.Generator) -> None:
    p = torch_softmax(rng.standard_normal((6, 6)))
    mu = rng.dirichlet(np.ones(6))  # (S,)
    for _ in range(200):
        mu = mu @ p
    np.testing.assert_allclose(stationary_distribution(p), mu, rtol=1e-12)


def test_stationary_is_not_the_right_eigenvector(rng: np.random.Generator) -> None:
    p = torch_softmax(rng.standard_normal((5, 5)))
    lam, right = np.linalg.eig(p)
    u = np.real(right[:, np.argmin(np.abs(lam - 1))])
    np.testing.assert_allclose(u / u.sum(), np.full(5, 0.2), rtol=1e-12)  # constant: says nothing
    assert np.abs(stationary_distribution(p) - 0.2).max() > 0.01


def test_stationary_causal_is_first_token(rng: np.random.Generator) -> None:
    s = 7
    p = torch_softmax(rng.standard_normal((s, s)), mask=np.tril(np.ones((s, s), dtype=bool)))
    np.testing.assert_allclose(stationary_distribution(p), np.eye(s)[0], atol=1e-15)


def test_stationary_causal_with_repeated_diagonal() -> None:
    # diagonal (1, .5, .5, .5): the eigenvalue 0.5 is defective, the eigenvalue 1 is simple
    p = np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_allclose(stationary_distribution(p), [1, 0, 0, 0], atol=1e-15)
    assert math.isclose(spectral_gap(p), 0.5, rel_tol=1e-7)


def test_stationary_of_a_cycle_is_uniform_but_not_a_limit() -> None:
    c = cyclic(5)
    np.testing.assert_allclose(stationary_distribution(c), np.full(5, 0.2), rtol=1e-14)
    mu = np.eye(5)[0]
    np.testing.assert_array_equal(mu @ np.linalg.matrix_power(c, 5), mu)  # back where it began


def test_stationary_size_one() -> None:
    np.testing.assert_array_equal(stationary_distribution([[1.0]]), [1.0])


@given(score_matrices)
def test_stationary_invariants_on_softmax_matrices(scores: np.ndarray) -> None:
    p = torch_softmax(scores)  # every entry positive: pi is unique
    pi = stationary_distribution(p)
    assert pi.shape == (len(p),)
    assert (pi >= 0).all()
    assert math.isclose(pi.sum(), 1.0, rel_tol=1e-14)
    np.testing.assert_allclose(pi @ p, pi, rtol=0, atol=1e-12)


@given(distributions)
def test_stationary_of_rank_one_is_its_row(row: np.ndarray) -> None:
    p = np.tile(row, (len(row), 1))  # every row the same distribution: P = 1 row^T
    np.testing.assert_allclose(stationary_distribution(p), row, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize(
    "p",
    [
        np.eye(3),
        np.array([[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.3, 0.7], [0, 0, 1, 0]]),
        np.array([[1.0, 0, 0], [0.2, 0.8, 0], [0, 0, 1.0]]),
    ],
    ids=["identity", "two-blocks", "two-absorbing"],
)
def test_stationary_rejects_non_unique(p: np.ndarray) -> None:
    with pytest.raises(ValueError, match="not unique"):
        stationary_distribution(p)


def test_stationary_rejects_non_stochastic() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        stationary_distribution([[0.9, 0.2], [0.5, 0.5]])
    with pytest.raises(ShapeError, match="square"):
        stationary_distribution(np.full((2, 3), 1 / 3))


# ---------------------------------------------------------------- spectral_gap


def test_gap_hand_value() -> None:
    # trace 1.4 = 1 + lambda_2, so lambda_2 = 0.4
    assert math.isclose(spectral_gap([[0.9, 0.1], [0.5, 0.5]]), 0.6, rel_tol=1e-14)


@pytest.mark.parametrize(("a", "b"), [(0.3, 0.1), (0.9, 0.8), (0.5, 0.5), (1.0, 1.0), (0.01, 0.02)])
def test_gap_two_state_closed_form(a: float, b: float) -> None:
    assert math.isclose(spectral_gap(two_state(a, b)), 1 - abs(1 - a - b), rel_tol=1e-12)


def test_gap_matches_torch(rng: np.random.Generator) -> None:
    for s in (2, 3, 5, 8, 16):
        p = torch_softmax(rng.standard_normal((s, s)) * 3)
        assert math.isclose(spectral_gap(p), torch_gap(p), rel_tol=1e-12)


def test_gap_predicts_the_rate_of_power_iteration(rng: np.random.Generator) -> None:
    p = torch_softmax(2 * rng.standard_normal((5, 5)))
    pi = torch_stationary(p)
    mu = np.eye(5)[0]
    d = []
    for _ in range(40):
        d.append(np.abs(mu - pi).sum())
        mu = mu @ p
    rate = (d[30] / d[10]) ** (1 / 20)
    assert math.isclose(rate, 1 - spectral_gap(p), rel_tol=0.02)


def test_gap_of_uniform_identity_cycle_and_causal(rng: np.random.Generator) -> None:
    assert math.isclose(spectral_gap(np.full((4, 4), 0.25)), 1.0, rel_tol=1e-14)
    assert spectral_gap(np.eye(4)) == 0.0
    assert spectral_gap(cyclic(6)) < 1e-14
    s = 6
    p = torch_softmax(rng.standard_normal((s, s)), mask=np.tril(np.ones((s, s), dtype=bool)))
    assert math.isclose(spectral_gap(p), 1 - np.diag(p)[1:].max(), rel_tol=1e-12)


@given(score_matrices)
def test_gap_is_in_unit_interval(scores: np.ndarray) -> None:
    g = spectral_gap(torch_softmax(scores))
    assert 0.0 <= g <= 1.0


@given(distributions)
def test_gap_of_rank_one_is_one(row: np.ndarray) -> None:
    p = np.tile(row, (len(row), 1))  # eigenvalues 1, 0, ..., 0
    assert math.isclose(spectral_gap(p), 1.0, rel_tol=1e-12)


def test_gap_rejects_bad_input() -> None:
    with pytest.raises(ShapeError, match="S >= 2"):
        spectral_gap([[1.0]])
    with pytest.raises(ValueError, match="non-negative"):
        spectral_gap([[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="finite"):
        spectral_gap([[np.inf, 0.0], [0.5, 0.5]])


# ---------------------------------------------------------------- the chapter's example module


def test_chapter_tables_against_independent_computations() -> None:
    from examples.linear_algebra import eigenvalues as ex

    t = ex.tables()
    assert all(k.startswith("eigenvalues/") for k in t)
    s = ex.S

    a, b, c, d = ex.A2.ravel()
    root = math.sqrt((a + d) ** 2 - 4 * (a * d - b * c))
    closed = [(a + d + root) / 2, (a + d - root) / 2]
    np.testing.assert_allclose(t["eigenvalues/2x2-values"], [closed, closed], rtol=1e-14)
    lam_t = torch.linalg.eigvals(torch.tensor(ex.A2)).real.sort(descending=True).values.numpy()
    np.testing.assert_allclose(t["eigenvalues/2x2-values"][0], lam_t, rtol=1e-12)
    u2 = (np.array(closed) - a) / b
    np.testing.assert_allclose(t["eigenvalues/2x2-vectors"][[1, 3]], [u2, u2], rtol=1e-12)
    power = torch.linalg.matrix_power(torch.tensor(ex.A2), ex.POWER).numpy()
    np.testing.assert_allclose(t["eigenvalues/powers"][:4], np.vstack([power, power]), rtol=1e-12)
    np.testing.assert_allclose(t["eigenvalues/powers"][4:], power, atol=abs(closed[1]) ** 6 * 10)

    q, k = ex._inputs()
    A = torch_softmax(q @ k.T / math.sqrt(ex.K))
    np.testing.assert_allclose(t["eigenvalues/attention"], A, rtol=1e-12)
    moduli = np.sort(np.abs(np.linalg.eigvals(A)))[::-1]
    np.testing.assert_allclose(t["eigenvalues/attention-spectrum"][:, 2], moduli, rtol=1e-12)
    lr = t["eigenvalues/left-right"]
    np.testing.assert_allclose(lr[0], np.full(s, 1 / s), rtol=1e-12)
    np.testing.assert_allclose(lr[1:], np.tile(torch_stationary(A), (3, 1)), rtol=1e-10)

    conv = t["eigenvalues/convergence"]
    lam2 = [1 - torch_gap(m) for m in ex.convergence_cases().values()]
    np.testing.assert_allclose(conv[:, 0], lam2, rtol=1e-12)
    np.testing.assert_allclose(conv[:, 2], lam2, rtol=0.02)

    np.testing.assert_allclose(t["eigenvalues/uniform-spectrum"][:, 2], np.eye(s)[0], atol=1e-14)
    np.testing.assert_allclose(t["eigenvalues/uniform-steps"][1:], 1 / s, rtol=1e-14)

    sw = t["eigenvalues/sweep"]
    assert math.isclose(sw[0, 0], math.log(s), rel_tol=1e-14)  # beta = 0: uniform rows
    assert np.all(np.diff(sw[:, 0]) < 0)  # sharper rows, lower entropy
    for row, beta in zip(sw, ex.BETAS, strict=True):
        assert math.isclose(row[1], torch_gap(ex.self_focused(beta)), rel_tol=0, abs_tol=1e-13)
        assert math.isclose(row[2], torch_gap(ex.shift_focused(beta)), rel_tol=0, abs_tol=1e-13)

    orbit = t["eigenvalues/cyclic-orbit"]
    np.testing.assert_array_equal(orbit, np.eye(s)[[n % s for n in range(s + 1)]])

    Ac = torch_softmax(q @ k.T / math.sqrt(ex.K), mask=np.tril(np.ones((s, s), dtype=bool)))
    np.testing.assert_allclose(t["eigenvalues/causal"], Ac, rtol=1e-12, atol=0)
    diag = np.sort(np.diag(Ac))[::-1]
    np.testing.assert_allclose(t["eigenvalues/causal-diag"], [diag, diag], rtol=1e-12)
    np.testing.assert_allclose(t["eigenvalues/causal-pi"], [np.eye(s)[0]], atol=1e-15)
    np.testing.assert_allclose(t["eigenvalues/causal-walk"][-1], np.eye(s)[0], atol=1e-12)

    ts = t["eigenvalues/two-state"]
    np.testing.assert_allclose(ts[0], [0.25, 0.75, 0.4], rtol=1e-12)
    np.testing.assert_allclose(ts[1], [0.25, 0.75, 0.4], rtol=1e-12)
    cu = t["eigenvalues/causal-uniform"]
    np.testing.assert_allclose(cu, np.tile([0.5, 1.0], (len(cu), 1)), rtol=1e-12)

    rc = ex.rank_collapse()
    np.testing.assert_array_equal(t["eigenvalues/rank-collapse"], rc[:, 1:])
    lam2_self = 1 - torch_gap(ex.self_focused(1.0))
    np.testing.assert_allclose(rc[:, 2], lam2_self ** rc[:, 0], rtol=1e-10)
    x = torch.tensor(q)  # the example's X
    a_self = torch.tensor(ex.self_focused(1.0))
    for n, r_n, _ in rc:
        xn = torch.linalg.matrix_power(a_self, int(n)) @ x
        spread = torch.linalg.norm(xn - xn.mean(0)) / torch.linalg.norm(x - x.mean(0))
        assert math.isclose(r_n, float(spread), rel_tol=1e-10)
    ratio = rc[:, 1] / rc[:, 2]
    assert abs(ratio[-1] / ratio[-2] - 1) < 0.01  # r_n / |lambda_2|^n settles to a constant
