"""Worked examples for "Schedules, clipping and initialisation": every number computed by llmath.

GPT-3's published schedule (Brown et al. 2020) is kept in one place below; the deep-stack
experiment pushes random data through 30 square layers of width 256.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, PURPLE, RED, check, new_figure, svg
from llmath.training.initialization import he_init, xavier_init
from llmath.training.schedules import clip_grad_norm, cosine_schedule

Array = NDArray[np.float64]

# ---------------------------------------------------------------- GPT-3's schedule (published)
# Brown et al. (2020), "Language Models are Few-Shot Learners", Appendix B: linear warmup over
# the first 375 million tokens, cosine decay to 10% of the peak over 260 billion tokens, then
# 10%; 300 billion tokens in all. Table 2.1: GPT-3 Small, learning rate 6.0e-4, batch 0.5M
# tokens. (The paper also ramps the batch size up over the first 4-12 billion tokens; ignored
# here, so that one step is 0.5M tokens throughout.)
GPT3_TOKENS_WARMUP = 375e6
GPT3_TOKENS_DECAY = 260e9
GPT3_TOKENS_TOTAL = 300e9
GPT3_SMALL_LR = 6.0e-4
GPT3_SMALL_BATCH = 0.5e6
GPT3_MIN_FRACTION = 0.1

WARMUP = round(GPT3_TOKENS_WARMUP / GPT3_SMALL_BATCH)  # 750 steps
DECAY_END = round(GPT3_TOKENS_DECAY / GPT3_SMALL_BATCH)  # 520 000 steps
TOTAL = round(GPT3_TOKENS_TOTAL / GPT3_SMALL_BATCH)  # 600 000 steps
GPT3 = {"max_lr": GPT3_SMALL_LR, "warmup_steps": WARMUP, "total_steps": DECAY_END,
        "min_lr": GPT3_MIN_FRACTION * GPT3_SMALL_LR}  # fmt: skip

SCHEDULE_STEPS = (0, 1, WARMUP // 2 - 1, WARMUP - 1, WARMUP, DECAY_END // 4, DECAY_END // 2,
                  DECAY_END - 1, DECAY_END, TOTAL - 1)  # fmt: skip


def gpt3_lr(step: int) -> float:
    return cosine_schedule(step, **GPT3)  # type: ignore[arg-type]


def schedule_table() -> Array:
    """Rows: step, learning rate, learning rate / peak."""
    lrs = np.array([gpt3_lr(s) for s in SCHEDULE_STEPS])
    return np.column_stack([SCHEDULE_STEPS, lrs, lrs / GPT3_SMALL_LR])


def schedule_figure() -> str:
    fig, (ax, bx) = new_figure(7.2, 3.0, ncols=2)
    steps = np.unique(np.r_[np.linspace(0, TOTAL - 1, 301).astype(int), DECAY_END - 1, DECAY_END])
    ax.plot(steps / 1e3, [gpt3_lr(int(s)) * 1e4 for s in steps], color=BLUE, lw=1.4)
    ax.set_xlabel("step (thousands)")
    ax.set_ylabel("η (×10⁻⁴)")
    first = np.arange(0, 2001, 10)
    bx.plot(first, [gpt3_lr(int(s)) * 1e4 for s in first], color=BLUE, lw=1.4)
    bx.axvline(WARMUP, color="#9ca3af", lw=0.6, ls=":")
    bx.set_xlabel("step")
    fig.subplots_adjust(wspace=0.3)
    return svg(
        fig,
        alt="GPT-3 Small's learning-rate schedule: linear warmup then cosine decay",
        caption="GPT-3 Small's schedule at 0.5M tokens per step: linear warmup to 6×10⁻⁴ over "
        "750 steps (375M tokens), cosine decay to 10% of the peak at step 520 000 (260B "
        "tokens), constant after that until step 600 000. Left: the whole run; right: the first "
        "2000 steps, the warmup ending at the dotted line.",
    )


def torch_schedule_check() -> str:
    """cosine_schedule against torch's LinearLR + CosineAnnealingLR (SequentialLR), on a
    shortened copy of GPT-3's shape: 20 warmup steps, decay to 10% by step 200."""
    warm, total, peak = 20, 200, GPT3_SMALL_LR
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=peak)
    sched = torch.optim.lr_scheduler.SequentialLR(
        opt,
        [
            torch.optim.lr_scheduler.LinearLR(
                opt, start_factor=1 / warm, end_factor=1.0, total_iters=warm - 1
            ),
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warm, eta_min=peak / 10),
        ],
        milestones=[warm],
    )
    theirs, ours = [], []
    for s in range(total + 1):
        theirs.append(opt.param_groups[0]["lr"])
        ours.append(
            cosine_schedule(s, max_lr=peak, warmup_steps=warm, total_steps=total, min_lr=peak / 10)
        )
        opt.step()
        sched.step()
    return check(
        "max |cosine_schedule − torch SequentialLR|, 201 steps", ours, theirs, tol=0, rtol=1e-12
    )


# ---------------------------------------------------------------- clipping

MAX_NORM = 1.0


def clip_example() -> list[Array]:
    """Three gradient arrays of different scales: a weight matrix, a bias, an embedding row."""
    rng = np.random.default_rng(5)
    return [rng.normal(size=(2, 3)) * 0.5, np.array([3.0, -4.0]), rng.normal(size=4) * 0.1]


def clip_results() -> dict[str, object]:
    grads = clip_example()
    clipped, total = clip_grad_norm(grads, MAX_NORM)
    ps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(ps, grads, strict=True):
        p.grad = torch.tensor(g)
    ref_total = float(torch.nn.utils.clip_grad_norm_(ps, MAX_NORM))
    ref = [p.grad.numpy() for p in ps]  # type: ignore[union-attr]
    flat, flat_c = (
        np.concatenate([g.ravel() for g in grads]),
        np.concatenate([c.ravel() for c in clipped]),
    )
    by_value = np.clip(flat, -MAX_NORM, MAX_NORM)
    per_array = np.concatenate([c.ravel() for g in grads for c in clip_grad_norm([g], MAX_NORM)[0]])

    def cos(a: Array, b: Array) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    return {
        "norms": [float(np.linalg.norm(g)) for g in grads],
        "total": total,
        "clipped_norm": float(np.linalg.norm(flat_c)),
        "checks": [
            check("|global norm − torch|", total, ref_total, tol=1e-14),
            check(
                "max |clipped − torch clip_grad_norm_|",
                flat_c,
                np.concatenate([r.ravel() for r in ref]),
                tol=1e-15,
            ),
        ],
        "table": np.array(
            [
                [np.linalg.norm(flat_c), cos(flat_c, flat)],
                [np.linalg.norm(per_array), cos(per_array, flat)],
                [np.linalg.norm(by_value), cos(by_value, flat)],
            ]
        ),
    }


# ---------------------------------------------------------------- initialisation: a deep stack

DEPTH, WIDTH, BATCH = 30, 256, 128
SCALES = (0.5, 1.0, 2.0, 4.0)  # fan_in · Var(w)
SCALE_NAMES = ("too small: 0.5/n", "Xavier: 1/n", "He: 2/n", "too large: 4/n")
COLORS = (PURPLE, BLUE, GREEN, RED)


def weights(scale: float, rng: np.random.Generator) -> Array:
    """One square layer with fan_in · Var(w) = scale: xavier_init with the matching gain
    (Xavier's own variance is 1/n for a square layer; He's is 2/n, drawn with he_init)."""
    if scale == 2.0:
        return he_init(WIDTH, WIDTH, rng=rng)
    return xavier_init(WIDTH, WIDTH, rng=rng, gain=math.sqrt(scale))


def one_blas_thread() -> Any:
    """Small matrix products run fastest on one BLAS thread (two threads on a busy two-core
    machine spin against each other, ten times slower); threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - then numpy's own threading stays
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@functools.cache
def deep_stack(activation: str) -> dict[str, Array]:
    with one_blas_thread():
        return _deep_stack(activation)


def _deep_stack(activation: str) -> dict[str, Array]:
    """Push BATCH standard-normal inputs through DEPTH layers x ← act(x W) for each scale, then
    a standard-normal gradient back from the top. Returns per-layer E[x²] of the activations
    (DEPTH + 1 values, input first) and Var of the gradient with respect to each layer's input
    (DEPTH + 1 values, input first), one row per scale."""
    act, dact = {
        "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.float64)),
        "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    }[activation]
    forward, backward = [], []
    for i, scale in enumerate(SCALES):
        rng = np.random.default_rng(100 + i)
        x = rng.normal(size=(BATCH, WIDTH))  # (B, D)
        ws, zs, sq = [], [], [float(np.mean(x**2))]
        for _ in range(DEPTH):
            w = weights(scale, rng)
            z = x @ w  # (B, D)
            x = act(z)
            ws.append(w)
            zs.append(z)
            sq.append(float(np.mean(x**2)))
        g = rng.normal(size=(BATCH, WIDTH))  # dL/dx at the top, (B, D)
        var = [float(np.var(g))]
        for w, z in zip(reversed(ws), reversed(zs), strict=True):
            g = (g * dact(z)) @ w.T  # (B, D): dL/dx of the layer below
            var.append(float(np.var(g)))
        forward.append(sq)
        backward.append(var[::-1])
    return {"forward": np.array(forward), "backward": np.array(backward)}


def factor_table() -> Array:
    """ReLU: per-layer factor of E[x²] forward and of Var(∂x) backward (geometric mean over the
    30 layers) against the prediction scale/2, and log10 E[x²] after 30 layers against
    30 log10(scale/2)."""
    r = deep_stack("relu")
    rows = []
    for i, scale in enumerate(SCALES):
        fwd = (r["forward"][i, -1] / r["forward"][i, 0]) ** (1 / DEPTH)
        bwd = (r["backward"][i, 0] / r["backward"][i, -1]) ** (1 / DEPTH)
        end = math.log10(r["forward"][i, -1])
        rows.append([scale / 2, fwd, bwd, end, DEPTH * math.log10(scale / 2)])
    return np.array(rows)


def tanh_table() -> Array:
    """tanh: log10 E[x²] after 1, 10 and 30 layers, and log10 of the gradient variance at the
    input, per scale."""
    t = deep_stack("tanh")
    return np.log10(np.column_stack([t["forward"][:, [1, 10, DEPTH]], t["backward"][:, 0]]))


def init_figure() -> str:
    fig, axes = new_figure(7.2, 5.6, nrows=2, ncols=2, sharex=True)
    layers = np.arange(DEPTH + 1)
    for row, activation in enumerate(("relu", "tanh")):
        r = deep_stack(activation)
        for i, (name, color) in enumerate(zip(SCALE_NAMES, COLORS, strict=True)):
            axes[row, 0].semilogy(layers, r["forward"][i], color=color, lw=1.3, label=name)
            axes[row, 1].semilogy(layers, r["backward"][i], color=color, lw=1.3)
        axes[row, 0].set_ylabel(f"{activation}: E[x²]")
        axes[row, 1].set_ylabel(f"{activation}: Var(∂L/∂x)")
    for ax in axes[1]:
        ax.set_xlabel("layer")
    fig.subplots_adjust(wspace=0.4, hspace=0.15)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=2,
               bbox_to_anchor=(0.5, -0.07), frameon=False, fontsize=9)  # fmt: skip
    return svg(
        fig,
        alt="Activation and gradient variance per layer in a 30-layer stack, four initialisations",
        caption="128 random inputs through 30 square layers of width 256, x ← act(xW), with "
        "fan_in·Var(w) = 0.5, 1 (Xavier), 2 (He) and 4; log scale. Left: the mean square of "
        "the activations after each layer; right: the variance of the gradient with respect to "
        "each layer's input, sent back from a standard-normal gradient at the top. Top: ReLU, "
        "where only He keeps both flat. Bottom: tanh, which saturates instead of exploding.",
    )


# ---------------------------------------------------------------- exercises


def exercise_gpt3() -> tuple[float, float, int]:
    """The learning rate at the end of warmup + 100 000 steps and at 75% of the decay, and the
    first step at which the learning rate falls below half the peak."""
    lr_a = gpt3_lr(WARMUP + 100_000)
    lr_b = gpt3_lr(WARMUP + (DECAY_END - WARMUP) * 3 // 4)
    lo, hi = WARMUP, DECAY_END
    while lo < hi:  # the schedule decreases after the warmup: bisect
        mid = (lo + hi) // 2
        if gpt3_lr(mid) < GPT3_SMALL_LR / 2:
            hi = mid
        else:
            lo = mid + 1
    return lr_a, lr_b, lo


def exercise_rectangular() -> Array:
    """A 256 → 1024 layer with Xavier: forward factor fan_in·Var(w), backward fan_out·Var(w),
    predicted and measured on 4096 linear samples."""
    n_in, n_out = 256, 1024
    rng = np.random.default_rng(9)
    w = xavier_init(n_in, n_out, rng=rng)
    x = rng.normal(size=(4096, n_in))
    gy = rng.normal(size=(4096, n_out))
    return np.array(
        [
            [n_in * 2 / (n_in + n_out), float(np.mean((x @ w) ** 2))],
            [n_out * 2 / (n_in + n_out), float(np.mean((gy @ w.T) ** 2))],
        ]
    )


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "schedules/gpt3": schedule_table()[:, 1:],
        "schedules/clip": clip_results()["table"],  # type: ignore[dict-item]
        "schedules/relu-factors": factor_table(),
        "schedules/tanh": tanh_table(),
        "schedules/ex-rectangular": exercise_rectangular(),
    }
