"""Worked examples for "Before transformers": the RNN's dependency chain, its Jacobian product,
the cost of recurrence against attention, and the Markov property of a fixed context window.

Every number is computed by llmath; FlopCounterMode (torch) is the independent witness for the
multiply-add counts.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, new_figure, svg
from llmath import (
    BlockParams,
    block_forward,
    causal_mask,
    rnn_backward,
    rnn_forward,
    rnn_vs_attention_macs,
)
from llmath.attention.softmax import softmax
from llmath.calculus.activations import tanh_grad
from llmath.calculus.attention_grad import (
    multi_head_attention_backward,
    multi_head_attention_forward,
)

Array = NDArray[np.float64]

# ---- the recurrence -----------------------------------------------------------------------------
DH, N, T_MAX, SEED = 16, 16, 60, 10
RHOS = (0.9, 1.5, 3.0)
T_SHOWN = (2, 10, 30, 60)
T_CHECK = 30  # the length at which the Jacobian product is checked against rnn_backward
PERTURBED = 5  # the input changed in the dependency experiment
T_DEP = 8


@functools.cache
def _inputs(rho: float) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(SEED)
    w_hh = rng.standard_normal((DH, DH))  # (D, D)
    w_hh *= rho / np.abs(np.linalg.eigvals(w_hh)).max()  # spectral radius exactly rho
    w_xh = rng.standard_normal((N, DH)) / math.sqrt(N)  # (N, D)
    x = rng.standard_normal((T_MAX, N))  # (T, N)
    return x, w_xh, w_hh


def dependency() -> Array:
    """|h_t(x with x_5 changed) - h_t(x)| for t = 1..T_DEP: zero before step 5, nonzero after."""
    x, w_xh, w_hh = _inputs(1.5)
    h, _ = rnn_forward(x[:T_DEP], np.zeros(DH), w_xh, w_hh, np.zeros(DH))  # (T, D)
    x2 = x[:T_DEP].copy()
    x2[PERTURBED - 1] += 1.0
    h2, _ = rnn_forward(x2, np.zeros(DH), w_xh, w_hh, np.zeros(DH))  # (T, D)
    return np.abs(h2 - h).max(axis=1)  # (T,)


# --8<-- [start:jacobian]
@functools.cache
def jacobian_norms(rho: float) -> Array:
    """||dh_T/dh_1||_2 for T = 1..T_MAX: the product of T - 1 step Jacobians."""
    x, w_xh, w_hh = _inputs(rho)
    _, cache = rnn_forward(x, np.zeros(DH), w_xh, w_hh, np.zeros(DH))
    d = tanh_grad(cache.a)  # (T, D): tanh'(a_t)
    J = np.eye(DH)  # dh_1/dh_1
    norms = [1.0]
    for t in range(1, T_MAX):  # step t + 1 in the book's 1-based count
        J = (d[t][:, None] * w_hh.T) @ J  # (D, D): diag(tanh'(a_t)) W_hh^T times J
        norms.append(np.linalg.norm(J, 2))
    return np.array(norms)


# --8<-- [end:jacobian]


@functools.cache
def attention_jacobian_norms() -> Array:
    """||dy_T/dx_1||_2 for T = 2..T_MAX through one causal attention layer (2 heads, width DH),
    row by row from Part 2's multi_head_attention_backward."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((T_MAX, DH))  # (T, D)
    w = [rng.standard_normal((DH, DH)) / math.sqrt(DH) for _ in range(4)]  # W_Q, W_K, W_V, W_O
    norms = []
    for T in range(2, T_MAX + 1):
        _, cache = multi_head_attention_forward(x[:T], *w, num_heads=2, mask=causal_mask(T, T))
        rows = []
        for i in range(DH):
            dy = np.zeros((T, DH))
            dy[-1, i] = 1.0
            rows.append(multi_head_attention_backward(dy, cache)[0][0])  # (D,): row i
        norms.append(np.linalg.norm(np.array(rows), 2))
    return np.array(norms)


def jacobian_check(rho: float = 1.5, T: int = T_CHECK) -> tuple[Array, Array]:
    """dh_T/dh_1 as a product of Jacobians and, row by row, from Part 2's rnn_backward."""
    x, w_xh, w_hh = _inputs(rho)
    h, cache = rnn_forward(x[:T], np.zeros(DH), w_xh, w_hh, np.zeros(DH))  # (T, D)
    d = tanh_grad(cache.a)  # (T, D)
    J = np.eye(DH)
    for t in range(1, T):
        J = (d[t][:, None] * w_hh.T) @ J  # (D, D)
    # restart the recurrence at h_1: its h0 gradient is dh_T/dh_1, one row per unit vector
    _, tail = rnn_forward(x[1:T], h[0], w_xh, w_hh, np.zeros(DH))
    rows = []
    for i in range(DH):
        dh = np.zeros((T - 1, DH))
        dh[-1, i] = 1.0
        rows.append(rnn_backward(dh, tail)[1])  # (D,): row i of dh_T/dh_1
    return J, np.array(rows)


def jacobian_table() -> Array:
    """Rows per rho: s_max of W_hh, then log10 ||dh_T/dh_1|| at T_SHOWN."""
    rows = []
    for rho in RHOS:
        s_max = np.linalg.norm(_inputs(rho)[2], 2)
        norms = jacobian_norms(rho)
        rows.append([s_max, *(np.log10(norms[T - 1]) for T in T_SHOWN)])
    return np.array(rows)


def jacobian_figure() -> str:
    fig, ax = new_figure(6.0, 3.2)
    t = np.arange(1, T_MAX + 1)
    for rho, c in zip(RHOS, (BLUE, ORANGE, RED), strict=True):
        ax.semilogy(t, jacobian_norms(rho), color=c, label=f"RNN, ρ = {rho:g}")
    ax.semilogy(
        t[1:], attention_jacobian_norms(), "--", color=GREEN, label="attention, ‖∂y_T/∂x_1‖"
    )
    ax.set_xlabel("T")
    ax.set_ylabel("‖∂h_T/∂h_1‖₂")
    ax.legend(frameon=False)
    return svg(
        fig,
        alt="Spectral norm of the Jacobian from h_1 to h_T against T for three spectral radii: "
        "two fall by many orders of magnitude as T grows, the third stays near ten. A dashed "
        "line for one causal attention layer falls only slowly, roughly like 1 over T.",
        caption="How much of token 1 reaches step T: an RNN (T − 1 Jacobians) and attention",
    )


# ---- cost ---------------------------------------------------------------------------------------
D_COST = 768  # GPT-2 small's width
T_GRID = np.unique(np.geomspace(8, 16384, 400).astype(int))


def crossover(D: int) -> dict[str, int]:
    """The smallest T at which the pair term reaches each linear term, found by scanning T."""

    def first(pred: object) -> int:
        return next(T for T in range(1, 100 * D) if pred(rnn_vs_attention_macs(T, D)))  # type: ignore[operator]

    return {
        "pairs ≥ recurrence": first(lambda c: c["attention_pairs"] >= c["rnn_recurrent"]),
        "pairs ≥ whole RNN": first(lambda c: c["attention_pairs"] >= c["rnn"]),
        "pairs ≥ projections": first(lambda c: c["attention_pairs"] >= c["attention_projections"]),
    }


CROSS_DS = (64, 256, 768, 1024, 4096)


def crossover_table() -> Array:
    """Rows per D: D and the three crossover lengths."""
    rows = []
    for D in CROSS_DS:
        rows.append([D, *crossover(D).values()])
    return np.array(rows, dtype=np.float64)


def cost_table(D: int = D_COST, Ts: tuple[int, ...] = (128, 384, 768, 1536, 8192)) -> Array:
    """Columns: T, RNN recurrent, RNN total, attention pairs, attention total, sequential steps."""
    rows = []
    for T in Ts:
        c = rnn_vs_attention_macs(T, D)
        rows.append([T, c["rnn_recurrent"], c["rnn"], c["attention_pairs"], c["attention"]])
    return np.array(rows, dtype=np.float64)


def flop_counter_check(T: int = 12, D: int = 8) -> dict[str, tuple[int, int]]:
    """FLOPs counted by torch's FlopCounterMode against 2 x our multiply-adds."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    g = torch.Generator().manual_seed(0)
    x = torch.randn(T, D, generator=g, dtype=torch.float64)  # (T, D)
    w_xh, w_hh = (torch.randn(D, D, generator=g, dtype=torch.float64) for _ in range(2))
    wq, wk, wv, wo = (torch.randn(D, D, generator=g, dtype=torch.float64) for _ in range(4))

    def rnn() -> None:
        h = torch.zeros(1, D, dtype=torch.float64)
        for t in range(T):  # T dependent steps
            h = torch.tanh(h @ w_hh + x[t : t + 1] @ w_xh)

    def attention() -> None:
        q, k, v = x @ wq, x @ wk, x @ wv
        torch.softmax(q @ k.T / math.sqrt(D), dim=-1) @ v @ wo

    out = {}
    c = rnn_vs_attention_macs(T, D)
    for name, fn in (("rnn", rnn), ("attention", attention)):
        with FlopCounterMode(display=False) as counter:
            fn()
        out[name] = (counter.get_total_flops(), 2 * c[name])
    return out


def cost_figure(D: int = D_COST) -> str:
    cs = [rnn_vs_attention_macs(int(T), D) for T in T_GRID]
    fig, ax = new_figure(6.0, 3.6)
    ax.loglog(T_GRID, [c["rnn"] for c in cs], color=BLUE, label="RNN layer (2TD²)")
    ax.loglog(T_GRID, [c["attention"] for c in cs], color=ORANGE, label="attention layer")
    ax.loglog(T_GRID, [c["rnn_recurrent"] for c in cs], "--", color=BLUE, lw=1,
              label="RNN recurrence (TD²)")  # fmt: skip
    ax.loglog(T_GRID, [c["attention_pairs"] for c in cs], "--", color=ORANGE, lw=1,
              label="attention pairs (2T²D)")  # fmt: skip
    cr = crossover(D)
    for key, colour in (("pairs ≥ recurrence", GREEN), ("pairs ≥ projections", PURPLE)):
        ax.axvline(cr[key], color=colour, lw=0.8, ls=":")
        ax.text(cr[key] * 1.08, 2e6, f"T = {cr[key]}", color=colour, fontsize=10, rotation=90)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("multiply-adds per layer")
    ax.legend(frameon=False, fontsize=9)
    return svg(
        fig,
        alt=f"Log-log plot of multiply-adds against T for an RNN layer and an attention layer of "
        f"width {D}. The RNN grows linearly; attention grows linearly and then quadratically. "
        f"The pair term overtakes the recurrence at T = {cr['pairs ≥ recurrence']} and the "
        f"projections at T = {cr['pairs ≥ projections']}.",
        caption=f"Multiply-adds of one layer of width D = {D} against sequence length",
    )


# ---- Markov ---------------------------------------------------------------------------------
N_CTX, V_TOY, D_TOY, H_TOY, F_TOY, MARKOV_SEED = 8, 13, 8, 2, 16, 7
SEQ = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8])  # 12 tokens, 4 more than the window


@functools.cache
def _toy() -> tuple[Array, Array, BlockParams]:
    rng = np.random.default_rng(MARKOV_SEED)
    wte = rng.normal(size=(V_TOY, D_TOY))  # (V, D)
    wpe = 0.5 * rng.normal(size=(N_CTX, D_TOY))  # (n_ctx, D)
    D, F = D_TOY, F_TOY
    p = BlockParams(
        np.ones(D), np.zeros(D), *(rng.normal(size=(D, D)) / math.sqrt(D) for _ in range(4)),
        np.ones(D), np.zeros(D), rng.normal(size=(D, F)) / math.sqrt(D), np.zeros(F),
        rng.normal(size=(F, D)) / math.sqrt(F), np.zeros(D),
    )  # fmt: skip
    return wte, wpe, p


# --8<-- [start:window]
def next_token_probs(ids: Array) -> Array:
    """One block with a window of N_CTX: p(next token | the last N_CTX tokens)."""
    wte, wpe, p = _toy()
    window = np.asarray(ids)[-N_CTX:]  # everything older is dropped
    x = wte[window] + wpe[: len(window)]  # (T, D), positions within the window
    h, _ = block_forward(x, p, num_heads=H_TOY)  # (T, D), causal
    return softmax(h[-1] @ wte.T)  # (V,): tied unembedding


# --8<-- [end:window]


def markov_table() -> Array:
    """max |p(changed) - p(original)| when token s (1-based) of SEQ is changed, s = 1..12."""
    base = next_token_probs(SEQ)
    out = []
    for s in range(len(SEQ)):
        ids = SEQ.copy()
        ids[s] = (ids[s] + 1) % V_TOY
        out.append(np.abs(next_token_probs(ids) - base).max())
    return np.array(out)


def gpt2_states() -> float:
    """log10 of the number of contexts of GPT-2 small: n_V ** n_ctx."""
    return 1024 * math.log10(50257)


def tables() -> dict[str, Array]:
    return {
        "recurrence/dependency": dependency()[None, :],
        "recurrence/jacobian": jacobian_table(),
        "recurrence/cost": cost_table(),
        "recurrence/crossover": crossover_table(),
        "recurrence/markov": markov_table()[None, :],
    }
