"""Tests for llmath.linalg.lowrank: truncated SVD and LoRA.

Witnesses: hand-computed 2x2 values, torch.linalg.svd in float64 (the oracle for W_r and for the
Eckart-Young errors), torch.nn.Linear in the paper's column convention for LoRA, closed forms for
the parameter counts, and Hypothesis invariants.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from examples.linear_algebra import low_rank as example
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath import ShapeError
from llmath.linalg.lowrank import lora_merge, lora_param_count, low_rank_approx

RTOL = 1e-12


def torch_low_rank(w: np.ndarray, r: int) -> np.ndarray:
    """The oracle: W_r = U_r diag(s_r) V_r^T from torch.linalg.svd in float64."""
    U, s, Vh = torch.linalg.svd(torch.from_numpy(w), full_matrices=False)
    return ((U[:, :r] * s[:r]) @ Vh[:r]).numpy()


def torch_svdvals(w: np.ndarray) -> np.ndarray:
    return torch.linalg.svdvals(torch.from_numpy(np.asarray(w, dtype=np.float64))).numpy()


@st.composite
def matrix_and_rank(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 6))
    w = draw(arrays(np.float64, (n, m), elements=st.floats(-10, 10, allow_subnormal=False)))
    r = draw(st.integers(1, min(n, m)))
    return w, r


# --- low_rank_approx -------------------------------------------------------------------------


def test_low_rank_hand_values() -> None:
    # diag(3, 1): the best rank-1 keeps the 3.
    assert np.array_equal(low_rank_approx([[3.0, 0.0], [0.0, 1.0]], 1), [[3.0, 0.0], [0.0, 0.0]])
    # [[3, 0], [4, 5]]: W^T W = [[25, 20], [20, 25]], sigma_1^2 = 45 with v_1 = (1, 1)/sqrt 2,
    # u_1 = W v_1 / sigma_1 = (3, 9)/sqrt 90, so W_1 = sigma_1 u_1 v_1^T = 1.5 [[1, 1], [3, 3]].
    np.testing.assert_allclose(
        low_rank_approx([[3.0, 0.0], [4.0, 5.0]], 1), [[1.5, 1.5], [4.5, 4.5]], rtol=RTOL
    )


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (6, 6), (1, 4), (9, 1)])
def test_low_rank_matches_torch_svd(shape: tuple[int, int], rng: np.random.Generator) -> None:
    w = rng.standard_normal(shape)
    for r in range(1, min(shape) + 1):
        np.testing.assert_allclose(
            low_rank_approx(w, r), torch_low_rank(w, r), rtol=RTOL, atol=RTOL
        )


def test_eckart_young_closed_form_errors(rng: np.random.Generator) -> None:
    w = rng.standard_normal((9, 6))
    s = torch_svdvals(w)
    for r in range(1, 7):
        err = w - low_rank_approx(w, r)
        np.testing.assert_allclose(
            np.linalg.norm(err, "fro"), np.sqrt(np.sum(s[r:] ** 2)), rtol=1e-10, atol=1e-12
        )
        expected_2 = s[r] if r < 6 else 0.0
        np.testing.assert_allclose(np.linalg.norm(err, 2), expected_2, rtol=1e-10, atol=1e-12)
        assert np.linalg.matrix_rank(low_rank_approx(w, r)) == r


def test_random_rank_r_matrices_never_beat_truncation(rng: np.random.Generator) -> None:
    w = rng.standard_normal((8, 6))
    for r in range(1, 6):
        best = np.linalg.norm(w - low_rank_approx(w, r), "fro")
        for _ in range(50):
            x = rng.standard_normal((8, r)) @ rng.standard_normal((r, 6))
            assert np.linalg.norm(w - x, "fro") >= best


@given(matrix_and_rank())
def test_low_rank_invariants(case: tuple[np.ndarray, int]) -> None:
    w, r = case
    scale = 1.0 + np.abs(w).max()
    wr = low_rank_approx(w, r)
    assert wr.shape == w.shape
    # numerical rank, with a tolerance on the scale of W (rounding noise is ~1e-16 * |W|)
    assert np.linalg.matrix_rank(wr, tol=1e-9 * scale) <= r
    # idempotence: W_r is its own best rank-r approximation
    np.testing.assert_allclose(low_rank_approx(wr, r), wr, atol=1e-9 * scale)
    # full rank reconstructs W
    np.testing.assert_allclose(low_rank_approx(w, min(w.shape)), w, atol=1e-9 * scale)
    # the error never grows with r
    errors = [np.linalg.norm(w - low_rank_approx(w, k), "fro") for k in range(1, min(w.shape) + 1)]
    assert all(b <= a + 1e-9 * scale for a, b in itertools.pairwise(errors))


def test_low_rank_does_not_mutate(rng: np.random.Generator) -> None:
    w = rng.standard_normal((4, 3))
    before = w.copy()
    low_rank_approx(w, 2)
    assert np.array_equal(w, before)


@pytest.mark.parametrize(
    ("w", "r", "exc", "match"),
    [
        (np.ones(3), 1, ShapeError, "w must have shape"),
        (np.ones((2, 2, 2)), 1, ShapeError, "w must have shape"),
        ([[1.0, np.nan], [0.0, 1.0]], 1, ValueError, "finite"),
        ([[1.0, np.inf], [0.0, 1.0]], 1, ValueError, "finite"),
        (np.eye(3), 0, ValueError, "r must be a positive integer"),
        (np.eye(3), -1, ValueError, "r must be a positive integer"),
        (np.eye(3), 1.0, ValueError, "r must be a positive integer"),
        (np.eye(3), True, ValueError, "r must be a positive integer"),
        (np.ones((3, 2)), 3, ValueError, r"r must be at most min\(N, M\) = 2"),
    ],
)
def test_low_rank_bad_input(w: object, r: object, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        low_rank_approx(w, r)  # type: ignore[arg-type]


# --- lora_param_count ------------------------------------------------------------------------


def test_lora_param_count_values() -> None:
    assert lora_param_count(4096, 4096, 8) == 2 * 4096 * 8
    assert lora_param_count(4096, 11008, 8) == 8 * 4096 + 8 * 11008
    assert lora_param_count(1, 1, 1) == 2
    assert isinstance(lora_param_count(np.int64(3), 4, 2), int)


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(1, 512))
def test_lora_param_count_is_numel_of_a_and_b(d_in: int, d_out: int, r: int) -> None:
    # Independent count: the number of entries of A (d_in, r) and B (r, d_out).
    numel = int(np.prod((d_in, r))) + int(np.prod((r, d_out)))
    assert lora_param_count(d_in, d_out, r) == numel
    # LoRA is smaller than the full update exactly when r (d_in + d_out) < d_in d_out.
    assert (lora_param_count(d_in, d_out, r) < d_in * d_out) == (r * (d_in + d_out) < d_in * d_out)


def test_lora_param_count_matches_torch_modules() -> None:
    a = torch.nn.Linear(48, 4, bias=False)  # the paper's A: (r, d_in) weight
    b = torch.nn.Linear(4, 32, bias=False)  # the paper's B: (d_out, r) weight
    assert lora_param_count(48, 32, 4) == sum(p.numel() for p in (*a.parameters(), *b.parameters()))


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0, 4, 2), "d_in"),
        ((4, -1, 2), "d_out"),
        ((4, 4, 0), "r"),
        ((True, 4, 2), "d_in"),
        ((4, 4, 2.0), "r"),
        ((4.0, 4, 2), "d_in"),
        ((4, "8", 2), "d_out"),
    ],
)
def test_lora_param_count_bad_input(args: tuple[object, object, object], name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        lora_param_count(*args)  # type: ignore[arg-type]


# --- lora_merge ------------------------------------------------------------------------------


def test_lora_merge_hand_value() -> None:
    # alpha / r = 3 / 1; A B = [[0, 2], [0, 0]]
    out = lora_merge(np.eye(2), [[1.0], [0.0]], [[0.0, 2.0]], alpha=3.0)
    assert np.array_equal(out, [[1.0, 6.0], [0.0, 1.0]])


def test_lora_merge_matches_torch_formula(rng: np.random.Generator) -> None:
    w, a, b = rng.standard_normal((7, 5)), rng.standard_normal((7, 3)), rng.standard_normal((3, 5))
    tw, ta, tb = (torch.from_numpy(v) for v in (w, a, b))
    expected = (tw + (16.0 / 3) * (ta @ tb)).numpy()
    np.testing.assert_allclose(lora_merge(w, a, b, alpha=16.0), expected, rtol=RTOL, atol=RTOL)


def test_lora_merge_matches_paper_column_form(rng: np.random.Generator) -> None:
    # The paper: h = W0 x + (alpha / r) B A x, W0 (d_out, d_in), A (r, d_in), B (d_out, r).
    # torch.nn.Linear stores exactly these column-form weights. The book's A, B are transposes.
    n, m, r, alpha = 6, 4, 2, 8.0
    w, a, b = rng.standard_normal((n, m)), rng.standard_normal((n, r)), rng.standard_normal((r, m))
    x = rng.standard_normal((3, n))
    base, down, up = (torch.nn.Linear(i, o, bias=False) for i, o in ((n, m), (n, r), (r, m)))
    with torch.no_grad():
        base.weight.copy_(torch.from_numpy(w.T))  # W0 = W^T
        down.weight.copy_(torch.from_numpy(a.T))  # paper A = book A^T
        up.weight.copy_(torch.from_numpy(b.T))  # paper B = book B^T
        tx = torch.from_numpy(x)
        h = (base(tx) + (alpha / r) * up(down(tx))).numpy()
    np.testing.assert_allclose(x @ lora_merge(w, a, b, alpha=alpha), h, rtol=1e-12, atol=1e-12)


def test_lora_merge_zero_b_is_identity(rng: np.random.Generator) -> None:
    w, a = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    assert np.array_equal(lora_merge(w, a, np.zeros((2, 4)), alpha=32.0), w)


@given(
    arrays(np.float64, (5, 4), elements=st.floats(-10, 10, allow_subnormal=False)),
    arrays(np.float64, (5, 2), elements=st.floats(-10, 10, allow_subnormal=False)),
    arrays(np.float64, (2, 4), elements=st.floats(-10, 10, allow_subnormal=False)),
    st.floats(-64, 64, allow_subnormal=False),
)
def test_lora_merge_update_has_rank_at_most_r(
    w: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float
) -> None:
    merged = lora_merge(w, a, b, alpha=alpha)
    delta = (alpha / 2) * (a @ b)
    np.testing.assert_allclose(merged - w, delta, atol=1e-9 * (1 + np.abs(w).max()))
    assert np.linalg.matrix_rank(delta, tol=1e-9) <= 2
    assert np.linalg.matrix_rank(merged - w, tol=1e-9 * (1 + np.abs(w).max())) <= 2
    # folding in the negated adapter undoes it
    np.testing.assert_allclose(
        lora_merge(merged, a, b, alpha=-alpha), w, atol=1e-9 * (1 + np.abs(merged).max())
    )


@pytest.mark.parametrize(
    ("w", "a", "b", "alpha", "exc", "match"),
    [
        (np.ones((3, 2)), np.ones((4, 1)), np.ones((1, 2)), 1.0, ShapeError, "need w"),
        (np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 5)), 1.0, ShapeError, "need w"),
        (np.ones((3, 2)), np.ones((3, 2)), np.ones((1, 2)), 1.0, ShapeError, "need w"),
        (np.ones((3, 2)), np.ones((3, 0)), np.ones((0, 2)), 1.0, ShapeError, "a must not be empty"),
        (np.ones(3), np.ones((3, 1)), np.ones((1, 2)), 1.0, ShapeError, "w must have shape"),
        (np.ones((3, 2)), np.ones(3), np.ones((1, 2)), 1.0, ShapeError, "a must have shape"),
        (np.ones((3, 2)), np.ones((3, 1)), [[np.nan, 1.0]], 1.0, ValueError, "b must be finite"),
        (np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 2)), np.nan, ValueError, "alpha"),
        (np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 2)), np.inf, ValueError, "alpha"),
        (np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 2)), "2", ValueError, "alpha"),
        (np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 2)), True, ValueError, "alpha"),
    ],
)
def test_lora_merge_bad_input(
    w: object, a: object, b: object, alpha: object, exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        lora_merge(w, a, b, alpha=alpha)  # type: ignore[arg-type]


# --- the chapter's worked examples ----------------------------------------------------------


def test_example_tables_against_torch() -> None:
    t = example.tables()
    w2 = t["low-rank/W2"]
    s2 = torch_svdvals(w2)
    np.testing.assert_allclose(t["low-rank/s2"], [np.sqrt(45.0), np.sqrt(5.0)], rtol=RTOL)
    np.testing.assert_allclose(t["low-rank/s2"], s2, rtol=RTOL)
    U, V = t["low-rank/U2"], t["low-rank/V2"]
    np.testing.assert_allclose((U * s2) @ V.T, w2, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-12)
    eig = torch.linalg.eigvalsh(torch.from_numpy(w2.T @ w2)).numpy()[::-1]
    np.testing.assert_allclose(t["low-rank/eig2"], [[45.0, 5.0]] * 3, rtol=1e-12)
    np.testing.assert_allclose(t["low-rank/eig2"][1], eig, rtol=1e-12)
    np.testing.assert_allclose(t["low-rank/W2-1"], [[1.5, 1.5], [4.5, 4.5]], rtol=1e-12)

    w = t["low-rank/random-W"]
    s = torch_svdvals(w)
    ey = t["low-rank/eckart-young"]  # rows r = 1..6; columns as on the page
    assert ey.shape == (6, 4)
    for k, (fro, tail, spec, nxt) in enumerate(ey, start=1):
        true_err = w - torch_low_rank(w, k)
        np.testing.assert_allclose(fro, np.linalg.norm(true_err, "fro"), atol=1e-12)
        np.testing.assert_allclose(tail, np.sqrt(np.sum(s[k:] ** 2)), atol=1e-12)
        np.testing.assert_allclose([spec, nxt], [s[k] if k < len(s) else 0.0] * 2, atol=1e-12)
    comp = t["low-rank/competitors"]  # rows r = 1..5
    np.testing.assert_allclose(comp[:, 0], ey[:-1, 0], rtol=1e-12)
    assert np.all(comp[:, 1] >= comp[:, 0]) and np.all(comp[:, 2] >= comp[:, 0])

    sp = example.spectra()
    ranks = np.array(example.SPECTRUM_RANKS)
    for name, col in (("gauss", 0), ("decay", 1)):
        sv = sp[f"{name}_s"]
        rel = np.sqrt(np.cumsum((sv**2)[::-1])[::-1] / np.sum(sv**2))  # rel[k] = error at rank k
        np.testing.assert_allclose(t["low-rank/spectrum"][:, col], rel[ranks], rtol=1e-10)

    rs = np.array(example.RANKS_LORA, dtype=float)
    d = 4096.0
    np.testing.assert_array_equal(
        t["low-rank/lora-square"],
        np.stack([2 * d * rs, 0 * rs + d * d, d / (2 * rs), d / (2 * rs)], 1),
    )
    d_in, d_out = 4096.0, 11008.0
    full = d_in * d_out
    np.testing.assert_array_equal(
        t["low-rank/lora-nonsquare-counts"], np.stack([rs * (d_in + d_out), 0 * rs + full], 1)
    )
    np.testing.assert_allclose(
        t["low-rank/lora-nonsquare-ratios"],
        np.stack([full / (rs * (d_in + d_out)), d_in / (2 * rs), d_out / (2 * rs)], 1),
        rtol=1e-15,
    )
    harmonic = 2 / (1 / d_in + 1 / d_out)
    np.testing.assert_allclose(example.harmonic_width(), harmonic, rtol=1e-15)
    np.testing.assert_allclose(
        t["low-rank/lora-nonsquare-ratios"][:, 0], harmonic / (2 * rs), rtol=1e-14
    )

    demo = example.lora_demo()
    tw, ta, tb, tx = (torch.from_numpy(demo[k]) for k in ("W", "A", "B", "x"))
    delta = (demo["alpha"] / demo["r"]) * (ta @ tb)
    np.testing.assert_allclose(
        t["low-rank/lora-delta-s"],
        torch.linalg.svdvals(delta).numpy()[: demo["r"] + 2],
        rtol=1e-10,
        atol=1e-10,
    )
    assert demo["rank_delta"] == demo["r"] and demo["init_diff"] == 0.0
    assert demo["forward_diff"] < 1e-10
    expected = (tx @ tw + (demo["alpha"] / demo["r"]) * ((tx @ ta) @ tb)).numpy()
    np.testing.assert_allclose(demo["x"] @ demo["merged"], expected, rtol=1e-12, atol=1e-12)
    # Gaussian A (N, r) and B (r, M) have full rank r, so rank(W' - W) = r
    np.testing.assert_array_equal(t["low-rank/lora-ranks"][:, 0], example.MERGE_RANKS)

    we = t["low-rank/entries-W"]
    np.testing.assert_allclose(t["low-rank/entries-W1"], torch_low_rank(we, 1), rtol=1e-12)
    assert np.all(t["low-rank/entries-W1"] != 0.0) and np.any(we == 0.0)
    sigma2 = torch_svdvals(we)[1]
    np.testing.assert_allclose(
        t["low-rank/entries-errors"], [[sigma2, sigma2, np.sqrt(5.0)]], rtol=1e-12
    )


def test_example_rank_for_error_matches_closed_form() -> None:
    sp = example.spectra()
    found = example.rank_for_error(0.1)
    for name in ("gauss", "decay"):
        sv = sp[f"{name}_s"]
        rel = np.sqrt(np.cumsum((sv**2)[::-1])[::-1] / np.sum(sv**2))  # rel[k] = error at rank k
        first = next(k for k in range(1, len(sv) + 1) if (rel[k] if k < len(sv) else 0.0) <= 0.1)
        assert found[name] == first
