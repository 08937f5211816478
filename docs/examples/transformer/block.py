"""Worked examples for the block chapter: pre-LN and post-LN stacks built from Parts 1, 2 and 4.

The two block functions below are written out from the package's pieces (Part 2's layer norm,
Part 1's multi-head attention, Part 4's MLP) so that the page can show them next to each other;
`pre_ln_block` is checked equal to Part 2's `block_forward`. `post_ln_backward` is the post-LN
block's backward pass assembled from Part 2's backward pieces and checked against central
finite differences.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from llmath.attention.attention import causal_mask
from llmath.attention.multihead import multi_head_attention
from llmath.calculus.activations import gelu, gelu_grad
from llmath.calculus.attention_grad import (
    MHACache,
    linear_backward,
    multi_head_attention_backward,
    multi_head_attention_forward,
)
from llmath.calculus.block import BlockParams, block_backward, block_forward
from llmath.calculus.cross_entropy import cross_entropy, cross_entropy_grad
from llmath.calculus.layernorm import LayerNormCache, layer_norm, layer_norm_backward
from llmath.linalg.linear import linear
from llmath.transformer.mlp import MLPParams, mlp, swiglu_width
from llmath.transformer.norms import rms_norm

Array = NDArray[np.float64]

D, H, T, F, V = 16, 4, 8, 64, 32  # width, heads, tokens, MLP width 4D, vocabulary
SEED = 2020


def init_layer(rng: np.random.Generator, d: int = D, f: int = F) -> BlockParams:
    """One block's parameters: Xavier-normal weights (as in Xiong et al.), unit gains, zero biases."""

    def xavier(n_in: int, n_out: int) -> Array:
        return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))

    return BlockParams(
        np.ones(d), np.zeros(d), xavier(d, d), xavier(d, d), xavier(d, d), xavier(d, d),
        np.ones(d), np.zeros(d), xavier(d, f), np.zeros(f), xavier(f, d), np.zeros(d),
    )  # fmt: skip


def init_stack(n_layers: int, seed: int = SEED) -> tuple[Array, list[BlockParams], Array]:
    """(x0, layers, w_unembed): the embedded input (T, D), the blocks, the (D, V) unembedding."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((T, D))  # (T, D): rms 1 per token
    layers = [init_layer(rng) for _ in range(n_layers)]
    w_u = rng.normal(0.0, np.sqrt(2.0 / (D + V)), size=(D, V))  # (D, V)
    return x0, layers, w_u


def _mlp_params(p: BlockParams) -> MLPParams:
    return MLPParams(p.w_1, p.b_1, p.w_2, p.b_2)


# --8<-- [start:blocks]
def attn(x: Array, p: BlockParams) -> Array:
    """Causal multi-head self-attention (Part 1), H heads."""
    mask = causal_mask(x.shape[-2])  # (T, T)
    w = (p.w_q, p.w_k, p.w_v, p.w_o)
    return multi_head_attention(x, *w, num_heads=H, mask=mask).output  # (T, D)


def ln(x: Array, gamma: Array, beta: Array) -> Array:
    return layer_norm(x, gamma, beta)[0]  # Part 2, eps = 1e-5


def pre_ln_block(x: Array, p: BlockParams) -> Array:
    h = x + attn(ln(x, p.ln1_gamma, p.ln1_beta), p)  # (T, D)
    return h + mlp(ln(h, p.ln2_gamma, p.ln2_beta), _mlp_params(p))  # (T, D)


def post_ln_block(x: Array, p: BlockParams) -> Array:
    h = ln(x + attn(x, p), p.ln1_gamma, p.ln1_beta)  # (T, D)
    return ln(h + mlp(h, _mlp_params(p)), p.ln2_gamma, p.ln2_beta)  # (T, D)


# --8<-- [end:blocks]


def run(x0: Array, layers: list[BlockParams], kind: str) -> list[Array]:
    """The residual stream before the first block and after every block."""
    block = pre_ln_block if kind == "pre" else post_ln_block
    xs = [x0]
    for p in layers:
        xs.append(block(xs[-1], p))
    return xs


def rms(x: Array) -> float:
    """Root mean square of all entries: the typical size of one feature of one token."""
    return float(np.sqrt(np.mean(x * x)))


@cache
def part2_agreement() -> float:
    """max |pre_ln_block - Part 2's block_forward| on a 3-block stack."""
    x0, layers, _ = init_stack(3)
    x_mine = run(x0, layers, "pre")
    x_part2 = x0
    for p in layers:
        x_part2 = block_forward(x_part2, p, num_heads=H)[0]
    return float(np.abs(x_mine[-1] - x_part2).max())


# ---- gradients at initialisation ------------------------------------------------------------


class PostLNCache(NamedTuple):
    mha: MHACache
    ln1: LayerNormCache
    h: Array
    u: Array
    g: Array
    ln2: LayerNormCache
    params: BlockParams


def post_ln_forward(x: Array, p: BlockParams) -> tuple[Array, PostLNCache]:
    """post_ln_block with Part 2's caching forward pieces."""
    a, mha = multi_head_attention_forward(
        x, p.w_q, p.w_k, p.w_v, p.w_o, num_heads=H, mask=causal_mask(x.shape[-2])
    )
    h, ln1 = layer_norm(x + a, p.ln1_gamma, p.ln1_beta)  # (T, D)
    u = linear(h, p.w_1, p.b_1)  # (T, F)
    g = gelu(u)  # (T, F)
    out, ln2 = layer_norm(h + linear(g, p.w_2, p.b_2), p.ln2_gamma, p.ln2_beta)  # (T, D)
    return out, PostLNCache(mha, ln1, h, u, g, ln2, p)


# --8<-- [start:post-ln-backward]
def post_ln_backward(dout: Array, c: PostLNCache) -> tuple[Array, BlockParams]:
    """The post-LN block's backward pass, from Part 2's backward pieces."""
    do, dgamma2, dbeta2 = layer_norm_backward(dout, c.ln2)  # (T, D)
    dg, dw_2, db_2 = linear_backward(do, c.g, c.params.w_2)  # (T, F)
    du = dg * gelu_grad(c.u)  # (T, F)
    dh_mlp, dw_1, db_1 = linear_backward(du, c.h, c.params.w_1)  # (T, D)
    dh, dgamma1, dbeta1 = layer_norm_backward(do + dh_mlp, c.ln1)  # (T, D)
    dx_attn, dw_q, dw_k, dw_v, dw_o = multi_head_attention_backward(dh, c.mha)
    grads = BlockParams(
        dgamma1, dbeta1, dw_q, dw_k, dw_v, dw_o, dgamma2, dbeta2, dw_1, db_1, dw_2, db_2
    )
    return dh + dx_attn, grads


# --8<-- [end:post-ln-backward]


def loss_and_grads(
    x0: Array, layers: list[BlockParams], w_u: Array, targets: NDArray[np.int64], kind: str
) -> tuple[float, list[BlockParams]]:
    """Cross-entropy of the stack's next-token logits and every block's parameter gradients.

    Pre-LN ends with a final layer norm (unit gain) before the unembedding, as GPT-2 does;
    post-LN's output is already normalised and goes straight to the unembedding.
    """
    x, caches = x0, []
    for p in layers:
        if kind == "pre":
            x, c = block_forward(x, p, num_heads=H)
        else:
            x, c = post_ln_forward(x, p)
        caches.append(c)
    if kind == "pre":
        z, lnf = layer_norm(x, np.ones(D), np.zeros(D))
    else:
        z = x
    logits = z @ w_u  # (T, V)
    loss = cross_entropy(logits, targets)
    dx = cross_entropy_grad(logits, targets) @ w_u.T  # (T, D)
    if kind == "pre":
        dx = layer_norm_backward(dx, lnf)[0]
    grads: list[BlockParams] = []
    for c in reversed(caches):
        if kind == "pre":
            dx, gp = block_backward(dx, c)
        else:
            dx, gp = post_ln_backward(dx, c)
        grads.append(gp)
    return loss, grads[::-1]


def _targets(seed: int = SEED) -> NDArray[np.int64]:
    return np.random.default_rng(seed + 1).integers(0, V, size=T)


@cache
def backward_vs_finite_differences() -> dict[str, float]:
    """Largest |backward - central differences| over a few entries of every layer's W_2, w_q.

    A 2-block stack; each entry of the finite difference is one perturbed forward pass.
    """
    x0, layers, w_u = init_stack(2)
    targets = _targets()
    out = {}
    for kind in ("pre", "post"):
        _, grads = loss_and_grads(x0, layers, w_u, targets, kind)
        worst = 0.0
        for i, p in enumerate(layers):
            for name in ("w_2", "w_q", "ln1_gamma"):
                w = getattr(p, name)
                for idx in [(0,) * w.ndim, tuple(s - 1 for s in w.shape), (1,) * w.ndim]:
                    step = 1e-6
                    vals = []
                    for sgn in (1, -1):
                        wp = w.copy()
                        wp[idx] += sgn * step
                        lp = [
                            q._replace(**{name: wp}) if j == i else q for j, q in enumerate(layers)
                        ]
                        vals.append(loss_and_grads(x0, lp, w_u, targets, kind)[0])
                    fd = (vals[0] - vals[1]) / (2 * step)
                    worst = max(worst, abs(fd - getattr(grads[i], name)[idx]))
        out[kind] = worst
    return out


N_LAYERS = 24


@cache
def depth_profile(n_layers: int = N_LAYERS) -> dict[str, Array]:
    """Per layer, for pre-LN and post-LN: residual rms after the block and |dL/dW_2|_F."""
    x0, layers, w_u = init_stack(n_layers)
    targets = _targets()
    res: dict[str, Array] = {"layer": np.arange(1, n_layers + 1, dtype=np.float64)}
    for kind in ("pre", "post"):
        xs = run(x0, layers, kind)
        res[f"{kind}_rms"] = np.array([rms(x) for x in xs[1:]])
        _, grads = loss_and_grads(x0, layers, w_u, targets, kind)
        res[f"{kind}_grad"] = np.array([np.linalg.norm(g.w_2) for g in grads])
    return res


@cache
def last_layer_grad_vs_depth(depths: tuple[int, ...] = (3, 6, 12, 24, 48)) -> Array:
    """Rows: depth L; columns: |dL/dW_2| of the last block, pre-LN and post-LN."""
    rows = []
    for n in depths:
        x0, layers, w_u = init_stack(n)
        row = [float(n)]
        for kind in ("pre", "post"):
            _, grads = loss_and_grads(x0, layers, w_u, _targets(), kind)
            row.append(float(np.linalg.norm(grads[-1].w_2)))
        rows.append(row)
    return np.array(rows)


# ---- the residual stream as a sum of writes ----------------------------------------------------


@cache
def residual_writes(n_layers: int = 4) -> dict[str, Array]:
    """Each sublayer's write to the pre-LN residual stream, and their sum with the embedding."""
    x0, layers, _ = init_stack(n_layers)
    x, writes, names = x0, [], []
    for i, p in enumerate(layers, start=1):
        a = attn(ln(x, p.ln1_gamma, p.ln1_beta), p)  # (T, D): attention's write
        x = x + a
        m = mlp(ln(x, p.ln2_gamma, p.ln2_beta), _mlp_params(p))  # (T, D): the MLP's write
        x = x + m
        writes += [a, m]
        names += [f"attn {i}", f"MLP {i}"]
    out = run(x0, layers, "pre")[-1]
    total = x0 + np.sum(writes, axis=0)
    last = out[-1]  # the last token's output row, (D,)
    # share of the last token's output along each write: <write, out> / |out|^2 sums to 1
    share = np.array([float(w[-1] @ last) / float(last @ last) for w in [x0, *writes]])
    return {
        "out": out,
        "sum": total,
        "rms": np.array([rms(w) for w in [x0, *writes]]),
        "share": share,
        "names": np.array(["embedding", *names]),
    }


# ---- RMSNorm ----------------------------------------------------------------------------------

X_RMS = np.array([[1.0, -2.0, 0.5, 2.5], [0.3, 0.8, -0.6, 0.1], [3.0, 3.2, 2.8, 3.0]])
GAMMA_RMS = np.array([1.5, -0.5, 2.0, 0.8])


@cache
def rms_worked() -> dict[str, Array]:
    """rms_norm and layer_norm (beta = 0) of X_RMS, and torch's rms_norm, float64."""
    import torch

    mine = rms_norm(X_RMS, GAMMA_RMS, eps=1e-6)
    ref = torch.nn.functional.rms_norm(
        torch.tensor(X_RMS, dtype=torch.float64),
        (4,),
        torch.tensor(GAMMA_RMS, dtype=torch.float64),
        eps=1e-6,
    ).numpy()
    lnorm = layer_norm(X_RMS, GAMMA_RMS, np.zeros(4), eps=1e-6)[0]
    centred = rms_norm(X_RMS - X_RMS.mean(-1, keepdims=True), GAMMA_RMS, eps=1e-6)
    return {"rms": mine, "torch": ref, "ln": lnorm, "centred": centred}


# ---- the MLP: activations and counts ----------------------------------------------------------


@cache
def mlp_vs_torch() -> dict[str, float]:
    """max |llmath mlp - torch| for each activation on a (T, D) input, float64."""
    import torch
    import torch.nn.functional as tf

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((T, D))
    w_in, w_g = rng.standard_normal((D, F)) / 4, rng.standard_normal((D, F)) / 4
    b_in, b_g = rng.standard_normal(F) / 4, rng.standard_normal(F) / 4
    w_out, b_out = rng.standard_normal((F, D)) / 8, rng.standard_normal(D) / 8
    t = {k: torch.tensor(v) for k, v in dict(x=x, w_in=w_in, w_g=w_g, b_in=b_in, b_g=b_g,
                                              w_out=w_out, b_out=b_out).items()}  # fmt: skip
    up = t["x"] @ t["w_in"] + t["b_in"]
    acts = {
        "relu": tf.relu(up),
        "gelu": tf.gelu(up),
        "gelu_tanh": tf.gelu(up, approximate="tanh"),
        "swiglu": tf.silu(t["x"] @ t["w_g"] + t["b_g"]) * up,
    }
    out = {}
    for name, hidden in acts.items():
        ref = (hidden @ t["w_out"] + t["b_out"]).numpy()
        gate = (w_g, b_g) if name == "swiglu" else (None, None)
        mine = mlp(x, MLPParams(w_in, b_in, w_out, b_out, *gate), activation=name)
        out[name] = float(np.abs(mine - ref).max())
    return out


MLP_WIDTHS = ((768, 1), (4096, 256), (8192, 256))  # (D, multiple_of): GPT-2 small, LLaMA 7B, 65B


def mlp_counts() -> Array:
    """Rows: D; columns: D, F = 4D, 8D^2 (two matrices), F_swiglu, 3 D F_swiglu.

    Weights only (LLaMA has no biases); each weight costs 2 FLOPs per token (multiply, add).
    """
    rows = []
    for d, m in MLP_WIDTHS:
        f = swiglu_width(d, multiple_of=m)
        rows.append([d, 4 * d, 2 * d * 4 * d, f, 3 * d * f])
    return np.array(rows, dtype=np.float64)


# ---- symmetry ---------------------------------------------------------------------------------


def orthogonal(rng: np.random.Generator, d: int) -> Array:
    """A Haar-random orthogonal (d, d) matrix (QR of a Gaussian with the signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def rotate_params(p: BlockParams, q: Array) -> BlockParams:
    """The weights that see x Q instead of x: W_in -> Q^T W_in, W_out -> W_out Q."""
    return p._replace(
        w_q=q.T @ p.w_q, w_k=q.T @ p.w_k, w_v=q.T @ p.w_v, w_o=p.w_o @ q,
        w_1=q.T @ p.w_1, w_2=p.w_2 @ q, b_2=p.b_2 @ q,
    )  # fmt: skip


def rms_block(x: Array, p: BlockParams) -> Array:
    """A pre-RMSNorm block (LLaMA's arrangement) with unit gains, unmasked attention."""
    d = x.shape[-1]
    h = (
        x
        + multi_head_attention(
            rms_norm(x, np.ones(d)), p.w_q, p.w_k, p.w_v, p.w_o, num_heads=H
        ).output
    )  # (T, D)
    return h + mlp(rms_norm(h, np.ones(d)), _mlp_params(p))  # (T, D)


@cache
def symmetry() -> dict[str, float]:
    """Max deviation from equivariance, component by component (0 up to rounding = symmetric)."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((T, D))  # (T, D)
    p = init_layer(rng)
    p = p._replace(b_1=0.1 * rng.standard_normal(F), b_2=0.1 * rng.standard_normal(D))
    perm = rng.permutation(T)
    while perm[0] == 0:  # a permutation that moves the first token
        perm = rng.permutation(T)
    q = orthogonal(rng, D)
    gamma = rng.uniform(0.5, 1.5, D)
    beta = 0.1 * rng.standard_normal(D)
    pos = rng.standard_normal((T, D))  # stand-in for any positional encoding
    mlp_p = _mlp_params(p)
    rp = rotate_params(p, q)

    def mha(z: Array, w: BlockParams, mask: Array | None = None) -> Array:
        return multi_head_attention(z, w.w_q, w.w_k, w.w_v, w.w_o, num_heads=H, mask=mask).output

    def dev(a: Array, b: Array) -> float:
        return float(np.abs(a - b).max())

    hidden_rot = orthogonal(rng, F)  # a rotation of the MLP's F hidden features
    hidden_perm = rng.permutation(F)
    pm = mlp_p
    rot_hidden = MLPParams(
        pm.w_in @ hidden_rot, pm.b_in @ hidden_rot, hidden_rot.T @ pm.w_out, pm.b_out
    )
    perm_hidden = MLPParams(
        pm.w_in[:, hidden_perm], pm.b_in[hidden_perm], pm.w_out[hidden_perm], pm.b_out
    )
    return {
        # token permutations x -> P x
        "perm/layer_norm": dev(ln(x[perm], gamma, beta), ln(x, gamma, beta)[perm]),
        "perm/rms_norm": dev(rms_norm(x[perm], gamma), rms_norm(x, gamma)[perm]),
        "perm/mlp": dev(mlp(x[perm], mlp_p), mlp(x, mlp_p)[perm]),
        "perm/attention": dev(mha(x[perm], p), mha(x, p)[perm]),
        "perm/attention_invariant": dev(mha(x[perm], p), mha(x, p)),
        "perm/causal": dev(mha(x[perm], p, causal_mask(T)), mha(x, p, causal_mask(T))[perm]),
        "perm/positions": dev(mha(x[perm] + pos, p), mha(x + pos, p)[perm]),
        # feature rotations x -> x Q, weights W_in -> Q^T W_in, W_out -> W_out Q
        "rot/attention": dev(mha(x @ q, rp), mha(x, p) @ q),
        "rot/mlp": dev(mlp(x @ q, _mlp_params(rp)), mlp(x, mlp_p) @ q),
        "rot/rms_norm_unit": dev(rms_norm(x @ q, np.ones(D)), rms_norm(x, np.ones(D)) @ q),
        "rot/rms_block": dev(rms_block(x @ q, rp), rms_block(x, p) @ q),
        "rot/rms_norm_gain": dev(rms_norm(x @ q, gamma), rms_norm(x, gamma) @ q),
        "rot/layer_norm": dev(
            ln(x @ q, np.ones(D), np.zeros(D)), ln(x, np.ones(D), np.zeros(D)) @ q
        ),
        "rot/pre_ln_block": dev(pre_ln_block(x @ q, rp), pre_ln_block(x, p) @ q),
        # the MLP's hidden features: a permutation is a symmetry, a rotation is not
        "hidden/perm": dev(mlp(x, perm_hidden), mlp(x, mlp_p)),
        "hidden/rot": dev(mlp(x, rot_hidden), mlp(x, mlp_p)),
    }


# ---- the graph view ---------------------------------------------------------------------------


@cache
def attention_graph() -> dict[str, Array]:
    """One head's attention matrix, unmasked and causal, on T = 5 tokens, and messages."""
    rng = np.random.default_rng(SEED)
    t, d = 5, D
    x = rng.standard_normal((t, d))
    p = init_layer(rng)
    full = multi_head_attention(x, p.w_q, p.w_k, p.w_v, p.w_o, num_heads=H)
    causal = multi_head_attention(x, p.w_q, p.w_k, p.w_v, p.w_o, num_heads=H, mask=causal_mask(t))
    # message passing by hand: head h's output at node i is sum_j A_ij v_j, then W_O
    v = (x @ p.w_v).reshape(t, H, d // H).transpose(1, 0, 2)  # (H, t, dk)
    messages = np.einsum("hij,hjk->hik", causal.weights, v)  # (H, t, dk)
    by_hand = messages.transpose(1, 0, 2).reshape(t, d) @ p.w_o  # (t, D)
    # two causal layers: the composed weights A2 A1 (head 0 of each) stay lower triangular
    p2 = init_layer(rng)
    y = causal.output
    second = multi_head_attention(
        y, p2.w_q, p2.w_k, p2.w_v, p2.w_o, num_heads=H, mask=causal_mask(t)
    )
    two_hop = second.weights[0] @ causal.weights[0]  # (t, t)
    return {
        "full": full.weights[0],
        "causal": causal.weights[0],
        "by_hand": by_hand,
        "output": causal.output,
        "two_hop": two_hop,
    }


# ---- exercises --------------------------------------------------------------------------------


@cache
def fold_gain() -> dict[str, float]:
    """rms_norm(x, gamma) W == rms_norm(x, 1) (diag(gamma) W), and the rotated folded model."""
    rng = np.random.default_rng(SEED + 3)
    x, w = rng.standard_normal((T, D)), rng.standard_normal((D, F))
    gamma = rng.uniform(0.5, 1.5, D)
    q = orthogonal(rng, D)
    folded = gamma[:, None] * w  # (D, F): diag(gamma) W
    lhs = rms_norm(x, gamma) @ w
    rhs = rms_norm(x, np.ones(D)) @ folded
    rot = rms_norm(x @ q, np.ones(D)) @ (q.T @ folded)
    return {"fold": float(np.abs(lhs - rhs).max()), "rotated": float(np.abs(rot - lhs).max())}


@cache
def layer_norm_stabiliser() -> dict[str, float]:
    """LayerNorm commutes with Q when Q fixes the all-ones direction, not otherwise."""
    rng = np.random.default_rng(SEED + 4)
    x = rng.standard_normal((T, D))
    # an orthogonal Q with 1 Q = 1: rotate inside the orthogonal complement of 1
    basis = np.linalg.qr(np.column_stack([np.ones(D), rng.standard_normal((D, D - 1))]))[0]
    inner = orthogonal(rng, D - 1)
    block = np.eye(D)
    block[1:, 1:] = inner
    q_fix = basis @ block @ basis.T  # (D, D): fixes basis[:, 0], i.e. the direction of 1
    q_any = orthogonal(rng, D)
    one = np.ones(D)
    zero = np.zeros(D)
    return {
        "fixes_one": float(np.abs(one @ q_fix - one).max()),
        "fixed": float(np.abs(ln(x @ q_fix, one, zero) - ln(x, one, zero) @ q_fix).max()),
        "any": float(np.abs(ln(x @ q_any, one, zero) - ln(x, one, zero) @ q_any).max()),
        "feature_perm": float(np.abs(ln(x[:, ::-1], one, zero) - ln(x, one, zero)[:, ::-1]).max()),
    }


@cache
def causal_dependence(n_layers: int = 2) -> Array:
    """|d out_i / d x_j| summed over features, by central differences, through n causal blocks."""
    x0, layers, _ = init_stack(n_layers)
    x0 = x0[:5]
    t = len(x0)
    dep = np.zeros((t, t))
    h = 1e-6
    for j in range(t):
        for k in range(D):
            e = np.zeros_like(x0)
            e[j, k] = h
            diff = (run(x0 + e, layers, "pre")[-1] - run(x0 - e, layers, "pre")[-1]) / (2 * h)
            dep[:, j] += np.abs(diff).sum(axis=-1)
    return dep


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    w = residual_writes()
    r = rms_worked()
    g = attention_graph()
    return {
        "block/last-layer-grad": last_layer_grad_vs_depth(),
        "block/writes": np.stack([w["rms"], w["share"]], axis=1),
        "block/rms-x": X_RMS,
        "block/rms-out": np.concatenate([r["rms"], r["ln"]]),
        "block/mlp-counts": mlp_counts(),
        "block/attn-full": g["full"],
        "block/attn-causal": g["causal"],
        "block/dependence": causal_dependence(),
    }
