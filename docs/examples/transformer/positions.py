"""Worked examples for the positions chapter: every number on the page is computed here by llmath.

The lower-precision encodings (float32, float16 positions) are written out here, not in the
package, which is float64 throughout: they show what a float32 or float16 pipeline computes.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from llmath import (
    causal_mask,
    embed,
    rope,
    scaled_dot_product_attention,
    sinusoidal_positions,
    sinusoidal_shift,
)
from llmath.transformer.model import ModelConfig, forward, init

Array = NDArray[np.float64]

SEED = 2017
BASE = 10000.0


# ---- attention does not know the order --------------------------------------------------------


@cache
def permutation() -> dict[str, float]:
    """Permute 6 tokens: unmasked attention permutes its output the same way; causal does not."""
    rng = np.random.default_rng(SEED)
    T, D = 6, 4
    x = rng.standard_normal((T, D))  # (T, D)
    perm = rng.permutation(T)
    full = scaled_dot_product_attention(x, x, x).output  # (T, D)
    full_p = scaled_dot_product_attention(x[perm], x[perm], x[perm]).output
    m = causal_mask(T)
    causal = scaled_dot_product_attention(x, x, x, m).output
    causal_p = scaled_dot_product_attention(x[perm], x[perm], x[perm], m).output
    return {
        "unmasked": float(np.abs(full_p - full[perm]).max()),
        "causal": float(np.abs(causal_p - causal[perm]).max()),
    }


@cache
def counting(T: int = 8) -> Array:
    """Uniform causal attention over a sequence whose first token alone has value 1.

    Every query is 0, so every score is 0 and each query spreads its weight evenly over the t keys
    it may see. Column 0: the weight on token 1; column 1: the output, the value read from token 1.
    """
    q = np.zeros((T, 2))  # (T, dk): all scores equal
    v = np.zeros((T, 1))  # (T, 1)
    v[0, 0] = 1.0  # a distinct first token (a beginning-of-sequence marker)
    out, w = scaled_dot_product_attention(q, q, v, causal_mask(T))
    return np.stack([w[:, 0], out[:, 0]], axis=1)  # (T, 2)


# ---- sinusoidal encodings ---------------------------------------------------------------------


@cache
def small_table() -> Array:
    """PE for positions 0..5 with D = 8."""
    return sinusoidal_positions(6, 8)


def frequencies(D: int, base: float = BASE) -> Array:
    """omega_i and the wavelength 2 pi / omega_i for every pair i, as rows (D/2, 2)."""
    w = base ** (-np.arange(0, D, 2) / D)
    return np.stack([w, 2 * np.pi / w], axis=1)


@cache
def shift_check(
    T: int = 200, D: int = 16, ks: tuple[int, ...] = (1, 5, 50, -7)
) -> dict[int, float]:
    """max_p |PE(p + k) - PE(p) R(k)| over every p with both positions in 0..T-1."""
    pe = sinusoidal_positions(T, D)
    out = {}
    for k in ks:
        r = sinusoidal_shift(k, D)
        lo, hi = max(0, -k), min(T, T - k)
        out[k] = float(np.abs(pe[lo + k : hi + k] - pe[lo:hi] @ r).max())
    return out


def dot_closed_form(k: Array, D: int, base: float = BASE) -> Array:
    """PE(p) . PE(p + k) = sum_i cos(k omega_i), for an array of offsets k."""
    w = base ** (-np.arange(0, D, 2) / D)
    return np.cos(np.asarray(k, dtype=np.float64)[..., None] * w).sum(axis=-1)


@cache
def dot_by_offset(T: int = 256, D: int = 64) -> dict[str, Array]:
    """For each offset k in -(T-1)..T-1: the mean and spread over p of PE(p) . PE(p + k)."""
    pe = sinusoidal_positions(T, D)
    g = pe @ pe.T  # (T, T): g[p, q] = PE(p) . PE(q)
    ks = np.arange(-(T - 1), T)
    mean, spread = np.empty(ks.size), np.empty(ks.size)
    for j, k in enumerate(ks):
        diag = np.diagonal(g, offset=k)  # every pair (p, p + k)
        mean[j], spread[j] = diag.mean(), diag.max() - diag.min()
    return {"k": ks, "mean": mean, "spread": spread, "closed": dot_closed_form(ks, D)}


def distance(k: Array, D: int, base: float = BASE) -> Array:
    """||PE(p + k) - PE(p)|| = sqrt(2 sum_i (1 - cos k omega_i)): it depends on k only."""
    w = base ** (-np.arange(0, D, 2) / D)
    c = np.cos(np.asarray(k, dtype=np.float64)[..., None] * w)
    return np.sqrt(2 * (1 - c).sum(axis=-1))


@cache
def nearest(D: int, T: int) -> tuple[float, int]:
    """The smallest distance between the encodings of two positions in 0..T-1, and its offset."""
    best, arg = np.inf, 0
    for lo in range(1, T, 2**15):  # chunks keep the (k, D/2) array small
        ks = np.arange(lo, min(T, lo + 2**15))
        d = distance(ks, D)
        j = int(np.argmin(d))
        if d[j] < best:
            best, arg = float(d[j]), int(ks[j])
    return best, arg


UNIQUE_D = (4, 16, 512)
UNIQUE_T = (2**6, 2**10, 2**14, 2**17)


@cache
def nearest_table() -> Array:
    """Rows: D in UNIQUE_D; columns: the smallest distance for T in UNIQUE_T."""
    return np.array([[nearest(D, T)[0] for T in UNIQUE_T] for D in UNIQUE_D])


def brute_force_nearest(D: int, T: int) -> float:
    """The same minimum from all T(T-1)/2 pairs of rows of sinusoidal_positions (small T only)."""
    pe = sinusoidal_positions(T, D)
    sq = (pe * pe).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2 * pe @ pe.T  # (T, T)
    iu = np.triu_indices(T, k=1)
    return float(np.sqrt(np.maximum(d2[iu], 0.0)).min())


def pe_float32(p: int, D: int, base: float = BASE) -> NDArray[np.float32]:
    """PE(p) as a float32 pipeline computes it: float32 position, frequencies, sin and cos."""
    i = np.arange(0, D, 2, dtype=np.float32)
    w = np.float32(1.0) / np.float32(base) ** (i / np.float32(D))
    a = np.float32(p) * w  # (D/2,) float32 angles
    out = np.empty(D, dtype=np.float32)
    out[0::2], out[1::2] = np.sin(a), np.cos(a)
    return out


FLOAT32_P = (10**3, 10**4, 10**5, 10**6)


@cache
def float32_error(D: int = 512) -> Array:
    """||PE_float32(p) - PE(p)|| for p in FLOAT32_P, PE(p) from llmath in float64."""
    out = []
    for p in FLOAT32_P:
        exact = sinusoidal_positions(1, D)[0] @ sinusoidal_shift(p, D)  # PE(0) R(p) = PE(p)
        out.append(float(np.linalg.norm(pe_float32(p, D).astype(np.float64) - exact)))
    return np.array(out)


@cache
def first_collisions() -> dict[str, int]:
    """The first position p > 0 that a float format stores as the same number as p - 1."""
    out = {}
    for name, dtype, n in [("float16", np.float16, 4096), ("float32", np.float32, 2**25)]:
        stored = np.arange(n).astype(dtype).astype(np.float64)
        out[name] = int(np.nonzero(np.diff(stored) == 0)[0][0] + 1)
    import torch  # numpy has no bfloat16

    stored = torch.arange(1024).to(torch.bfloat16).double().numpy()
    out["bfloat16"] = int(np.nonzero(np.diff(stored) == 0)[0][0] + 1)
    return out


# ---- learned absolute positions ---------------------------------------------------------------


@cache
def gpt2_embeddings() -> dict[str, float]:
    """GPT-2's first hidden state is wte[ids] + wpe[0..T-1], checked on a small random GPT-2."""
    import torch
    from transformers import GPT2Config, GPT2Model

    torch.manual_seed(SEED)
    config = GPT2Config(n_embd=16, n_layer=1, n_head=2, n_positions=32, vocab_size=50)
    model = GPT2Model(config).double().eval()
    ids = np.array([5, 7, 7, 1, 42])
    with torch.no_grad():
        h0 = model(torch.tensor(ids[None]), output_hidden_states=True).hidden_states[0][0]
    wte = model.wte.weight.detach().numpy()
    wpe = model.wpe.weight.detach().numpy()
    mine = embed(ids, wte) + wpe[: len(ids)]  # (T, D)
    repeated = float(np.abs(mine[1] - mine[2]).max())  # token 7 at positions 1 and 2
    too_long = np.zeros((1, config.n_positions + 1), dtype=np.int64)
    try:  # there is no row of wpe for position n_ctx
        model(torch.tensor(too_long))
        raise AssertionError("GPT-2 accepted a sequence longer than its context")
    except IndexError:
        pass
    c = ModelConfig(n_vocab=50, n_ctx=config.n_positions, D=16, H=2, n_layers=1)
    try:
        forward(init(c, np.random.default_rng(SEED)), too_long[0], config=c)
        raise AssertionError("llmath accepted a sequence longer than its context")
    except ValueError:
        pass
    return {
        "diff": float(np.abs(mine - h0.numpy()).max()),
        "repeated": repeated,
        "n_positions": float(config.n_positions),
        "params": float(wpe.size),
    }


# ---- rotary embeddings ------------------------------------------------------------------------


@cache
def rope_scores(T: int = 6, dk: int = 8) -> Array:
    """S[m, n] = rope(q, m) . rope(k, n) for one fixed q and k placed at every position."""
    rng = np.random.default_rng(SEED)
    q, k = rng.standard_normal((2, dk))
    pos = np.arange(T)
    qs = rope(np.tile(q, (T, 1)), pos)  # (T, dk): q at positions 0..T-1
    ks = rope(np.tile(k, (T, 1)), pos)
    return qs @ ks.T  # (T, T)


def toeplitz_spread(s: Array) -> float:
    """The largest spread along any diagonal of a square matrix (0 for a Toeplitz matrix)."""
    T = s.shape[0]
    return max(float(np.ptp(np.diagonal(s, offset=k))) for k in range(-(T - 1), T))


@cache
def rope_far(dk: int = 64, pos: tuple[int, ...] = (0, 1000, 123456)) -> Array:
    """rope(q, m + j) . rope(k, m) for j = 0..3 at three starting positions m (rows)."""
    rng = np.random.default_rng(SEED)
    q, k = rng.standard_normal((2, dk))
    rows = []
    for m in pos:
        rows.append([float(rope(q[None], [m + j])[0] @ rope(k[None], [m])[0]) for j in range(4)])
    return np.array(rows)


def half_to_interleaved(dk: int) -> NDArray[np.intp]:
    """The permutation P with rope_half(x[P]) = rope_interleaved(x)[P]: evens first, then odds."""
    return np.concatenate([np.arange(0, dk, 2), np.arange(1, dk, 2)])


@cache
def hf_agreement() -> dict[str, float]:
    """llmath's rope against transformers' rotary code, float64 unless said otherwise."""
    import torch
    from transformers import LlamaConfig
    from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb as gptj_apply
    from transformers.models.llama.modeling_llama import (
        LlamaRotaryEmbedding,
        apply_rotary_pos_emb,
    )
    from transformers.models.roformer.modeling_roformer import RoFormerSelfAttention

    rng = np.random.default_rng(SEED)
    B, H, T, dk = 2, 4, 16, 64
    q, k = rng.standard_normal((2, B, H, T, dk))  # (B, H, T, dk)
    pos = np.arange(T) + 100
    inv_freq = 1.0 / (BASE ** (torch.arange(0, dk, 2, dtype=torch.int64).double() / dk))
    freqs = torch.tensor(pos, dtype=torch.float64)[:, None] * inv_freq  # (T, dk/2)
    emb = torch.cat((freqs, freqs), dim=-1)[None]  # (1, T, dk): the rotate_half layout
    q_h, k_h = apply_rotary_pos_emb(torch.tensor(q), torch.tensor(k), emb.cos(), emb.sin())
    out = {
        "llama_q": float(np.abs(rope(q, pos) - q_h.numpy()).max()),
        "llama_k": float(np.abs(rope(k, pos) - k_h.numpy()).max()),
    }
    config = LlamaConfig(hidden_size=H * dk, num_attention_heads=H, head_dim=dk)
    cos32, sin32 = LlamaRotaryEmbedding(config)(torch.tensor(q), torch.tensor(pos)[None])
    q_32, _ = apply_rotary_pos_emb(torch.tensor(q), torch.tensor(k), cos32, sin32)
    out["llama_module"] = float(np.abs(rope(q, pos) - q_32.numpy()).max())
    xj = np.swapaxes(q, 1, 2)  # (B, T, H, dk): GPT-J's layout
    gj = gptj_apply(torch.tensor(xj), freqs.sin()[None], freqs.cos()[None]).numpy()
    out["gptj"] = float(np.abs(np.swapaxes(rope(q, pos, pairing="interleaved"), 1, 2) - gj).max())
    sp = torch.cat((freqs.sin(), freqs.cos()), dim=-1)[None, None]  # (1, 1, T, dk)
    q_r, _ = RoFormerSelfAttention.apply_rotary_position_embeddings(
        sp, torch.tensor(q), torch.tensor(k)
    )
    out["roformer"] = float(np.abs(rope(q, pos, pairing="interleaved") - q_r.numpy()).max())
    perm = half_to_interleaved(dk)
    half = rope(q[..., perm], pos)
    inter = rope(q, pos, pairing="interleaved")
    out["perm"] = float(np.abs(half - inter[..., perm]).max())
    out["pairings_differ"] = float(np.abs(rope(q, pos) - inter).max())
    # the permutation cancels in every score: q . k is unchanged when both are permuted
    s_half = rope(q[..., perm], pos) @ np.swapaxes(rope(k[..., perm], pos), -1, -2)
    s_inter = inter @ np.swapaxes(rope(k, pos, pairing="interleaved"), -1, -2)
    out["scores"] = float(np.abs(s_half - s_inter).max())
    return out


# ---- exercises --------------------------------------------------------------------------------


@cache
def direction_blind(D: int = 64) -> dict[str, float]:
    """Sinusoidal dot products are even in k; RoPE scores are not."""
    pe = sinusoidal_positions(200, D)
    p, k = 100, 17
    rng = np.random.default_rng(SEED)
    q, kk = rng.standard_normal((2, D))
    ahead = float(rope(q[None], [p])[0] @ rope(kk[None], [p + k])[0])
    behind = float(rope(q[None], [p])[0] @ rope(kk[None], [p - k])[0])
    return {
        "pe_ahead": float(pe[p] @ pe[p + k]),
        "pe_behind": float(pe[p] @ pe[p - k]),
        "rope_ahead": ahead,
        "rope_behind": behind,
    }


def longest_wavelength(dk: int, base: float = BASE) -> float:
    """2 pi / theta_{dk/2 - 1}: positions for the slowest RoPE pair to turn once."""
    return float(2 * np.pi * base ** ((dk - 2) / dk))


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "positions/counting": counting(),
        "positions/pe-small": small_table(),
        "positions/frequencies": frequencies(8),
        "positions/nearest": nearest_table(),
        "positions/float32": float32_error()[None],
        "positions/rope-scores": rope_scores(),
        "positions/rope-far": rope_far(),
    }
