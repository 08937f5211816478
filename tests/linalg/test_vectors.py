"""Tests for llmath.linalg.vectors and the vectors chapter's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from examples.linear_algebra import vectors as ex
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate, stats

from llmath import ShapeError, cosine_similarity, embed, norm, one_hot
from tests.oracles import t64

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
VECTORS = arrays(np.float64, st.integers(1, 8), elements=FLOATS)
# Vectors bounded away from zero, so that the cosine is defined and well conditioned.
NONZERO = VECTORS.filter(lambda v: np.max(np.abs(v)) > 1e-3)


def with_partner(first: st.SearchStrategy[np.ndarray]) -> st.SearchStrategy[tuple]:
    """Pairs (a, b): a drawn from first, b any FLOATS array of a's shape."""
    return first.flatmap(
        lambda a: st.tuples(st.just(a), arrays(np.float64, a.shape, elements=FLOATS))
    )


# ---- norm -----------------------------------------------------------------------------------


def test_norm_hand_values() -> None:
    assert norm([3.0, 4.0]) == 5.0
    assert norm([0.0, 0.0, 0.0]) == 0.0
    assert norm([-2.0]) == 2.0
    np.testing.assert_array_equal(norm([[3.0, 4.0], [5.0, 12.0]]), [5.0, 13.0])


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_norm_extreme_scales_closed_form(scale: float) -> None:
    # The naive formula gives 0 or inf here; the true length is 5 s.
    np.testing.assert_allclose(norm([3.0 * scale, 4.0 * scale]), 5.0 * scale, rtol=1e-15)
    # A constant vector c 1 of length N has length |c| sqrt(N).
    np.testing.assert_allclose(norm(np.full(16, -scale)), 4.0 * scale, rtol=1e-15)


def test_norm_matches_torch(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 7)) * 10.0
    np.testing.assert_allclose(norm(x), torch.linalg.vector_norm(t64(x), dim=-1), rtol=1e-12)


@given(VECTORS, st.floats(-100, 100))
def test_norm_is_absolutely_homogeneous(x: np.ndarray, c: float) -> None:
    np.testing.assert_allclose(norm(c * x), abs(c) * norm(x), rtol=1e-12, atol=1e-300)


@given(with_partner(VECTORS))
def test_norm_triangle_inequality_and_bounds(pair: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = pair
    assert norm(x + y) <= norm(x) + norm(y) + 1e-12
    m = np.max(np.abs(x))
    assert m - 1e-12 <= norm(x) <= math.sqrt(x.size) * m * (1 + 1e-12)


def test_norm_bad_input() -> None:
    with pytest.raises(ShapeError, match=r"x must have shape \(\.\.\., D\)"):
        norm(3.0)
    with pytest.raises(ValueError, match="finite"):
        norm([1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        norm([np.inf, 1.0])


# ---- cosine_similarity ----------------------------------------------------------------------


def test_cosine_hand_values() -> None:
    np.testing.assert_allclose(cosine_similarity([1.0, 0.0], [1.0, 1.0]), 1 / math.sqrt(2))
    assert cosine_similarity([1.0, 0.0], [0.0, 5.0]) == 0.0
    assert cosine_similarity([1.0, 2.0], [-2.0, -4.0]) == pytest.approx(-1.0, abs=1e-15)
    assert cosine_similarity([3.0, 1.0], [3.0, 1.0]) == pytest.approx(1.0, abs=1e-15)
    # Huge entries: the naive a.b / (|a||b|) would be inf / inf.
    np.testing.assert_allclose(cosine_similarity([1e200, 1e200], [1e200, 0.0]), 1 / math.sqrt(2))


def test_cosine_matches_torch(rng: np.random.Generator) -> None:
    a = rng.standard_normal((5, 8))
    b = rng.standard_normal((5, 8))
    expected = F.cosine_similarity(t64(a), t64(b), dim=-1)
    np.testing.assert_allclose(cosine_similarity(a, b), expected, rtol=1e-12)


def test_cosine_broadcasts_every_pair_like_torch(rng: np.random.Generator) -> None:
    E = rng.standard_normal((6, 4))
    got = cosine_similarity(E[:, None, :], E[None, :, :])
    expected = F.cosine_similarity(t64(E)[:, None, :], t64(E)[None, :, :], dim=-1)
    assert got.shape == (6, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@given(with_partner(NONZERO))
def test_cosine_range_symmetry_self(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert cosine_similarity(a, a) == pytest.approx(1.0, abs=1e-12)
    assume(np.max(np.abs(b)) > 1e-3)
    c = cosine_similarity(a, b)
    assert -1.0 <= c <= 1.0
    assert c == pytest.approx(float(cosine_similarity(b, a)), abs=1e-12)


@given(with_partner(NONZERO), st.floats(0.01, 100))
def test_cosine_scale_invariance(pair: tuple[np.ndarray, np.ndarray], c: float) -> None:
    a, b = pair
    assume(np.max(np.abs(b)) > 1e-3)
    base = float(cosine_similarity(a, b))
    assert float(cosine_similarity(c * a, b)) == pytest.approx(base, abs=1e-12)
    assert float(cosine_similarity(-c * a, b)) == pytest.approx(-base, abs=1e-12)


def test_cosine_bad_input() -> None:
    with pytest.raises(ValueError, match="zero vector"):
        cosine_similarity([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="zero vector"):
        cosine_similarity([[1.0, 2.0], [0.0, 0.0]], [1.0, 2.0])
    with pytest.raises(ShapeError, match="must share D"):
        cosine_similarity([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="do not broadcast"):
        cosine_similarity(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        cosine_similarity([1.0, np.nan], [1.0, 2.0])


# ---- one_hot and embed ----------------------------------------------------------------------


def test_one_hot_hand_value() -> None:
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert one_hot(np.zeros((2, 5), dtype=int), 4).shape == (2, 5, 4)


def test_one_hot_matches_torch(rng: np.random.Generator) -> None:
    ids = rng.integers(0, 11, size=(3, 7))
    expected = F.one_hot(torch.as_tensor(ids), num_classes=11).to(torch.float64)
    np.testing.assert_array_equal(one_hot(ids, 11), expected.numpy())


@given(arrays(np.int64, st.integers(0, 10), elements=st.integers(0, 19)))
def test_one_hot_rows_are_basis_vectors(ids: np.ndarray) -> None:
    hot = one_hot(ids, 20)
    np.testing.assert_array_equal(hot.sum(axis=-1), np.ones(ids.shape))
    np.testing.assert_array_equal(hot.argmax(axis=-1), ids)


def test_one_hot_bad_input() -> None:
    with pytest.raises(ValueError, match="integers"):
        one_hot([0.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"lie in \[0, nV\)"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match=r"lie in \[0, nV\)"):
        one_hot([-1], 3)
    with pytest.raises(ValueError, match="nV must be a positive integer"):
        one_hot([0], 0)
    with pytest.raises(ValueError, match="nV must be a positive integer"):
        one_hot([0], True)


def test_embed_hand_value() -> None:
    np.testing.assert_array_equal(
        embed([1, 1, 0], [[0.0, 1.0], [2.0, 3.0]]), [[2.0, 3.0], [2.0, 3.0], [0.0, 1.0]]
    )


def test_embed_matches_torch_and_one_hot_product(rng: np.random.Generator) -> None:
    E = rng.standard_normal((9, 5))
    ids = rng.integers(0, 9, size=(2, 6))
    got = embed(ids, E)
    np.testing.assert_array_equal(got, F.embedding(torch.as_tensor(ids), t64(E)).numpy())
    np.testing.assert_array_equal(got, one_hot(ids, 9) @ E)  # exact: products with 0 and 1


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=FLOATS))
def test_embed_of_all_ids_is_the_table(E: np.ndarray) -> None:
    np.testing.assert_array_equal(embed(np.arange(E.shape[0]), E), E)


def test_embed_bad_input() -> None:
    with pytest.raises(ShapeError, match=r"table must have shape \(nV, D\)"):
        embed([0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"lie in \[0, nV\)"):
        embed([2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="integers"):
        embed([0.5], np.zeros((2, 3)))


# ---- the chapter's examples -----------------------------------------------------------------


def test_example_tables_have_page_keys() -> None:
    assert set(ex.tables()) == {
        "vectors/embedding-table",
        "vectors/one-hot",
        "vectors/lookup",
        "vectors/cosine-matrix",
        "vectors/triangle",
        "vectors/triangle-sweep",
        "vectors/concentration",
    }


def test_example_dot_product_closed_form() -> None:
    d = ex.dot_example()
    assert d["dot"] == 5.0
    np.testing.assert_allclose([d["norm_a"], d["norm_b"]], [math.sqrt(10), math.sqrt(5)])
    np.testing.assert_allclose([d["theta_from_dot"], d["theta_from_atan2"]], [45.0, 45.0])
    np.testing.assert_allclose([d["lhs_law_of_cosines"], d["rhs_law_of_cosines"]], [5.0, 5.0])


def test_example_overflow_and_float16() -> None:
    (_, tiny_naive, tiny), (_, one_naive, one), (_, huge_naive, huge) = ex.overflow_demo()
    assert tiny_naive == 0.0 and huge_naive == math.inf and one_naive == 5.0
    np.testing.assert_allclose([tiny, one, huge], [5e-200, 5.0, 5e200], rtol=1e-15)
    f16 = ex.float16_threshold()
    # torch in float16 is the independent witness of where the naive formula overflows.
    for x, overflows in ((f16["x"], True), (f16["previous"], False)):
        t = torch.tensor([x, x], dtype=torch.float16)
        assert bool(torch.isinf(torch.sqrt((t * t).sum()))) is overflows
    np.testing.assert_allclose(f16["true_norm"], f16["x"] * math.sqrt(2), rtol=1e-15)


def test_example_embedding_and_cosine_matrix() -> None:
    t = ex.tables()
    E = np.random.default_rng(ex.SEED).standard_normal((ex.V, ex.D))
    np.testing.assert_array_equal(t["vectors/embedding-table"], E)
    torch_ids = torch.as_tensor(ex.IDS)
    expected_hot = F.one_hot(torch_ids, num_classes=ex.V).to(torch.float64).numpy()
    np.testing.assert_array_equal(t["vectors/one-hot"], expected_hot)
    np.testing.assert_array_equal(t["vectors/lookup"], F.embedding(torch_ids, t64(E)).numpy())
    assert float(ex.lookup()["max_abs_diff"]) == 0.0
    expected_cos = F.cosine_similarity(t64(E)[:, None], t64(E)[None], dim=-1).numpy()
    np.testing.assert_allclose(t["vectors/cosine-matrix"], expected_cos, rtol=1e-12, atol=1e-15)
    assert ex.normalised_gram_gap() < 1e-14


def test_example_scaling() -> None:
    s = ex.scaling_check()
    np.testing.assert_allclose([s["c=3"], s["c=-0.5"]], [s["c=1"], -s["c=1"]], rtol=1e-14)


def test_example_triangle_closed_form() -> None:
    h = 1 - 1 / math.sqrt(2)  # 1 - cos 45
    chord = math.sqrt(2 - math.sqrt(2))
    expected = [
        [h, h, 2 * h, 1.0],
        [chord, chord, 2 * chord, math.sqrt(2)],
        [math.pi / 4, math.pi / 4, math.pi / 2, math.pi / 2],
    ]
    np.testing.assert_allclose(ex.triangle(), expected, rtol=1e-12)
    sweep = ex.triangle_sweep()
    np.testing.assert_allclose(sweep[:, 2], sweep[:, 3], atol=1e-12)
    assert np.all(sweep[:-1, 2] < 0)  # fails for every angle below 90 degrees


def test_example_triangle_random_matches_torch() -> None:
    rng = np.random.default_rng(2)
    a, b, c = (t64(v) for v in rng.standard_normal((3, 10_000, 3)))
    cos = F.cosine_similarity
    violated = (1 - cos(a, b, dim=-1)) + (1 - cos(b, c, dim=-1)) < 1 - cos(a, c, dim=-1)
    assert ex.triangle_random() == pytest.approx(float(violated.double().mean()), abs=1e-3)


def test_example_concentration_follows_one_over_root_d() -> None:
    rows = ex.concentration()
    dims = rows[:, 0]
    np.testing.assert_array_equal(rows[:, 3], 1 / np.sqrt(dims))
    # The sample std of n = 4000 cosines is within a few percent of the exact 1 / sqrt(D).
    np.testing.assert_allclose(rows[:, 2] * np.sqrt(dims), 1.0, atol=0.05)
    assert np.all(np.abs(rows[:, 1]) < 4 / np.sqrt(dims * ex.CONCENTRATION_PAIRS))
    assert np.all(rows[:, 6] == 0)


@pytest.mark.parametrize("dim", [2, 4, 64, 768])
def test_example_cosine_density_is_the_beta_law(dim: int) -> None:
    # (cos + 1) / 2 ~ Beta((D - 1) / 2, (D - 1) / 2) for uniform directions in R^D.
    t = np.linspace(-0.9, 0.9, 7)
    beta = stats.beta((dim - 1) / 2, (dim - 1) / 2)
    np.testing.assert_allclose(ex.cosine_density(t, dim), beta.pdf((t + 1) / 2) / 2, rtol=1e-10)
    total, _ = integrate.quad(lambda s: float(ex.cosine_density(np.array(s), dim)), -1, 1)
    assert total == pytest.approx(1.0, abs=1e-8)
