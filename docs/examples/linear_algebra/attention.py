"""Worked examples for the attention chapter: inputs chosen here, every result computed by llmath."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import llmath

# The classic three-token example. Q and K are the inputs used in many tutorials; V is ours.
Q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])
K = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])
V = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])

WIDTHS = (4, 16, 64, 256, 1024)
SEED = 2017


def three_token() -> dict[str, NDArray[np.float64]]:
    """Every intermediate of softmax(Q K^T / sqrt(K)) V for the three-token example."""
    raw = Q @ K.T  # (T, S)
    scaled = raw / np.sqrt(Q.shape[-1])  # (T, S)
    weights = llmath.softmax(scaled)  # (T, S)
    out, w = llmath.scaled_dot_product_attention(Q, K, V)
    assert np.array_equal(w, weights)
    causal_out, causal_w = llmath.scaled_dot_product_attention(Q, K, V, llmath.causal_mask(3))
    return {
        "raw": raw,
        "scaled": scaled,
        "weights": weights,
        "output": out,
        "causal_weights": causal_w,
        "causal_output": causal_out,
    }


def zeroed_scores_mistake() -> NDArray[np.float64]:
    """Weights when future scores are set to 0 instead of -inf: the mask leaks."""
    scaled = three_token()["scaled"]
    return llmath.softmax(np.where(llmath.causal_mask(3), scaled, 0.0))


def score_variance(samples: int = 2_000) -> NDArray[np.float64]:
    """Rows (K, Var[q.k], Var[q.k / sqrt K], mean max weight raw, mean max weight scaled).

    q and k have i.i.d. standard normal entries; the max weight is over S = 16 keys.
    """
    rng = np.random.default_rng(SEED)
    rows = []
    for width in WIDTHS:
        q = rng.standard_normal((samples, 1, width))  # (B, T=1, K)
        k = rng.standard_normal((samples, 16, width))  # (B, S=16, K)
        dots = (q @ np.swapaxes(k, -1, -2))[:, 0, :]  # (B, S)
        _, w_scaled = llmath.scaled_dot_product_attention(q, k, k)  # (B, 1, S)
        w_raw = llmath.softmax(dots)  # (B, S)
        rows.append(
            [
                width,
                dots.var(),
                (dots / np.sqrt(width)).var(),
                w_raw.max(-1).mean(),
                w_scaled.max(-1).mean(),
            ]
        )
    return np.array(rows)


def multi_head_example() -> dict[str, NDArray[np.float64]]:
    """Two heads on four tokens of width 4, with seeded random weights."""
    rng = np.random.default_rng(SEED)
    D, H = 4, 2
    X = rng.standard_normal((4, D))  # (T, D)
    w_q, w_k, w_v, w_o = (rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4))
    out, weights = llmath.multi_head_attention(X, w_q, w_k, w_v, w_o, num_heads=H)
    return {
        "X": X,
        "w_q": w_q,
        "w_k": w_k,
        "w_v": w_v,
        "w_o": w_o,
        "output": out,
        "head0": weights[0],
        "head1": weights[1],
    }


def permutation_check() -> dict[str, float]:
    """max |MHA(PX) - P MHA(X)| without positions, and with a position-dependent vector added."""
    ex = multi_head_example()
    X, ws = ex["X"], (ex["w_q"], ex["w_k"], ex["w_v"], ex["w_o"])
    perm = np.array([2, 0, 3, 1])
    out, _ = llmath.multi_head_attention(X, *ws, num_heads=2)
    out_p, _ = llmath.multi_head_attention(X[perm], *ws, num_heads=2)
    positions = np.random.default_rng(SEED + 1).standard_normal(X.shape)  # one vector per position
    pos_out, _ = llmath.multi_head_attention(X + positions, *ws, num_heads=2)
    pos_out_p, _ = llmath.multi_head_attention(X[perm] + positions, *ws, num_heads=2)
    return {
        "without": float(np.abs(out_p - out[perm]).max()),
        "with": float(np.abs(pos_out_p - pos_out[perm]).max()),
        "invariant": float(np.abs(out_p - out).max()),
    }


def temperature_sweep() -> NDArray[np.float64]:
    """Row 1 of the three-token weights when Q is multiplied by c (c = 0, 1, 4, 16, 64)."""
    cs = [0.0, 1.0, 4.0, 16.0, 64.0]
    return np.array([llmath.scaled_dot_product_attention(c * Q, K, V).weights[0] for c in cs])


def tables() -> dict[str, NDArray[np.float64]]:
    t = three_token()
    mh = multi_head_example()
    return {
        "attention/Q": Q,
        "attention/K": K,
        "attention/V": V,
        "attention/raw-scores": t["raw"],
        "attention/scaled-scores": t["scaled"],
        "attention/weights": t["weights"],
        "attention/output": t["output"],
        "attention/mask": llmath.causal_mask(3).astype(np.float64),
        "attention/causal-weights": t["causal_weights"],
        "attention/causal-output": t["causal_output"],
        "attention/zeroed-mistake": zeroed_scores_mistake(),
        "attention/variance": score_variance()[:, 1:],
        "attention/mh-head0": mh["head0"],
        "attention/mh-head1": mh["head1"],
        "attention/mh-output": mh["output"],
        "attention/temperature": temperature_sweep(),
    }
