"""multi_head_attention against torch.nn.MultiheadAttention with copied weights."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given

from llmath import ShapeError, causal_mask, merge_heads, multi_head_attention, split_heads
from tests.oracles import torch_mha


@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([(4, 1), (4, 2), (6, 3), (8, 4)]),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_matches_torch_multihead_attention(
    B: int, T: int, S: int, DH: tuple[int, int], seed: int, causal: bool
) -> None:
    D, H = DH
    rng = np.random.default_rng(seed)
    if causal:
        S = T
    x, c = rng.normal(size=(B, T, D)), rng.normal(size=(B, S, D))
    wq, wk, wv, wo = (rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(4))
    mask = causal_mask(T) if causal else None
    out, w = multi_head_attention(
        x, wq, wk, wv, wo, num_heads=H, context=None if causal else c, mask=mask
    )
    mha = torch_mha(wq, wk, wv, wo, num_heads=H)
    kv = torch.from_numpy(x if causal else c)
    t_mask = None if mask is None else torch.from_numpy(~mask)  # torch: True = NOT allowed
    t_out, t_w = mha(
        torch.from_numpy(x), kv, kv, attn_mask=t_mask, need_weights=True, average_attn_weights=False
    )
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w, t_w.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_one_head_with_identity_weights_is_plain_attention(rng: np.random.Generator) -> None:
    from llmath import scaled_dot_product_attention

    x = rng.normal(size=(5, 4))
    eye = np.eye(4)
    out, w = multi_head_attention(x, eye, eye, eye, eye, num_heads=1)
    ref_out, ref_w = scaled_dot_product_attention(x, x, x)
    np.testing.assert_allclose(out, ref_out, rtol=1e-14)
    np.testing.assert_allclose(w[0], ref_w, rtol=1e-14)


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 4]))
def test_self_attention_is_permutation_equivariant(seed: int, H: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6, 4))
    ws = [rng.normal(size=(4, 4)) for _ in range(4)]
    perm = rng.permutation(6)
    out, w = multi_head_attention(x, *ws, num_heads=H)
    out_p, w_p = multi_head_attention(x[perm], *ws, num_heads=H)
    np.testing.assert_allclose(out_p, out[perm], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w_p, w[:, perm][:, :, perm], rtol=1e-10, atol=1e-14)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_split_then_merge_round_trips(T: int, K: int, H: int) -> None:
    x = np.arange(2 * T * H * K, dtype=float).reshape(2, T, H * K)
    heads = split_heads(x, H)
    assert heads.shape == (2, H, T, K)
    np.testing.assert_array_equal(heads[:, 1 % H], x[:, :, (1 % H) * K : (1 % H + 1) * K])
    np.testing.assert_array_equal(merge_heads(heads), x)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_heads": 3}, ShapeError, "must divide the width D=4"),
        ({"num_heads": 0}, ValueError, "num_heads must be a positive integer"),
        ({"num_heads": 2, "context": np.ones((3, 5))}, ShapeError, "context"),
        ({"num_heads": 2, "mask": np.ones((2, 2), bool)}, ShapeError, "broadcast"),
    ],
)
def test_bad_input(kwargs: dict[str, object], error: type, match: str) -> None:
    x = np.ones((3, 4))
    w = np.eye(4)
    with pytest.raises(error, match=match):
        multi_head_attention(x, w, w, w, w, **kwargs)  # type: ignore[arg-type]


def test_bad_weight_shape() -> None:
    with pytest.raises(ShapeError, match=r"w_o must have shape \(D, D\) = \(4, 4\); got \(4, 3\)"):
        multi_head_attention(
            np.ones((3, 4)), np.eye(4), np.eye(4), np.eye(4), np.ones((4, 3)), num_heads=2
        )
