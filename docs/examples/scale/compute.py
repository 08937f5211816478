"""Worked examples for the compute-and-memory chapter.

Published numbers (facts with a citation; everything else is computed):

* GPT-3 175B: 96 layers, width 12288, 96 heads, context 2048, 300B training tokens (Brown et
  al. 2020, Table 2.1 and Sect. 2.2); its training compute 3.14e23 FLOPs (Table D.1).
* Chinchilla: 70B parameters, 1.4T tokens (Hoffmann et al. 2022, Sect. 4.1, Table 4).
* LLaMA 65B: width 8192, 64 heads, 80 layers, 1.4T tokens (Touvron et al. 2023, Table 2);
  vocabulary 32000, context 2048 and SwiGLU MLP width 22016 from the released configuration;
  RMSNorm, no biases, rotary positions, untied unembedding (Sect. 2.2).
* Korthikanti et al. (2022), Sect. 4.1: activations per layer s·b·h·(34 + 5·a·s/h) bytes in
  16-bit with dropout; 34·s·b·h with selective recomputation (Sect. 5).
* Chowdhery et al. (2022), Table 3: model FLOPs utilisation 21.3 % for GPT-3 and 46.2 % for
  PaLM 540B (defined in Sect. 4 and App. B).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.cached import persistent
from examples.show import BLUE, GREEN, ORANGE, RED, new_figure, svg
from llmath import (
    activation_memory_bytes,
    memory_bytes,
    param_count,
    ring_allreduce_volume,
    training_flops,
    training_flops_per_token,
    training_memory_bytes,
)
from llmath.transformer.model import ModelConfig

Array = NDArray[np.float64]

GPT3 = ModelConfig(n_vocab=50257, n_ctx=2048, D=12288, H=96, n_layers=96)
LLAMA65 = ModelConfig(n_vocab=32000, n_ctx=2048, D=8192, H=64, n_layers=80, F=22016,
                      activation="swiglu", norm="rms", bias=False, positions="none",
                      tie_embeddings=False)  # fmt: skip
RUNS = {  # name: (N, D tokens)
    "GPT-3 175B": (175e9, 300e9),
    "Chinchilla 70B": (70e9, 1.4e12),
    "LLaMA 65B": (65e9, 1.4e12),
}
GPT3_PUBLISHED_FLOPS = 3.14e23  # Brown et al. (2020), Table D.1
KORTHIKANTI = (34, 5)  # bytes per s·b·h: (34 + 5 a s / h), Sect. 4.1
PUBLISHED_MFU = {"GPT-3 175B": 0.213, "PaLM 540B": 0.462}  # Chowdhery et al. (2022), Table 3


def flops_table() -> Array:
    """Rows per run; columns: N (B), D (B), 6ND (1e21 FLOPs), tokens per parameter."""
    rows = []
    for N, D in RUNS.values():
        rows.append([N / 1e9, D / 1e9, training_flops(N, D) / 1e21, D / N])
    return np.array(rows)


def exact_vs_6n() -> tuple[int, float]:
    """GPT-3: llmath's parameter count and the exact training FLOPs per token / 6N at T = 2048."""
    N = param_count(GPT3)["total"]
    return N, training_flops_per_token(GPT3, 2048)["total"] / (6 * N)


def memory_table() -> Array:
    """Bytes per parameter: rows mixed/fp32 Adam and mixed SGD; columns per component, total."""
    keys = ("weights", "gradients", "master", "optimizer", "total")
    rows = []
    for prec, opt in (("mixed", "adam"), ("fp32", "adam"), ("mixed", "sgd")):
        m = training_memory_bytes(1, precision=prec, optimizer=opt)
        rows.append([m[k] for k in keys])
    return np.array(rows)


DP = 64  # data-parallel replicas in the ZeRO table


def zero_table() -> Array:
    """GB per device for 70B parameters over 64 replicas: rows ZeRO stages; one column."""
    return np.array([[training_memory_bytes(int(70e9), data_parallel=DP, zero=z)["total"] / 1e9]
                     for z in ("none", "stage1", "stage2", "stage3")])  # fmt: skip


ACT_T = 2048


def activation_table() -> Array:
    """GPT-3 at T = 2048, one sequence, bf16: GB of activations; rows none/selective/full,
    columns llmath's count and Korthikanti's formula (for the 96 layers; the full-recompute
    row of the formula keeps 2sbh per layer)."""
    s, h, a, L = ACT_T, GPT3.D, GPT3.H, GPT3.n_layers
    k34, k5 = KORTHIKANTI
    ours = [activation_memory_bytes(GPT3, T=ACT_T, recompute=r) / 1e9
            for r in ("none", "selective", "full")]  # fmt: skip
    theirs = [L * s * h * (k34 + k5 * a * s / h) / 1e9, L * s * h * k34 / 1e9, L * 2 * s * h / 1e9]
    return np.array([ours, theirs]).T


def kv_table() -> Array:
    """KV cache in bf16 for one sequence of 2048 tokens: rows GPT-3, LLaMA 65B; columns MB per
    token, GB per sequence, sequence count whose cache equals the weights."""
    rows = []
    for c in (GPT3, LLAMA65):
        m = memory_bytes(c, T=2048, dtype_bytes=2)
        rows.append([m["kv_cache"] / 2048 / 1e6, m["kv_cache"] / 1e9, m["weights"] / m["kv_cache"]])
    return np.array(rows)


# ---- parallelism on paper -------------------------------------------------------------------

TP, PP, MICRO = 8, 16, 64  # tensor-parallel, pipeline stages, microbatches per step


def parallel_table() -> Array:
    """GPT-3 175B, bf16, one sequence of 2048 tokens per microbatch. Rows: data parallel (64),
    tensor parallel (8), pipeline (16 stages). Columns: training state per device (GB),
    communication per device per step (GB)."""
    N = param_count(GPT3)["total"]
    b, tokens = 2, ACT_T
    act = tokens * GPT3.D * b  # one activation tensor (T, D) of one microbatch
    dp = training_memory_bytes(N, data_parallel=64)["total"] / 1e9
    dp_comm = ring_allreduce_volume(2 * N, 64) / 1e9  # bf16 gradients, once per step
    tp = training_memory_bytes(N, model_parallel=TP)["total"] / 1e9
    # Megatron: per layer 2 all-reduces forward and 2 backward of a (T, D) activation
    tp_comm = GPT3.n_layers * 4 * ring_allreduce_volume(act, TP) * MICRO / 1e9
    pp = training_memory_bytes(N, model_parallel=PP)["total"] / 1e9
    pp_comm = 2 * act * MICRO / 1e9  # one activation forward, one gradient backward per stage
    return np.array([[dp, dp_comm], [tp, tp_comm], [pp, pp_comm]])


def bubble(p: int = PP, m: int = MICRO) -> float:
    """Pipeline bubble fraction (p - 1)/m of the ideal step time (Narayanan et al. 2021)."""
    return (p - 1) / m


# ---- MFU measured on this machine ------------------------------------------------------------

SMALL = {"n_vocab": 1024, "n_ctx": 128, "D": 256, "H": 4, "n_layers": 4}
BATCH, STEPS = 4, 3


def _matmul_rate(a: Any, b: Any) -> float:
    """FLOP/s of one float32 product a @ b, timed once."""
    t0 = time.perf_counter()
    a @ b
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / (time.perf_counter() - t0)


@persistent
def measure_cpu(seed: int = 0) -> dict[str, float]:
    """Time training steps of a small GPT-2 in torch on one CPU thread, and between them a
    float32 matmul (the achievable peak). The machine is shared: both are the best of several
    timings, taken interleaved, so that both see the least disturbed moments."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        c = ModelConfig(**SMALL)
        cfg = GPT2Config(vocab_size=c.n_vocab, n_positions=c.n_ctx, n_embd=c.D, n_head=c.H,
                         n_layer=c.n_layers, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                         attn_implementation="eager")  # fmt: skip
        model = GPT2LMHeadModel(cfg).to(torch.float32)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        ids = torch.randint(0, c.n_vocab, (BATCH, c.n_ctx))
        rates, times = [], []
        for step in range(STEPS + 1):
            rates += [_matmul_rate(a, b) for _ in range(3)]
            t0 = time.perf_counter()
            logits = model(ids).logits[:, :-1]  # (B, T-1, V)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, c.n_vocab), ids[:, 1:].reshape(-1)
            )
            loss.backward()
            opt.step()
            opt.zero_grad()
            if step:  # the first step warms up
                times.append(time.perf_counter() - t0)
        rates += [_matmul_rate(a, b) for _ in range(3)]
    finally:
        torch.set_num_threads(threads)
    return {"peak": max(rates), "tokens_per_s": BATCH * c.n_ctx / min(times),
            "flops_per_token": float(training_flops_per_token(c, c.n_ctx)["total"]),
            "N": float(param_count(c)["total"])}  # fmt: skip


def memory_figure() -> str:
    """Training state, activations and KV cache of GPT-3 on one bar chart, in GB."""
    N = param_count(GPT3)["total"]
    state = training_memory_bytes(N)
    act = activation_table()[:, 0]
    kv = memory_bytes(GPT3, T=2048, dtype_bytes=2)["kv_cache"] / 1e9
    labels = [
        "weights\n(bf16)",
        "gradients",
        "master\n+ Adam",
        "activations\n(none)",
        "activations\n(selective)",
        "activations\n(full)",
        "KV cache\n(inference)",
    ]
    values = [
        state["weights"] / 1e9,
        state["gradients"] / 1e9,
        (state["master"] + state["optimizer"]) / 1e9,
        *act,
        kv,
    ]
    colours = [BLUE, BLUE, BLUE, ORANGE, ORANGE, ORANGE, GREEN]
    fig, ax = new_figure(6.4, 3.4)
    ax.bar(range(len(values)), values, color=colours)
    ax.set_yscale("log")
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_ylabel("GB")
    ax.axhline(80, color=RED, lw=0.8, ls="--")
    ax.text(6.4, 90, "80 GB", color=RED, fontsize=9, ha="right")
    return svg(
        fig,
        alt="Bar chart on a log scale of GPT-3's memory in gigabytes: weights and gradients "
        "about 350 GB each, master copy and Adam moments about 2100 GB, activations of one "
        "2048-token sequence with no, selective and full recomputation, and its KV cache.",
        caption="GPT-3 175B: training state (blue), activations of one sequence of 2048 tokens "
        "(orange) and the KV cache of one sequence at inference (green); the dashed line is one "
        "80 GB accelerator.",
    )


@functools.cache
def tables() -> dict[str, Array]:
    return {
        "compute/flops": flops_table(),
        "compute/memory": memory_table(),
        "compute/zero": zero_table(),
        "compute/activations": activation_table(),
        "compute/kv": kv_table(),
        "compute/parallel": parallel_table(),
    }
