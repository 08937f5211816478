"""Worked examples for the attention chapter: inputs chosen here, every result computed by llmath.

Every function that a page compares with a witness (PyTorch, a closed form, a second llmath
route) returns both sides, and the page passes them to `examples.show.check`, which asserts.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

import llmath

# The classic three-token example. Q and K are the inputs used in many tutorials; V is ours.
Q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])
K = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])
V = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])

WIDTHS = (1, 4, 16, 64, 256, 1024)  # head widths d_k of the variance experiment
N_KEYS = 16  # keys per query in the variance experiment
SEED = 2017
TEMPERATURE_CS = (0.0, 1.0, 4.0, 16.0, 64.0)
PERM = np.array([2, 0, 3, 1])  # the permutation P of the four-token example


@cache
def three_token() -> dict[str, NDArray[np.float64]]:
    """Every intermediate of softmax(Q K^T / sqrt(d_k)) V for the three-token example."""
    raw = Q @ K.T  # (T, S)
    scaled = raw / np.sqrt(Q.shape[-1])  # (T, S)
    weights = llmath.softmax(scaled)  # (T, S)
    out, w = llmath.scaled_dot_product_attention(Q, K, V)  # (T, dv), (T, S)
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


def torch_three_token(mask: bool = False) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(llmath output, PyTorch float64 output) for the three-token example."""
    import torch

    q, k, v = (torch.tensor(a, dtype=torch.float64) for a in (Q, K, V))
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=mask)
    out, _ = llmath.scaled_dot_product_attention(Q, K, V, llmath.causal_mask(3) if mask else None)
    return out, ref.numpy()


def zeroed_scores_mistake() -> NDArray[np.float64]:
    """Weights when future scores are set to 0 instead of -inf: the mask leaks."""
    scaled = three_token()["scaled"]
    return llmath.softmax(np.where(llmath.causal_mask(3), scaled, 0.0))


@cache
def score_variance(samples: int = 2_000) -> NDArray[np.float64]:
    """Rows (d_k, Var[q.k], Var[q.k / sqrt d_k], mean max weight raw, mean max weight scaled).

    q and k have i.i.d. standard normal entries; the max weight is over N_KEYS keys.
    """
    rng = np.random.default_rng(SEED)
    rows = []
    for width in WIDTHS:
        q = rng.standard_normal((samples, 1, width))  # (B, T=1, dk)
        k = rng.standard_normal((samples, N_KEYS, width))  # (B, S, dk)
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


@cache
def largest_weight(samples: int = 200_000) -> NDArray[np.float64]:
    """Rows (mean largest scaled weight, standard error) for each d_k of WIDTHS, then d_k -> inf.

    Given q, the scaled scores q.k_s / sqrt(d_k) are independent N(0, c^2) with
    c^2 = ||q||^2 / d_k ~ chi^2_{d_k} / d_k, so one draw of c and N_KEYS standard normals z
    replaces a d_k-wide dot product. As d_k grows, c -> 1 and the scores tend to z itself.
    """
    rng = np.random.default_rng(SEED + 1)
    z = rng.standard_normal((samples, N_KEYS))  # (n, S): shared by every width
    rows = []
    for width in (*WIDTHS, np.inf):
        c = 1.0 if np.isinf(width) else np.sqrt(rng.chisquare(width, (samples, 1)) / width)
        top = llmath.softmax(c * z).max(-1)  # (n,)
        rows.append([top.mean(), top.std() / np.sqrt(samples)])
    return np.array(rows)


def temperature_sweep() -> NDArray[np.float64]:
    """Row 1 of the three-token weights when Q is multiplied by c (c in TEMPERATURE_CS)."""
    return np.array(
        [llmath.scaled_dot_product_attention(c * Q, K, V).weights[0] for c in TEMPERATURE_CS]
    )


@cache
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
        "output": out,  # (T, D)
        "head0": weights[0],  # (T, S), head 0 in code
        "head1": weights[1],  # (T, S)
    }


def mha_by_slices() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(multi_head_attention, the same by hand): head h is the slice h*dk:(h+1)*dk, 0-based."""
    mh = multi_head_example()
    X, H = mh["X"], 2
    dk = X.shape[1] // H
    q, k, v = X @ mh["w_q"], X @ mh["w_k"], X @ mh["w_v"]  # (T, D) each
    heads = []
    for h in range(H):  # h = 0, ..., H - 1
        cols = slice(h * dk, (h + 1) * dk)
        heads.append(llmath.scaled_dot_product_attention(q[:, cols], k[:, cols], v[:, cols])[0])
    return mh["output"], np.concatenate(heads, axis=1) @ mh["w_o"]  # (T, D) each


def torch_mha() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(llmath, torch.nn.MultiheadAttention in float64 holding the same weights) outputs."""
    import torch

    mh = multi_head_example()
    D = mh["X"].shape[1]
    mha = torch.nn.MultiheadAttention(D, 2, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # torch stores (out, in) weights and computes x @ W^T
        w_in = np.concatenate([mh["w_q"].T, mh["w_k"].T, mh["w_v"].T])  # (3D, D)
        mha.in_proj_weight.copy_(torch.from_numpy(w_in))
        mha.out_proj.weight.copy_(torch.from_numpy(mh["w_o"].T))
        x = torch.from_numpy(mh["X"])[None]  # (1, T, D)
        ref, _ = mha(x, x, x, need_weights=False)
    return mh["output"], ref[0].numpy()


def permutation_check() -> dict[str, float]:
    """max |f(PX) - P f(X)| for MHA unmasked, causal, and with a vector per position added."""
    mh = multi_head_example()
    X, ws = mh["X"], (mh["w_q"], mh["w_k"], mh["w_v"], mh["w_o"])
    mask = llmath.causal_mask(len(X))

    def f(x: NDArray[np.float64], m: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        return llmath.multi_head_attention(x, *ws, num_heads=2, mask=m).output  # (T, D)

    positions = np.random.default_rng(SEED + 1).standard_normal(X.shape)  # one row per position
    return {
        "unmasked": float(np.abs(f(X[PERM]) - f(X)[PERM]).max()),
        "moved": float(np.abs(f(X[PERM]) - f(X)).max()),
        "causal": float(np.abs(f(X[PERM], mask) - f(X, mask)[PERM]).max()),
        "positions": float(np.abs(f(X[PERM] + positions) - f(X + positions)[PERM]).max()),
    }


def linearity() -> dict[str, NDArray[np.float64]]:
    """Self-attention f(X) = A(X) X W_V is not linear in X, but A V is linear in V for fixed A.

    Returns both sides of each identity: f(X1 + X2) vs f(X1) + f(X2), f(2X) vs 2 f(X), and, with
    the weights A of X1 held fixed, A (V1 + V2) vs A V1 + A V2 and A (3 V1) vs 3 A V1.
    """
    mh = multi_head_example()
    w_q, w_k, w_v = mh["w_q"], mh["w_k"], mh["w_v"]
    X1 = mh["X"]  # (T, D)
    X2 = np.random.default_rng(SEED + 2).standard_normal(X1.shape)  # (T, D)

    def f(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return llmath.scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v).output  # (T, D)

    q, k = X1 @ w_q, X1 @ w_k  # fixed queries and keys: fixed weights A

    def g(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return llmath.scaled_dot_product_attention(q, k, v).output  # (T, D)

    V1, V2 = X1 @ w_v, X2 @ w_v
    return {
        "f(X1+X2)": f(X1 + X2),
        "f(X1)+f(X2)": f(X1) + f(X2),
        "f(2X1)": f(2 * X1),
        "2f(X1)": 2 * f(X1),
        "g(V1+V2)": g(V1 + V2),
        "g(V1)+g(V2)": g(V1) + g(V2),
        "g(3V1)": g(3 * V1),
        "3g(V1)": 3 * g(V1),
    }


def heads_parameter_count(D: int = 768, heads: tuple[int, ...] = (1, 12, 768)) -> dict[str, int]:
    """Exercise 3: run multi_head_attention with the same four (D, D) weights for several H.

    The call succeeds for every H dividing D, and its weights hold 4 D^2 numbers whatever H is.
    """
    rng = np.random.default_rng(SEED + 3)
    weights = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]  # W_Q, W_K, W_V, W_O
    x = rng.standard_normal((3, D))  # (T, D)
    out = {}
    for H in heads:
        result = llmath.multi_head_attention(x, *weights, num_heads=H)
        assert result.output.shape == (3, D) and result.weights.shape == (H, 3, 3)
        out[f"H={H}"] = sum(w.size for w in weights)
    return out


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the attention page, keyed as on the page."""
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
        "attention/largest-weight": largest_weight(),
        "attention/mh-head0": mh["head0"],
        "attention/mh-head1": mh["head1"],
        "attention/mh-output": mh["output"],
        "attention/temperature": temperature_sweep(),
    }
