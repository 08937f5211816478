"""Worked examples for the counting chapter: GPT-2 small counted by llmath, and the counts checked
against Hugging Face's GPT2LMHeadModel (parameters, KV cache bytes) and torch's FlopCounterMode.

The model sizes below (GPT-2 small, GPT-3 175B) are published configurations: Radford et al.
(2019), Table 2 and the released config; Brown et al. (2020), Table 2.1.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, new_figure, svg
from llmath import flops_per_token, memory_bytes, param_count, training_flops_per_token
from llmath.transformer.model import ModelConfig

Array = NDArray[np.float64]

GPT2_SMALL = {"n_vocab": 50257, "n_ctx": 1024, "D": 768, "H": 12, "n_layers": 12}
GPT3 = {"n_vocab": 50257, "n_ctx": 2048, "D": 12288, "H": 96, "n_layers": 96}
SMALL = {"n_vocab": 97, "n_ctx": 32, "D": 48, "H": 4, "n_layers": 2}  # for FlopCounterMode
SMALL_T, SMALL_B = 20, 3
COMPONENTS = ("token_embedding", "positions", "attention", "mlp", "norms", "unembedding")
FLOP_PARTS = ("attention_qkv", "attention_scores", "attention_values", "attention_out", "mlp",
              "unembedding")  # fmt: skip


config = ModelConfig  # its defaults are GPT-2's


def with_ctx(c: ModelConfig, n_ctx: int) -> ModelConfig:
    return dataclasses.replace(c, n_ctx=n_ctx)


def hf_model(c: Any, *, meta: bool = False) -> Any:
    """GPT2LMHeadModel with the same shape as config `c` (random weights, no download)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(
        vocab_size=c.n_vocab, n_positions=c.n_ctx, n_embd=c.D, n_head=c.H, n_layer=c.n_layers,
        n_inner=c.F, tie_word_embeddings=c.tie_embeddings, attn_implementation="eager",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    if meta:
        with torch.device("meta"):
            return GPT2LMHeadModel(cfg)
    torch.manual_seed(0)
    return GPT2LMHeadModel(cfg).to(torch.float64)


# ---- parameters ---------------------------------------------------------------------------------


def param_table() -> Array:
    """GPT-2 small: rows per component and the total; columns: parameters, % of the total."""
    counts = param_count(config(**GPT2_SMALL))
    rows = [[counts[k], 100 * counts[k] / counts["total"]] for k in (*COMPONENTS, "total")]
    return np.array(rows, dtype=np.float64)


@functools.cache
def hf_params() -> dict[str, int]:
    """num_parameters() and sum of numel() for GPT-2 small, tied and untied, built on 'meta'."""
    out = {}
    for tie in (True, False):
        m = hf_model(config(**GPT2_SMALL, tie_embeddings=tie), meta=True)
        out[f"num_parameters tied={tie}"] = m.num_parameters()
        out[f"sum numel tied={tie}"] = sum(p.numel() for p in m.parameters())
    return out


# ---- FLOPs --------------------------------------------------------------------------------------


def flop_table(T: int = 1024) -> Array:
    """GPT-2 small at T: rows per part and the total; columns: MFLOPs per token, % of the total."""
    f = flops_per_token(config(**GPT2_SMALL), T)
    rows = [[f[k] / 1e6, 100 * f[k] / f["total"]] for k in (*FLOP_PARTS, "total")]
    return np.array(rows, dtype=np.float64)


@functools.cache
def flop_counter() -> dict[str, int]:
    """FlopCounterMode on the small GPT2LMHeadModel: forward, and backward of the loss."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    c = config(**SMALL)
    model = hf_model(c)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c.n_vocab, (SMALL_B, SMALL_T), generator=gen)
    with FlopCounterMode(display=False) as fwd:
        loss = model(ids, labels=ids).loss
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    by_op = {str(k): v for k, v in fwd.get_flop_counts()["Global"].items()}
    return {"forward": fwd.get_total_flops(), "backward": bwd.get_total_flops(),
            "bmm": by_op.get("aten.bmm", 0), **{f"op {k}": v for k, v in by_op.items()}}  # fmt: skip


def flop_counter_expected() -> dict[str, int]:
    c = config(**SMALL)
    f, tr = flops_per_token(c, SMALL_T), training_flops_per_token(c, SMALL_T)
    n = SMALL_B * SMALL_T  # tokens
    return {"forward": n * f["total"], "backward": n * tr["backward"],
            "bmm": n * (f["attention_scores"] + f["attention_values"])}  # fmt: skip


def attention_share(c: Any, Ts: Array) -> Array:
    """Share of the T-dependent attention FLOPs in the forward total, for each T."""
    out = []
    for T in Ts:
        f = flops_per_token(with_ctx(c, int(T)), int(T))
        out.append((f["attention_scores"] + f["attention_values"]) / f["total"])
    return np.array(out)


def half_point(c: Any) -> int:
    """The smallest T at which the attention term is at least half of the forward FLOPs."""
    lo, hi = 1, 1 << 24
    while lo < hi:  # the share grows with T: bisect
        mid = (lo + hi) // 2
        if attention_share(c, np.array([mid]))[0] >= 0.5:
            hi = mid
        else:
            lo = mid + 1
    return lo


SHARE_T = np.unique(np.geomspace(64, 1 << 20, 200).astype(int))


def share_figure() -> str:
    fig, ax = new_figure(6.0, 3.4)
    for kw, name, colour in ((GPT2_SMALL, "GPT-2 small (D = 768)", BLUE),
                             (GPT3, "GPT-3 (D = 12288)", ORANGE)):  # fmt: skip
        c = config(**kw)
        ax.semilogx(SHARE_T, 100 * attention_share(c, SHARE_T), color=colour, label=name)
        t = half_point(c)
        ax.axvline(t, color=colour, lw=0.8, ls=":")
        ax.text(t * 1.1, 5, f"T = {t}", color=colour, rotation=90, fontsize=10)
        ax.axvline(kw["n_ctx"], color=colour, lw=2, alpha=0.3)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("attention term, % of forward FLOPs")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, loc="upper left")
    return svg(
        fig,
        alt="Share of the forward FLOPs spent on the attention scores and values, against T, "
        "for GPT-2 small and GPT-3. Each curve rises from near 0 to near 100 percent; dotted "
        "lines mark where it reaches one half, thick lines the models' context lengths.",
        caption="How much of a forward pass grows with T: the attention term's share of FLOPs",
    )


def two_n_table(Ts: tuple[int, ...] = (128, 1024, 8192, 32768)) -> Array:
    """Rows per model; columns: 2N / exact forward FLOPs at each T."""
    rows = []
    for kw in (GPT2_SMALL, GPT3):
        c = config(**kw)
        two_n = 2 * param_count(c)["total"]
        rows.append([two_n / flops_per_token(with_ctx(c, T), T)["total"] for T in Ts])
    return np.array(rows)


def softmax_flops(T: int = 1024) -> float:
    """Hoffmann et al.'s 3 FLOPs per attention logit, as a share of the matmul FLOPs."""
    c = config(**GPT2_SMALL)
    return 3 * c.H * T * c.n_layers / flops_per_token(c, T)["total"]


# ---- memory -------------------------------------------------------------------------------------

MEM_T = 1024


def memory_table(T: int = MEM_T) -> Array:
    """GPT-2 small at T, batch 1: rows weights, activations, KV cache; columns MB at 4 and 2 bytes."""
    c = config(**GPT2_SMALL)
    m4, m2 = memory_bytes(c, T=T, dtype_bytes=4), memory_bytes(c, T=T, dtype_bytes=2)
    keys = ("weights", "activations", "kv_cache")
    return np.array([[m4[k] / 1e6, m2[k] / 1e6] for k in keys])


@functools.cache
def hf_memory() -> dict[str, tuple[int, int]]:
    """(llmath's count, the bytes of the tensors) for the small HF model in float64."""
    import torch

    c = config(**SMALL)
    model = hf_model(c).eval()
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, c.n_vocab, (SMALL_B, SMALL_T), generator=gen)
    with torch.no_grad():
        cache = model(ids, use_cache=True).past_key_values
    layers = cache.to_legacy_cache() if hasattr(cache, "to_legacy_cache") else cache
    kv = sum(t.nbytes for layer in layers for t in layer)
    weights = sum({p.data_ptr(): p.nbytes for p in model.parameters()}.values())
    m = memory_bytes(c, T=SMALL_T, batch=SMALL_B, dtype_bytes=8)
    return {"kv_cache": (m["kv_cache"], kv), "weights": (m["weights"], weights)}


@functools.cache
def hf_saved_activations() -> dict[str, float]:
    """Bytes of the tensors autograd keeps during a training forward of the small HF GPT-2
    (parameters excluded, each storage once), divided by llmath's activation count:
    with GPT-2's gelu_new and with ReLU swapped in."""
    import torch

    c = config(**SMALL)
    ours = memory_bytes(c, T=SMALL_T, batch=SMALL_B, dtype_bytes=8)["activations"]
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c.n_vocab, (SMALL_B, SMALL_T), generator=gen)
    out = {}
    for act in ("gelu_new", "relu"):
        model = hf_model(c)
        if act == "relu":
            for block in model.transformer.h:
                block.mlp.act = torch.nn.ReLU()
        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        kept: dict[int, int] = {}

        def pack(t: Any, kept: dict[int, int] = kept, params: set[int] = params) -> Any:
            s = t.untyped_storage()
            if s.data_ptr() not in params:
                kept[s.data_ptr()] = s.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(ids, labels=ids)
        out[act] = sum(kept.values()) / ours
    return out


def tables() -> dict[str, Array]:
    return {
        "counting/params": param_table()[:, :1],
        "counting/params-share": param_table()[:, 1:],
        "counting/flops": flop_table(),
        "counting/two-n": two_n_table(),
        "counting/memory": memory_table(),
    }
