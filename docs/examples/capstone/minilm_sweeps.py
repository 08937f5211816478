"""The expensive computations of "Inside a real model": every weight matrix's SVD, the rank-r
truncation sweep and the quantisation sweep of all-MiniLM-L6-v2.

A module of its own: examples.capstone.minilm_analysis caches their results with @persistent,
whose key covers the source of the modules it imports (this one), not of its own siblings.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from examples.capstone import minilm as base
from llmath import BertParams, cosine_similarity, dequantize, quantize_absmax

Array = NDArray[np.float64]
N_PAIRS = 8  # sentences 0..15 are eight paraphrase pairs (2k, 2k + 1)
SUBSET = base.SENTENCES[: 2 * N_PAIRS]  # for the sweeps: one encoder run per setting
MATRICES = ("w_q", "w_k", "w_v", "w_o", "w_in", "w_out")
RANKS = (64, 192, 320)


def weights(p: BertParams) -> list[tuple[int, str, Array]]:
    return [(i, name, np.asarray(getattr(lp, name) if hasattr(lp, name) else getattr(lp.mlp, name)))
            for i, lp in enumerate(p.layers) for name in MATRICES]  # fmt: skip


@cache
def svds() -> dict[tuple[int, str], tuple[Array, Array, Array]]:
    """U, σ, Vᵀ of every attention and MLP weight of every layer (computed once)."""
    return {(i, n): np.linalg.svd(w, full_matrices=False) for i, n, w in weights(base.params())}


def singular_values() -> dict[tuple[int, str], Array]:
    """σ of every attention and MLP weight of every layer, largest first."""
    return {key: usv[1] for key, usv in svds().items()}


def truncate(u: Array, s: Array, vt: Array, r: int) -> Array:
    return (u[:, :r] * s[:r]) @ vt[:r]  # the top r terms of U Σ Vᵀ


def truncated(r: int) -> BertParams:
    """Every attention and MLP weight replaced by its best rank-r approximation."""
    p = base.params()
    layers = []
    for i, lp in enumerate(p.layers):
        new = {}
        for name in MATRICES:
            new[name] = truncate(*svds()[(i, name)], r)
        mlp = lp.mlp._replace(w_in=new.pop("w_in"), w_out=new.pop("w_out"))
        layers.append(lp._replace(**new, mlp=mlp))
    return p._replace(layers=tuple(layers))


def rank_sweep() -> Array:
    """Per r: mean and minimum cosine between the truncated model's embeddings and the original,
    and the nearest-neighbour hits among the eight pairs."""
    e0 = base.embeddings()[: 2 * N_PAIRS]
    rows = []
    for r in RANKS:
        e = base.embed_texts(SUBSET, truncated(r))
        cos = cosine_similarity(e, e0)
        rows.append([r, cos.mean(), cos.min(), hits(e)])
    return np.array(rows)


def hits(e: Array) -> int:
    s = cosine_similarity(e[:, None], e[None])
    np.fill_diagonal(s, -np.inf)
    return int((s.argmax(axis=1) == (np.arange(len(e)) ^ 1)).sum())


def quantized(bits: int, axis: int | None) -> tuple[BertParams, float]:
    """Every attention and MLP weight quantised (absmax, `bits`) and dequantised; the largest
    |error| relative to its block's scale."""
    p = base.params()
    worst = 0.0
    layers = []
    for lp in p.layers:
        new = {}
        for name in MATRICES:
            w = np.asarray(getattr(lp, name) if hasattr(lp, name) else getattr(lp.mlp, name))
            codes, scales = quantize_absmax(w, bits, axis=axis)
            new[name] = dequantize(codes, scales, axis=axis)
            s = scales if axis is None else np.expand_dims(scales, 0)
            worst = max(worst, float(np.max(np.abs(new[name] - w) / s)))
        mlp = lp.mlp._replace(w_in=new.pop("w_in"), w_out=new.pop("w_out"))
        layers.append(lp._replace(**new, mlp=mlp))
    return p._replace(layers=tuple(layers)), worst


def quant_sweep() -> dict[str, dict[str, float]]:
    """Cosine to the original embeddings for int8 and int4, per tensor and per output channel."""
    e0 = base.embeddings()[: 2 * N_PAIRS]
    out = {}
    for label, bits, axis in (("int8, per output channel", 8, 1), ("int8, per tensor", 8, None),
                              ("int4, per output channel", 4, 1)):  # fmt: skip
        p, worst = quantized(bits, axis)
        e = base.embed_texts(SUBSET, p)
        cos = cosine_similarity(e, e0)
        out[label] = {"mean": float(cos.mean()), "min": float(cos.min()), "worst_err": worst,
                      "hits": hits(e), "bits": bits, "emb": e}  # fmt: skip
    return out
