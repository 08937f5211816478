"""Shared torch float64 oracles and Hypothesis strategies for the tests."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
import torch


def t64(x: Any, *, grad: bool = False, copy: bool = False) -> torch.Tensor:
    """x as a float64 tensor: a view of a float64 array unless copy; a grad leaf if grad."""
    t = torch.tensor(x, dtype=torch.float64) if copy else torch.as_tensor(x, dtype=torch.float64)
    return t.requires_grad_(grad)


def torch_mha(
    wq: np.ndarray, wk: np.ndarray, wv: np.ndarray, wo: np.ndarray, *, num_heads: int
) -> torch.nn.MultiheadAttention:
    """torch.nn.MultiheadAttention (float64, no bias, batch first) holding our (D, D) weights."""
    D = wq.shape[0]
    mha = torch.nn.MultiheadAttention(
        D, num_heads, bias=False, batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():
        # torch stores (out, in) weights and computes x @ W^T; ours act as x @ W.
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([wq.T, wk.T, wv.T])))
        mha.out_proj.weight.copy_(torch.from_numpy(wo.T))
    return mha


@st.composite
def attention_inputs(
    draw: st.DrawFn, *, keep: float
) -> tuple[np.random.Generator, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(rng, q, k, v, mask): q (B, T, K), k (B, S, K), v (B, S, Dv), and mask None or a random
    (B, T, S) boolean mask keeping each key with probability keep, key 0 always kept."""
    B, T, S, K, Dv = (draw(st.integers(1, n)) for n in (3, 5, 5, 4, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q, k, v = rng.normal(size=(B, T, K)), rng.normal(size=(B, S, K)), rng.normal(size=(B, S, Dv))
    mask = None
    if draw(st.booleans()):
        mask = rng.random((B, T, S)) < keep
        mask[..., 0] = True  # every query keeps at least one key
    return rng, q, k, v, mask
