"""Backward passes of linear maps and attention against torch.autograd and finite differences."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from llmath import ShapeError, causal_mask, multi_head_attention, scaled_dot_product_attention
from llmath.calculus.attention_grad import (
    linear_backward,
    multi_head_attention_backward,
    multi_head_attention_forward,
    scaled_dot_product_attention_backward,
)
from llmath.calculus.numerical import numerical_grad
from tests.oracles import attention_inputs, t64, torch_mha

# --- linear_backward -----------------------------------------------------------------------


def test_linear_hand_value() -> None:
    # y = x W + b with x = [1, 2], W = [[1, 0, 1], [0, 1, 1]]; dL/dy = [1, -1, 2].
    dx, dw, db = linear_backward([[1.0, -1.0, 2.0]], [[1.0, 2.0]], [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(dx, [[1 + 2, -1 + 2]])  # dout W^T
    np.testing.assert_array_equal(dw, [[1, -1, 2], [2, -2, 4]])  # x^T dout
    np.testing.assert_array_equal(db, [1, -1, 2])


@settings(max_examples=25)
@given(
    st.lists(st.integers(1, 3), max_size=2),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_linear_matches_torch(lead: list[int], N: int, M: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(*lead, N)), rng.normal(size=(N, M)), rng.normal(size=M)
    dout = rng.normal(size=(*lead, M))
    tx, tw, tb = t64(x, grad=True), t64(w, grad=True), t64(b, grad=True)
    (tx @ tw + tb).backward(torch.from_numpy(dout))
    for ours, theirs in zip(linear_backward(dout, x, w), (tx, tw, tb), strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_finite_differences(rng: np.random.Generator) -> None:
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    r = rng.normal(size=(2, 3, 5))  # loss = sum(r * y), so dL/dy = r
    dx, dw, db = linear_backward(r, x, w)
    np.testing.assert_allclose(dx, numerical_grad(lambda z: np.sum(r * (z @ w + b)), x), rtol=1e-7)
    np.testing.assert_allclose(dw, numerical_grad(lambda z: np.sum(r * (x @ z + b)), w), rtol=1e-7)
    np.testing.assert_allclose(db, numerical_grad(lambda z: np.sum(r * (x @ w + z)), b), rtol=1e-7)


def test_linear_bad_input() -> None:
    x, w = np.ones((3, 4)), np.ones((4, 5))
    with pytest.raises(
        ShapeError, match=r"x must have shape \(\.\.\., N\) = \(3, 4\); got \(3, 2\)"
    ):
        linear_backward(np.ones((3, 5)), np.ones((3, 2)), w)
    with pytest.raises(ShapeError, match=r"dout must have shape \(\.\.\., M\)"):
        linear_backward(np.ones((2, 5)), x, w)
    with pytest.raises(ShapeError, match=r"w must have shape \(N, M\) \(2 axes\)"):
        linear_backward(np.ones((3, 5)), x, np.ones(4))
    with pytest.raises(ValueError, match="x must be finite"):
        linear_backward(np.ones((3, 5)), np.full((3, 4), np.inf), w)


# --- scaled_dot_product_attention_backward -------------------------------------------------


def test_sdpa_single_key_hand_value() -> None:
    # One key: A = [[1]] whatever the score, so out = v, and q, k get no gradient.
    dq, dk, dv = scaled_dot_product_attention_backward(
        [[2.0, 3.0]], [[1.0, 4.0]], [[5.0, 6.0]], [[7.0, 8.0]], [[1.0]]
    )
    np.testing.assert_array_equal(dv, [[2.0, 3.0]])
    np.testing.assert_array_equal(dq, [[0.0, 0.0]])
    np.testing.assert_array_equal(dk, [[0.0, 0.0]])


@settings(max_examples=25)
@given(attention_inputs(keep=0.5))
def test_sdpa_matches_torch(inputs: tuple) -> None:
    rng, q, k, v, mask = inputs
    dout = rng.normal(size=(*q.shape[:-1], v.shape[-1]))  # (B, T, Dv)
    _, w = scaled_dot_product_attention(q, k, v, mask)
    tq, tk, tv = t64(q, grad=True), t64(k, grad=True), t64(v, grad=True)
    out = F.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if mask is None else torch.from_numpy(mask)
    )
    out.backward(torch.from_numpy(dout))
    ours = scaled_dot_product_attention_backward(dout, q, k, v, w)
    for g, t in zip(ours, (tq, tk, tv), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sdpa_finite_differences_with_causal_mask(rng: np.random.Generator) -> None:
    q, k, v = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 3))
    r, mask = rng.normal(size=(3, 4, 3)), causal_mask(4)

    def loss(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> float:
        return float(np.sum(r * scaled_dot_product_attention(q, k, v, mask).output))

    w = _w(q, k, v)  # (3, 4, 4), zero above the diagonal
    dq, dk, dv = scaled_dot_product_attention_backward(r, q, k, v, w)
    np.testing.assert_allclose(dq, numerical_grad(lambda z: loss(z, k, v), q), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dk, numerical_grad(lambda z: loss(q, z, v), k), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dv, numerical_grad(lambda z: loss(q, k, z), v), rtol=1e-6, atol=1e-9)
    # the last key is seen only by the last query: its gradients come from that query alone
    _, dk_last, dv_last = scaled_dot_product_attention_backward(
        r[:, -1:], q[:, -1:], k, v, w[:, -1:]
    )
    np.testing.assert_allclose(dk[:, -1], dk_last[:, -1], rtol=1e-12)
    np.testing.assert_allclose(dv[:, -1], dv_last[:, -1], rtol=1e-12)


def _w(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    return scaled_dot_product_attention(q, k, v, causal_mask(q.shape[-2])).weights


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_key_gradients_sum_to_zero(T: int, S: int, K: int, seed: int) -> None:
    # Adding one vector c to every key adds q_t . c to a whole row of scores: softmax ignores it,
    # so the loss is flat along that direction and the key gradients sum to zero over s.
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(T, K)), rng.normal(size=(S, K)), rng.normal(size=(S, 2))
    _, w = scaled_dot_product_attention(q, k, v)
    _, dk, _ = scaled_dot_product_attention_backward(rng.normal(size=(T, 2)), q, k, v, w)
    np.testing.assert_allclose(dk.sum(axis=0), 0.0, atol=1e-12)


def test_sdpa_bad_input() -> None:
    q, k, v, w = np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 5)), np.full((2, 4), 0.25)
    with pytest.raises(ShapeError, match=r"weights must have shape \(\.\.\., T, S\)"):
        scaled_dot_product_attention_backward(np.ones((2, 5)), q, k, v, w.T)
    with pytest.raises(ShapeError, match=r"dout must have shape \(\.\.\., T, Dv\)"):
        scaled_dot_product_attention_backward(np.ones((2, 3)), q, k, v, w)
    with pytest.raises(ShapeError, match="k must have shape"):
        scaled_dot_product_attention_backward(np.ones((2, 5)), q, k[:, :2], v, w)
    with pytest.raises(ValueError, match="weights must be the forward's attention weights"):
        scaled_dot_product_attention_backward(np.ones((2, 5)), q, k, v, 2 * w)  # rows sum to 2


# --- multi-head attention ------------------------------------------------------------------


def _torch_mha_grads(
    x: np.ndarray, ws: list[np.ndarray], H: int, dout: np.ndarray, causal: bool
) -> list[np.ndarray]:
    """Gradients from torch.nn.MultiheadAttention (torch stores W^T; in_proj = [Wq; Wk; Wv]^T)."""
    D = x.shape[-1]
    mha = torch_mha(*ws, num_heads=H)
    tx = t64(x, grad=True)
    mask = torch.from_numpy(~causal_mask(x.shape[-2])) if causal else None  # True = blocked
    out, _ = mha(tx, tx, tx, attn_mask=mask, need_weights=False)
    out.backward(torch.from_numpy(dout))
    w_in = mha.in_proj_weight.grad.numpy()
    return [
        tx.grad.numpy(),
        *(w_in[i * D : (i + 1) * D].T for i in range(3)),
        mha.out_proj.weight.grad.numpy().T,
    ]


@settings(max_examples=25)
@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.sampled_from([(4, 1), (4, 2), (6, 3), (8, 2)]),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_mha_matches_torch(B: int, T: int, DH: tuple[int, int], seed: int, causal: bool) -> None:
    D, H = DH
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))
    ws = [rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(4)]
    mask = causal_mask(T) if causal else None
    out, cache = multi_head_attention_forward(x, *ws, num_heads=H, mask=mask)
    np.testing.assert_array_equal(out, multi_head_attention(x, *ws, num_heads=H, mask=mask).output)
    ours = multi_head_attention_backward(dout, cache)
    for g, t in zip(ours, _torch_mha_grads(x, ws, H, dout, causal), strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


def test_mha_finite_differences(rng: np.random.Generator) -> None:
    D, H = 4, 2
    x, r = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    ws = [rng.normal(size=(D, D)) for _ in range(4)]
    mask = causal_mask(5)
    _, cache = multi_head_attention_forward(x, *ws, num_heads=H, mask=mask)
    grads = multi_head_attention_backward(r, cache)
    args = [x, *ws]
    for i, g in enumerate(grads):

        def loss(z: np.ndarray, i: int = i) -> float:
            a = [*args[:i], z, *args[i + 1 :]]
            return float(np.sum(r * multi_head_attention_forward(*a, num_heads=H, mask=mask)[0]))

        np.testing.assert_allclose(g, numerical_grad(loss, args[i]), rtol=1e-6, atol=1e-8)


def test_mha_unbatched_equals_batch_of_one(rng: np.random.Generator) -> None:
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    ws = [rng.normal(size=(4, 4)) for _ in range(4)]
    g1 = multi_head_attention_backward(dout, multi_head_attention_forward(x, *ws, num_heads=2)[1])
    g2 = multi_head_attention_backward(
        dout[None], multi_head_attention_forward(x[None], *ws, num_heads=2)[1]
    )
    np.testing.assert_allclose(g1[0], g2[0][0], rtol=1e-14)
    for a, b in zip(g1[1:], g2[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_mha_bad_input() -> None:
    x, w = np.ones((3, 4)), np.eye(4)
    with pytest.raises(ShapeError, match=r"w_k must have shape \(D, D\) = \(4, 4\); got \(4, 3\)"):
        multi_head_attention_forward(x, w, np.ones((4, 3)), w, w, num_heads=2)
    with pytest.raises(ValueError, match="must divide the width D=4"):
        multi_head_attention_forward(x, w, w, w, w, num_heads=3)
    _, cache = multi_head_attention_forward(x, w, w, w, w, num_heads=2)
    with pytest.raises(ShapeError, match=r"dout must have shape \(\.\.\., T, D\) = \(3, 4\)"):
        multi_head_attention_backward(np.ones((4, 3)), cache)
    with pytest.raises(ValueError, match="dout must be finite"):
        multi_head_attention_backward(np.full((3, 4), np.nan), cache)
