"""Time llmath against torch (CPU, float64) on the same work: attention, a block, a training step.

    .venv/bin/python tools/bench_training.py [--repeats 15] [--threads N]

Each row runs the llmath version and its torch twin alternately, `--repeats` times each (every
timing the best of a few back-to-back calls, to smooth out a busy machine), and prints the
medians and their ratio. Both libraries get the same number of threads: numpy's effective BLAS
threads (threadpoolctl), or `--threads`, set in torch with `torch.set_num_threads`.

Rows, at the end-to-end chapter's shapes (`docs/examples/training/end_to_end.py`) and at a
medium size:

* attention forward: Part 1's `multi_head_attention` with a causal mask vs the same projections
  and `torch.nn.functional.scaled_dot_product_attention(is_causal=True)`, no autograd;
* block forward + backward: Part 2's `block_forward` + `block_backward` vs torch autograd on the
  same block (layer norm, causal attention, exact GELU MLP);
* training step: `train_step` (loss, gradients, clipping, AdamW) vs the same model written in
  torch ops, `loss.backward()`, `clip_grad_norm_` and `torch.optim.AdamW` — and vs Hugging
  Face's `GPT2LMHeadModel` with the same weights.

The figures go in the closing note, not in a timed test: the machine is shared. With more
threads than idle cores, both libraries' thread pools spin against the other processes and the
timings become noise: the header prints the load average; on a busy machine use `--threads 1`.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

import llmath  # noqa: E402
from llmath.transformer.model import ModelConfig, init  # noqa: E402

torch.set_default_dtype(torch.float64)
F = torch.nn.functional


def _best_of(fn: Callable[[], object], n: int) -> float:
    best = math.inf
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def compare(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median seconds of each, measured alternately (warm-up first)."""
    for _ in range(3):
        ours(), theirs()
    a, b = [], []
    for _ in range(repeats):
        a.append(_best_of(ours, 3))
        b.append(_best_of(theirs, 3))
    return statistics.median(a), statistics.median(b)


# ---- attention forward ----------------------------------------------------------------------


def attention_case(
    B: int, T: int, D: int, H: int
) -> tuple[Callable[[], object], Callable[[], object]]:
    r = np.random.default_rng(0)
    x = r.normal(size=(B, T, D))
    ws = [r.normal(size=(D, D)) / math.sqrt(D) for _ in range(4)]
    mask = llmath.causal_mask(T)
    xt, wt = torch.from_numpy(x), [torch.from_numpy(w) for w in ws]
    wqkv = torch.cat(wt[:3], dim=1)

    def ours() -> object:
        return llmath.multi_head_attention(x, *ws, num_heads=H, mask=mask).output

    def theirs() -> object:
        with torch.no_grad():
            q, k, v = (xt @ wqkv).split(D, dim=-1)
            q, k, v = (a.view(B, T, H, D // H).transpose(1, 2) for a in (q, k, v))
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return o.transpose(1, 2).reshape(B, T, D) @ wt[3]

    np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-10, atol=1e-12)  # type: ignore[attr-defined]
    return ours, theirs


# ---- block forward + backward -----------------------------------------------------------------


def block_case(
    B: int, T: int, D: int, H: int, approximate: str = "tanh"
) -> tuple[Callable[[], object], Callable[[], object]]:
    r = np.random.default_rng(1)
    Fw = 4 * D
    p = llmath.BlockParams(
        1 + 0.1 * r.normal(size=D), 0.1 * r.normal(size=D),
        *(r.normal(size=(D, D)) / math.sqrt(D) for _ in range(4)),
        1 + 0.1 * r.normal(size=D), 0.1 * r.normal(size=D),
        r.normal(size=(D, Fw)) / math.sqrt(D), 0.1 * r.normal(size=Fw),
        r.normal(size=(Fw, D)) / math.sqrt(Fw), 0.1 * r.normal(size=D),
    )  # fmt: skip
    x = r.normal(size=(B, T, D))
    dout = r.normal(size=(B, T, D))
    pt = [torch.from_numpy(a.copy()).requires_grad_() for a in p]
    xt = torch.from_numpy(x.copy()).requires_grad_()
    dt = torch.from_numpy(dout)

    def ours() -> object:
        _, cache = llmath.block_forward(x, p, num_heads=H, approximate=approximate)
        return llmath.block_backward(dout, cache)

    def theirs() -> object:
        g1, b1, wq, wk, wv, wo, g2, b2, w1, c1, w2, c2 = pt
        for t in (*pt, xt):
            t.grad = None
        n1 = F.layer_norm(xt, (D,), g1, b1)
        q, k, v = (torch.cat([wq, wk, wv], dim=1).__rmatmul__(n1)).split(D, dim=-1)
        q, k, v = (a.view(B, T, H, D // H).transpose(1, 2) for a in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = xt + o.transpose(1, 2).reshape(B, T, D) @ wo
        u = F.layer_norm(h, (D,), g2, b2) @ w1 + c1
        out = h + F.gelu(u, approximate=approximate) @ w2 + c2
        out.backward(dt)
        return xt.grad

    dx, _ = ours()  # type: ignore[misc]
    np.testing.assert_allclose(dx, theirs().numpy(), rtol=1e-9, atol=1e-10)  # type: ignore[attr-defined]
    return ours, theirs


# ---- training step --------------------------------------------------------------------------


def torch_model_loss(ts: list[torch.Tensor], c: ModelConfig, ids: torch.Tensor) -> torch.Tensor:
    """GPT-2's layout in torch ops, on tensors in the order of `llmath.parameters`."""
    wte, wpe, *rest = ts
    lnf_g, lnf_b = rest[-2:]
    D, H = c.D, c.H
    inp, tgt = ids[:, :-1], ids[:, 1:]
    B, T = inp.shape
    x = wte[inp] + wpe[:T]
    for i in range(c.n_layers):
        g1, b1, wq, wk, wv, wo, bq, bk, bv, bo, g2, b2, w1, c1, w2, c2 = rest[16 * i : 16 * i + 16]
        n1 = F.layer_norm(x, (D,), g1, b1, eps=c.eps)
        qkv = n1 @ torch.cat([wq, wk, wv], dim=1) + torch.cat([bq, bk, bv])
        q, k, v = (a.view(B, T, H, D // H).transpose(1, 2) for a in qkv.split(D, dim=-1))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + o.transpose(1, 2).reshape(B, T, D) @ wo + bo
        n2 = F.layer_norm(x, (D,), g2, b2, eps=c.eps)
        x = x + F.gelu(n2 @ w1 + c1, approximate="tanh") @ w2 + c2
    logits = F.layer_norm(x, (D,), lnf_g, lnf_b, eps=c.eps) @ wte.T
    return F.cross_entropy(logits.reshape(-1, c.n_vocab), tgt.reshape(-1))


def step_case(
    c: ModelConfig, B: int, T: int, hf: bool = False
) -> tuple[Callable[[], object], Callable[[], object]]:
    p = init(c, np.random.default_rng(2))
    ids = np.random.default_rng(3).integers(0, c.n_vocab, size=(B, T + 1))
    opt = llmath.AdamW(llmath.parameters(p), lr=1e-3, weight_decay=0.1)
    idt = torch.from_numpy(ids)
    if hf:
        from transformers import GPT2Config, GPT2LMHeadModel

        cfg = GPT2Config(n_layer=c.n_layers, n_head=c.H, n_embd=c.D, vocab_size=c.n_vocab,
                         n_positions=c.n_ctx, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                         attn_implementation="sdpa")  # fmt: skip
        model = GPT2LMHeadModel(cfg).double()
        params = list(model.parameters())

        def loss_fn() -> torch.Tensor:
            logits = model(idt[:, :-1]).logits
            return F.cross_entropy(logits.reshape(-1, c.n_vocab), idt[:, 1:].reshape(-1))

    else:
        params = [torch.from_numpy(a.copy()).requires_grad_() for a in llmath.parameters(p)]

        def loss_fn() -> torch.Tensor:
            return torch_model_loss(params, c, idt)

    topt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.1)

    def ours() -> object:
        return llmath.train_step(p, ids, opt, config=c, lr=1e-3, max_norm=1.0)

    def theirs() -> object:
        topt.zero_grad()
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        topt.step()
        return loss.item()

    if not hf:
        assert abs(float(ours()[0]) - float(theirs())) < 1e-10  # type: ignore[index, arg-type]
    return ours, theirs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    n = args.threads or (blas[0] if blas else 1)
    torch.set_num_threads(n)
    from examples.training.end_to_end import BATCH, CONFIG

    small = (BATCH, CONFIG.n_ctx, CONFIG.D, CONFIG.H)
    medium = (8, 128, 128, 4)
    rows = [
        (f"attention forward {small}", attention_case(*small)),
        (f"attention forward {medium}", attention_case(*medium)),
        (f"block fwd+bwd {small}", block_case(*small)),
        (f"block fwd+bwd {medium}", block_case(*medium)),
        (f"  the same, exact GELU {medium}", block_case(*medium, approximate="none")),
        ("training step, end-to-end model", step_case(CONFIG, BATCH, CONFIG.n_ctx)),
        ("  the same vs HF GPT2LMHeadModel", step_case(CONFIG, BATCH, CONFIG.n_ctx, hf=True)),
        (
            "training step, D=128 T=64 B=8",
            step_case(ModelConfig(n_vocab=512, n_ctx=64, D=128, H=4, n_layers=2), 8, 64),
        ),
    ]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"threads: numpy (BLAS) {n}, torch {torch.get_num_threads()}; medians of "
          f"{args.repeats}; load average {load} on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'work (B, T, D, H)':40s} {'llmath ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    with threadpool_limits(n, user_api="blas"):
        for name, (ours, theirs) in rows:
            a, b = compare(ours, theirs, args.repeats)
            print(f"{name:40s} {a * 1e3:10.3f} {b * 1e3:10.3f} {a / b:7.2f}", flush=True)


if __name__ == "__main__":
    main()
