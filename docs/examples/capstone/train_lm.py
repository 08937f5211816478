"""Worked examples for "A language model trained from scratch": bits per byte against n-gram
baselines, samples from the trained model, its attention patterns, and the torch twin's check.

The data, tokenizer, model, training run and evaluation are in examples.capstone.lm_run; this
module caches the run and the comparison with @persistent (keyed by lm_run's source too).
Every number on the page is computed by llmath while the page is built.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.cached import persistent
from examples.capstone.lm_run import (
    CONFIG,
    SEED,
    STEPS,
    Run,
    compare,
    run,
    tokenizer,
)
from llmath import (
    causal_mask,
    decoder_block,
    embed,
    forward,
    generate,
    layer_norm,
    scaled_dot_product_attention,
    split_heads,
)

Array = NDArray[np.float64]


# ---- evaluation: bits per byte, the n-gram baseline ---------------------------------------


@cache  # once per process, also when the build cache is off
@persistent
def trained() -> Run:
    """The page's run, lm_run.run(STEPS), cached between builds."""
    return run(STEPS)


@cache  # once per process, also when the build cache is off
@persistent
def comparison() -> dict[str, dict[str, float]]:
    """Bits per byte and nats per token: untrained, trained and n-gram models (cached)."""
    return compare(trained().params)


# ---- samples and attention -----------------------------------------------------------------

PROMPT = "Return the"
SAMPLE_SETTINGS = ((0.0, None), (0.7, None), (1.0, None), (1.0, 0.9))


def samples(max_new_tokens: int = 40) -> list[dict[str, Any]]:
    """Continuations of PROMPT: greedy, two temperatures and nucleus sampling."""
    tok, p = tokenizer(), trained().params
    prompt = tok.encode(PROMPT)
    out = []
    for i, (tau, top_p) in enumerate(SAMPLE_SETTINGS):
        ids = generate(p, prompt, config=CONFIG, max_new_tokens=max_new_tokens, temperature=tau,
                       top_p=top_p, rng=np.random.default_rng(SEED + i))  # fmt: skip
        out.append({"tau": tau, "top_p": top_p, "ids": ids, "text": tok.decode(ids)})
    return out


ATTENTION_TEXT = "Return a new list containing the items of the iterable, in order."


def attention_maps(text: str = ATTENTION_TEXT) -> dict[str, Any]:
    """Every head's causal attention weights in both layers of the trained model, on `text`."""
    p, c = trained().params, CONFIG
    ids = np.array(tokenizer().encode(text))[: c.n_ctx]
    T = len(ids)
    x = embed(ids, p.wte) + p.wpe[:T]  # type: ignore[index]
    maps = []
    for layer in p.layers:
        n1, _ = layer_norm(x, layer.ln1_gamma, layer.ln1_beta, eps=c.eps)  # type: ignore[arg-type]
        q = split_heads(n1 @ layer.w_q + layer.b_q, c.H)  # (H, T, dk)
        k = split_heads(n1 @ layer.w_k + layer.b_k, c.H)  # (H, T, dk)
        v = split_heads(n1 @ layer.w_v + layer.b_v, c.H)  # (H, T, dk)
        maps.append(scaled_dot_product_attention(q, k, v, causal_mask(T)).weights)  # (H, T, T)
        x = decoder_block(x, layer, config=c)  # (T, D): the next layer's input
    logits, _ = forward(p, ids, config=c)
    final = layer_norm(x, p.lnf_gamma, p.lnf_beta, eps=c.eps)[0] @ p.wte.T  # type: ignore[arg-type]
    tokens = [tokenizer().decode([int(i)]) for i in ids]
    return {"maps": np.stack(maps), "tokens": tokens, "check": float(np.abs(final - logits).max())}


def head_scores() -> Array:
    """Per layer and head: mean weight on the previous token and on the first token."""
    a = attention_maps()["maps"]  # (N, H, T, T)
    T = a.shape[-1]
    prev = np.stack([a[..., t, t - 1] for t in range(1, T)], axis=-1).mean(axis=-1)
    first = a[..., 1:, 0].mean(axis=-1)
    return np.stack([prev, first], axis=-1)  # (N, H, 2)


# ---- figures and tables --------------------------------------------------------------------


def loss_figure() -> str:
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    r, c = trained(), comparison()
    steps = np.arange(1, len(r.train_loss) + 1)
    fig, ax = new_figure(6.0, 3.4)
    ax.plot(steps[::2], r.train_loss[::2], color=BLUE, lw=1, alpha=0.8, label="training batch")
    ax.plot(r.val_steps, r.val_loss, "o-", color=ORANGE, ms=4, label="validation")
    for label, ls in (("unigram, k = 0.1", ":"), ("bigram, k = 0.1", "--")):
        ax.axhline(c[label]["per_token"], color=GREEN, ls=ls, lw=1.2, label=label.split(",")[0])
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per token)")
    ax.legend(frameon=False, fontsize=10)
    return svg(fig, alt="Training and validation loss falling from 6.6 towards 4.5 nats per token",
               caption="Loss per token during training: every other training batch, the fixed "
               "validation windows every 50 steps, and Part 3's unigram and bigram models on "
               "the same tokens of the validation text (green).")  # fmt: skip


def attention_figure() -> str:
    from examples.show import new_figure, svg

    am = attention_maps()
    a, tokens = am["maps"], am["tokens"]
    N, H = a.shape[:2]
    fig, axes = new_figure(7.2, 3.8, nrows=N, ncols=H)
    for n in range(N):
        for h in range(H):
            ax = axes[n, h]
            ax.imshow(a[n, h], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"layer {n + 1}, head {h + 1}", fontsize=9)
    return svg(fig, alt="Eight lower-triangular attention maps of the trained model",
               caption=f"The trained model's attention on “{ATTENTION_TEXT}” "
               f"({len(tokens)} tokens): row t is query t's distribution over tokens 1..t.")  # fmt: skip


def comparison_table() -> Array:
    c = comparison()
    return np.array([[v["bpb"], v["per_token"]] for v in c.values()])


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {"train-lm/compare": comparison_table(), "train-lm/heads": head_scores().reshape(-1, 2)}


def cache_vs_recompute(n: int) -> dict[str, Any]:
    """Greedy tokens from generate (KV cache) and from forward on the whole prefix each step,
    and the largest difference between the logits with and without the cache."""
    p = trained().params
    prompt = np.array(tokenizer().encode(PROMPT))
    cached = generate(p, prompt, config=CONFIG, max_new_tokens=n, temperature=0,
                      rng=np.random.default_rng(SEED))  # fmt: skip
    ids = prompt
    for _ in range(n):  # no cache: the whole prefix every step
        logits, _ = forward(p, ids, config=CONFIG)
        ids = np.append(ids, int(np.argmax(logits[-1])))
    full, _ = forward(p, cached[:-1], config=CONFIG)  # (T, nV) in one pass
    step, kv = forward(p, cached[: len(prompt)], config=CONFIG)
    rows = [step]
    for t in range(len(prompt), len(cached) - 1):  # one token at a time, with the cache
        step, kv = forward(p, cached[t : t + 1], config=CONFIG, cache=kv)
        rows.append(step)
    diff = float(np.abs(np.concatenate(rows) - full).max())
    return {"equal": bool(np.array_equal(ids, cached)), "n": n, "max_diff": diff}


def crossings() -> dict[str, int | None]:
    """The first validation step at which the loss is below each n-gram's (None: never)."""
    r, c = trained(), comparison()
    out: dict[str, int | None] = {}
    for label in ("unigram, k = 0.1", "bigram, k = 0.1"):
        below = np.flatnonzero(r.val_loss < c[label]["per_token"])
        out[label] = int(r.val_steps[below[0]]) if below.size else None
    return out
