"""Worked examples for "The whole model": a tiny decoder-only LM, the masks, the KV cache, and
GPT-2 from Hugging Face transformers as the oracle (float64, random weights from a seed).

Every number on the page is computed here, by llmath, while the page is built.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llmath import (
    BlockParams,
    ModelConfig,
    ModelParams,
    block_forward,
    causal_mask,
    cross_entropy,
    decoder_block,
    embed,
    forward,
    gpt2_params_from_state,
    greedy,
    init,
    layer_norm,
    next_token_loss,
    param_count,
    scaled_dot_product_attention,
    softmax,
)

Array = NDArray[np.float64]
SEED = 2019
TINY = ModelConfig(n_vocab=50, n_ctx=16, D=16, H=2, n_layers=2)  # the page's worked example
PROMPT = np.array([3, 14, 15, 9, 26])
GEN = ModelConfig(n_vocab=50, n_ctx=128, D=16, H=2, n_layers=2)  # long context for the cost
N_GEN = 120  # tokens generated for the cost figure
HF_SHAPE = {"n_layer": 2, "n_head": 4, "n_embd": 32, "vocab_size": 101, "n_positions": 64}
HF_CFG = ModelConfig(n_vocab=101, n_ctx=64, D=32, H=4, n_layers=2)
HF_LENGTHS = (8, 33, 64)  # the sequences compared with transformers
GPT2_SMALL = ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12)


@cache
def tiny_params() -> ModelParams:
    return init(TINY, np.random.default_rng(SEED))


@cache
def walk() -> dict[str, Any]:
    """The forward pass of the tiny model on PROMPT, one stage at a time, with public pieces."""
    p, T = tiny_params(), len(PROMPT)
    x = embed(PROMPT, p.wte) + p.wpe[:T]  # type: ignore[index]
    stream = [x]
    for layer in p.layers:
        stream.append(decoder_block(stream[-1], layer, config=TINY))
    final, _ = layer_norm(stream[-1], p.lnf_gamma, p.lnf_beta)  # type: ignore[arg-type]
    logits = final @ p.wte.T  # (T, nV): tied unembedding
    probs = softmax(logits, axis=-1)
    whole, _ = forward(p, PROMPT, config=TINY)
    top = np.argsort(-probs[-1])[:5]
    return {"stream": stream, "logits": logits, "probs": probs, "forward": whole, "top": top}


def top_table() -> Array:
    """The five most likely next tokens after PROMPT: id, probability."""
    w = walk()
    return np.array([[i, w["probs"][-1, i]] for i in w["top"]])


def loss_at_init() -> dict[str, float]:
    """next_token_loss on a seeded sequence, Part 2's cross_entropy on shifted targets, log nV."""
    ids = np.random.default_rng(SEED + 1).integers(0, TINY.n_vocab, size=TINY.n_ctx)
    p = tiny_params()
    logits, _ = forward(p, ids[:-1], config=TINY)
    return {
        "loss": next_token_loss(p, ids, config=TINY),
        "part2": cross_entropy(logits, ids[1:]),
        "log_nV": float(np.log(TINY.n_vocab)),
    }


# ---- masks -------------------------------------------------------------------------------------


def masks(T: int = 4, S: int = 5) -> dict[str, NDArray[np.bool_]]:
    """Decoder-only (causal), encoder-only (full), and encoder-decoder cross-attention masks."""
    return {
        "causal": causal_mask(T),
        "full": np.ones((T, T), dtype=bool),
        "cross": np.ones((T, S), dtype=bool),
    }


def mask_demo() -> dict[str, float]:
    """Change the last token's key and value: how much do the outputs of tokens 1..T-1 move?"""
    rng = np.random.default_rng(SEED + 2)
    q, k, v = rng.standard_normal((3, 4, 8))
    k2, v2 = k.copy(), v.copy()
    k2[-1], v2[-1] = rng.standard_normal((2, 8))
    out = {}
    for name in ("causal", "full"):
        m = masks()[name]
        a = scaled_dot_product_attention(q, k, v, m).output
        b = scaled_dot_product_attention(q, k2, v2, m).output
        out[name] = float(np.abs(a[:-1] - b[:-1]).max())
    return out


# ---- Part 2's block ----------------------------------------------------------------------------


def block_vs_part2() -> dict[str, float]:
    """The model's block against Part 2's block_forward: equal with zero attention biases."""
    cfg = ModelConfig(n_vocab=5, n_ctx=8, D=8, H=2, n_layers=1, activation="gelu")
    rng = np.random.default_rng(SEED + 3)
    layer = init(cfg, rng).layers[0]
    layer = layer._replace(
        ln1_beta=0.1 * rng.standard_normal(8),
        ln2_beta=0.1 * rng.standard_normal(8),
        mlp=layer.mlp._replace(b_in=0.1 * rng.standard_normal(32)),
    )
    x = rng.standard_normal((6, 8))
    bp = BlockParams(
        layer.ln1_gamma, layer.ln1_beta, layer.w_q, layer.w_k, layer.w_v, layer.w_o,
        layer.ln2_gamma, layer.ln2_beta, layer.mlp.w_in, layer.mlp.b_in, layer.mlp.w_out,
        layer.mlp.b_out,
    )  # fmt: skip
    part2, _ = block_forward(x, bp, num_heads=cfg.H)
    ours = decoder_block(x, layer, config=cfg)
    biased = decoder_block(x, layer._replace(b_v=0.1 * np.ones(8)), config=cfg)
    return {
        "diff": float(np.abs(ours - part2).max()),
        "biased": float(np.abs(biased - part2).max()),
    }


# ---- generation with and without a KV cache ----------------------------------------------------


def generate(
    params: ModelParams, prompt: Array, n: int, *, config: ModelConfig, use_cache: bool
) -> dict[str, Any]:
    """Greedy generation of n tokens. Per step: the logits used, and the work done, read off
    the shapes: positions pushed through the blocks (T) and attention scores (N H T S)."""
    ids = [int(i) for i in prompt]
    kv, rows, positions, scores = None, [], [], []
    for _ in range(n):
        new = ids[-1:] if (use_cache and kv is not None) else ids
        logits, kv = forward(params, new, config=config, cache=kv if use_cache else None)
        T, S = logits.shape[-2], kv.keys[0].shape[-2]
        rows.append(logits[-1])
        positions.append(T)
        scores.append(config.n_layers * config.H * T * S)
        ids.append(int(greedy(logits[-1])))
    return {
        "ids": np.array(ids),
        "logits": np.array(rows),
        "positions": np.cumsum(positions),
        "scores": np.cumsum(scores),
    }


@cache
def cache_runs() -> tuple[dict[str, Any], dict[str, Any]]:
    """(without cache, with cache) for N_GEN greedy tokens after a one-token prompt."""
    p = init(GEN, np.random.default_rng(SEED + 4))
    prompt = np.array([7])
    return (
        generate(p, prompt, N_GEN, config=GEN, use_cache=False),
        generate(p, prompt, N_GEN, config=GEN, use_cache=True),
    )


def cost_table() -> Array:
    """Rows n = 10, 40, 120 generated tokens; positions and attention scores, without/with."""
    plain, cached = cache_runs()
    return np.array(
        [
            [n, plain["positions"][n - 1], cached["positions"][n - 1],
             plain["scores"][n - 1], cached["scores"][n - 1]]
            for n in (10, 40, 120)
        ]
    )  # fmt: skip


# ---- GPT-2 from Hugging Face transformers ------------------------------------------------------


@cache
def hf_model() -> Any:
    """A GPT2LMHeadModel of HF_SHAPE, random float32 weights from torch.manual_seed(0) (as a
    user would build it), converted to float64, in eval mode."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(**HF_SHAPE, attn_implementation="eager")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # the same weights whatever the caller's default
    try:
        torch.manual_seed(0)
        model = GPT2LMHeadModel(config)
    finally:
        torch.set_default_dtype(default)
    return model.double().eval()


@cache
def hf_params() -> ModelParams:
    """The same weights in llmath's structure, read from the state dict's numpy arrays."""
    state = {name: t.numpy() for name, t in hf_model().state_dict().items()}
    return gpt2_params_from_state(state, HF_CFG)


def _hf_run(ids: NDArray[np.int64]) -> tuple[Array, list[Array]]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a fixed summation order: the same digits on every build
    try:
        with torch.no_grad():
            out = hf_model()(torch.from_numpy(ids[None]), output_hidden_states=True)
    finally:
        torch.set_num_threads(threads)
    return out.logits[0].numpy(), [h[0].numpy() for h in out.hidden_states]


@cache
def hf_comparison() -> dict[str, Any]:
    """Per sequence: T, max |logit|, max |llmath - transformers| in units of 1e-16; and the
    largest difference in the residual stream entering each block."""
    rng = np.random.default_rng(SEED + 5)
    rows, pairs, stream_diff = [], [], 0.0
    p = hf_params()
    for T in HF_LENGTHS:
        ids = rng.integers(0, HF_CFG.n_vocab, size=T)
        ref, hidden = _hf_run(ids)
        ours, _ = forward(p, ids, config=HF_CFG)
        rows.append([T, np.abs(ref).max(), np.abs(ours - ref).max() / 1e-16])
        pairs.append((ours, ref))
        x = embed(ids, p.wte) + p.wpe[:T]  # type: ignore[index]
        for layer, h in zip(p.layers, hidden[:-1], strict=False):
            stream_diff = max(stream_diff, float(np.abs(x - h).max()))
            x = decoder_block(x, layer, config=HF_CFG)
    n_ours = sum(np.size(a) for a in _leaves(p))
    return {"rows": np.array(rows), "pairs": pairs, "stream": stream_diff, "n_ours": n_ours}


def _leaves(tree: object) -> list[Array]:
    if isinstance(tree, tuple):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [] if tree is None else [np.asarray(tree)]


def hf_num_parameters() -> dict[str, int]:
    """num_parameters() of transformers' GPT-2 small (on the meta device: shapes, no weights)
    and of the page's small GPT-2, against llmath's counts."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.device("meta"):
        small = GPT2LMHeadModel(GPT2Config()).num_parameters()
    return {
        "hf_gpt2_small": small,
        "llmath_gpt2_small": param_count(GPT2_SMALL)["total"],
        "hf_tiny": hf_model().num_parameters(),
        "llmath_tiny": hf_comparison()["n_ours"],
    }


def tying_saving() -> dict[str, int]:
    """Exercise: the parameters tying saves in GPT-2 small."""
    untied = ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12, tie_embeddings=False)
    return {
        "tied": param_count(GPT2_SMALL)["total"],
        "untied": param_count(untied)["total"],
    }


def llama_like_cache() -> float:
    """Exercise: the KV-cache equality for RMSNorm, SwiGLU, no positions, no biases, untied."""
    cfg = ModelConfig(n_vocab=50, n_ctx=16, D=16, H=4, n_layers=2, F=40, activation="swiglu",
                      norm="rms", positions="none", bias=False, tie_embeddings=False)  # fmt: skip
    p = init(cfg, np.random.default_rng(SEED + 6))
    ids = np.random.default_rng(SEED + 7).integers(0, 50, size=12)
    full, _ = forward(p, ids, config=cfg)
    a, kv = forward(p, ids[:5], config=cfg)
    b, kv = forward(p, ids[5:9], config=cfg, cache=kv)
    c, _ = forward(p, ids[9:], config=cfg, cache=kv)
    return float(np.abs(np.concatenate([a, b, c]) - full).max())


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    m = masks()
    return {
        "model/top": top_table()[:, 1:].T,
        "model/mask-causal": m["causal"].astype(float),
        "model/mask-full": m["full"].astype(float),
        "model/mask-cross": m["cross"].astype(float),
        "model/cost": cost_table(),
        "model/gpt2": hf_comparison()["rows"],
    }
