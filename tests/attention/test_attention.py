"""scaled_dot_product_attention and causal_mask against torch and invariants."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

from llmath import ShapeError, causal_mask, scaled_dot_product_attention, softmax
from tests.oracles import attention_inputs, t64


def test_hand_value_single_key_returns_its_value() -> None:
    out, w = scaled_dot_product_attention([[3.0, -1.0]], [[0.5, 0.5]], [[7.0, 8.0, 9.0]])
    np.testing.assert_array_equal(w, [[1.0]])
    np.testing.assert_array_equal(out, [[7.0, 8.0, 9.0]])


def test_hand_value_equal_scores_average_the_values() -> None:
    out, w = scaled_dot_product_attention([[0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]], [[2.0], [4.0]])
    np.testing.assert_array_equal(w, [[0.5, 0.5]])
    np.testing.assert_array_equal(out, [[3.0]])


def test_three_token_example_by_hand_formula() -> None:
    q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])
    k = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])
    # first score by hand: (1*0.9 + 0.5*0.2) / sqrt(2) = 1 / sqrt(2)
    _, w = scaled_dot_product_attention(q, k, k)
    s = np.array([1.0, 0.4 + 0.35, 0.2 + 0.4]) / np.sqrt(2)
    np.testing.assert_allclose(w[0], np.exp(s) / np.exp(s).sum(), rtol=1e-15)


@given(attention_inputs(keep=0.6))
def test_matches_torch(inputs: tuple) -> None:
    _, q, k, v, mask = inputs
    out, w = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(
        t64(q), t64(k), t64(v), attn_mask=None if mask is None else torch.from_numpy(mask)
    ).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    scores = t64(q) @ t64(k).transpose(-1, -2) / np.sqrt(q.shape[-1])  # sqrt(K)
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(mask), -torch.inf)
    np.testing.assert_allclose(w, torch.softmax(scores, -1).numpy(), rtol=1e-12, atol=1e-300)


def test_causal_matches_torch_is_causal(rng: np.random.Generator) -> None:
    q, k, v = (
        rng.normal(size=(2, 3, 5, 4)),
        rng.normal(size=(2, 3, 5, 4)),
        rng.normal(size=(2, 3, 5, 6)),
    )
    out, w = scaled_dot_product_attention(q, k, v, causal_mask(5))
    expected = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    assert np.all(np.triu(w[0, 0], k=1) == 0.0)


@given(st.integers(1, 6), st.integers(0, 5))
def test_causal_mask_structure(T: int, extra: int) -> None:
    m = causal_mask(T, T + extra)
    t, s = np.indices(m.shape)
    np.testing.assert_array_equal(m, s <= t + extra)
    assert m[:, -1].sum() == 1 and m[-1].all()


def test_causal_mask_square_equals_torch_tril() -> None:
    np.testing.assert_array_equal(causal_mask(4), torch.ones(4, 4, dtype=torch.bool).tril().numpy())


@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_rows_are_distributions_and_output_in_value_hull(seed: int, S: int) -> None:
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(S, 4)), rng.normal(size=(S, 2))
    out, w = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-14)
    assert np.all(out <= v.max(0) + 1e-12) and np.all(out >= v.min(0) - 1e-12)


@given(st.integers(0, 2**32 - 1))
def test_permuting_keys_and_values_together_changes_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    perm = rng.permutation(5)
    out, w = scaled_dot_product_attention(q, k, v)
    out_p, w_p = scaled_dot_product_attention(q, k[perm], v[perm])
    np.testing.assert_allclose(out_p, out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w_p, w[:, perm], rtol=1e-12)


def test_scale_is_one_over_sqrt_k(rng: np.random.Generator) -> None:
    q, k = rng.normal(size=(4, 16)), rng.normal(size=(6, 16))
    _, w = scaled_dot_product_attention(q, k, np.eye(6))
    np.testing.assert_allclose(w, softmax(q @ k.T / 4.0), rtol=1e-14)


@pytest.mark.parametrize(
    ("q", "k", "v", "mask", "error", "match"),
    [
        (
            np.ones(3),
            np.ones((2, 3)),
            np.ones((2, 1)),
            None,
            ShapeError,
            r"q must have shape \(\.\.\., T, dk\)",
        ),
        (np.ones((1, 3)), np.ones((2, 4)), np.ones((2, 1)), None, ShapeError, "must share dk"),
        (np.ones((1, 3)), np.ones((2, 3)), np.ones((5, 1)), None, ShapeError, "must share S"),
        (np.ones((1, 3)), np.full((2, 3), np.nan), np.ones((2, 1)), None, ValueError, "finite"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            np.ones((2, 1)),
            np.array([[True, False], [False, False]]),
            ValueError,
            "mask leaves a query with no key",
        ),
        (np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 1)), np.ones((2, 2)), ValueError, "boolean"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            np.ones((2, 1)),
            np.ones((3, 3), bool),
            ShapeError,
            "broadcast",
        ),
    ],
)
def test_bad_input(q: object, k: object, v: object, mask: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(q, k, v, mask)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0,), "T must be a positive integer"),
        ((3, 2), "S >= T"),
        ((2.5,), "positive integer"),
        ((True,), "positive integer"),
    ],
)
def test_causal_mask_bad_input(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        causal_mask(*args)  # type: ignore[arg-type]


# ---- the contract for shapes and masks --------------------------------------------------------


def test_leading_axes_that_do_not_broadcast_name_both_arguments() -> None:
    q, k = np.ones((2, 3, 4)), np.ones((5, 3, 4))
    with pytest.raises(
        ShapeError, match=r"leading axes \(\.\.\.\) of q \(2, 3, 4\) and k \(5, 3, 4\)"
    ):
        scaled_dot_product_attention(q, k, k)
    with pytest.raises(ShapeError, match=r"mask must broadcast to shape \(2, 3, 3\)"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((4, 3), bool))
    with pytest.raises(ValueError, match="mask leaves a query with no key"):
        scaled_dot_product_attention(q, q, q, mask=np.zeros((3, 3), bool))


def test_causal_mask_convention_against_both_torch_apis() -> None:
    # True = "may attend": the boolean attn_mask of F.scaled_dot_product_attention, and the
    # OPPOSITE of nn.MultiheadAttention's boolean attn_mask, where True = "masked".
    T, D = 4, 6
    x = torch.from_numpy(np.random.default_rng(3).normal(size=(1, T, D)))
    mask = causal_mask(T)
    sdpa = F.scaled_dot_product_attention(x, x, x, attn_mask=torch.from_numpy(mask))
    torch.testing.assert_close(sdpa, F.scaled_dot_product_attention(x, x, x, is_causal=True))
    mha = torch.nn.MultiheadAttention(D, 1, batch_first=True, bias=False)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(D).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(D))
        ours = scaled_dot_product_attention(x[0].numpy(), x[0].numpy(), x[0].numpy(), mask)
        theirs, _ = mha(x, x, x, attn_mask=torch.from_numpy(~mask))  # note the ~
    np.testing.assert_allclose(theirs[0].numpy(), ours.output, rtol=1e-12, atol=1e-14)
