"""Worked examples for the block-backprop chapter: inputs chosen here, gradients computed by llmath."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.calculus import rel_error
from llmath.calculus.block import BlockParams, block_backward, block_forward
from llmath.calculus.numerical import EPS, numerical_grad

T, D, H, F = 4, 8, 2, 32  # the chapter's block: 4 tokens, width 8, 2 heads of width 4, MLP 32
DEPTH = 24  # blocks in the stack of the figure
SEED = 2019

Array = NDArray[np.float64]


def make_params(rng: np.random.Generator, d: int = D, f: int = F) -> BlockParams:
    """GPT-2-like initialisation: weights N(0, 1/fan-in), layer norms near (1, 0), small biases."""
    return BlockParams(
        1 + 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d),
        *(rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(4)),
        1 + 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d),
        rng.standard_normal((d, f)) / np.sqrt(d), 0.1 * rng.standard_normal(f),
        rng.standard_normal((f, d)) / np.sqrt(f), 0.1 * rng.standard_normal(d),
    )  # fmt: skip


@cache
def example() -> dict[str, Any]:
    """The chapter's block: x (T, D), params, and the loss sum(R * out), so dloss/dout = R."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((T, D))  # (T, D)
    params = make_params(rng)
    r = rng.standard_normal((T, D))  # (T, D)
    out, cache_ = block_forward(x, params, num_heads=H)
    dx, grads = block_backward(r, cache_)
    return {"x": x, "params": params, "r": r, "out": out, "cache": cache_, "dx": dx, "grads": grads}


def loss(x: Array, params: BlockParams) -> float:
    """loss = sum(R * block(x)) for the chapter's R: a scalar whose gradient w.r.t. out is R."""
    return float(np.sum(example()["r"] * block_forward(x, params, num_heads=H)[0]))


# --8<-- [start:torch-twin]
def torch_block(x, p, *, num_heads):
    """The chapter's block from torch's own operations, for torch.autograd."""
    import torch.nn.functional as tf

    g1, b1, wq, wk, wv, wo, g2, b2, w1, c1, w2, c2 = p
    *lead, T, D = x.shape

    def heads(z):
        z = z.reshape(*lead, T, num_heads, D // num_heads)  # (..., T, H, dk)
        return z.transpose(-3, -2)  # (..., H, T, dk)

    n1 = tf.layer_norm(x, (D,), g1, b1, eps=1e-5)
    att = tf.scaled_dot_product_attention(
        heads(n1 @ wq), heads(n1 @ wk), heads(n1 @ wv), is_causal=True
    )  # (..., H, T, dk)
    h = x + att.transpose(-3, -2).reshape(*lead, T, D) @ wo
    u = tf.layer_norm(h, (D,), g2, b2, eps=1e-5) @ w1 + c1  # (..., T, F)
    return h + tf.gelu(u) @ w2 + c2
    # --8<-- [end:torch-twin]


def torch_grads() -> list[Array]:
    """Gradients of the chapter's loss from torch.autograd (float64): x first, then the params."""
    import torch

    ex = example()
    tx = torch.tensor(ex["x"], dtype=torch.float64, requires_grad=True)
    tp = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in ex["params"]]
    # The errors shown are a few units of rounding, which depend on the order of the sums; one
    # thread fixes that order, so the page and the tests that re-check it see the same numbers.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        (torch_block(tx, tp, num_heads=H) * torch.from_numpy(ex["r"])).sum().backward()
    finally:
        torch.set_num_threads(threads)
    return [t.grad.numpy() for t in (tx, *tp)]


def finite_difference_grads() -> list[Array]:
    """Central finite differences of the chapter's loss, one argument at a time."""
    ex = example()
    x, p = ex["x"], ex["params"]
    fd = [numerical_grad(lambda z: loss(z, p), x)]
    for name, value in zip(BlockParams._fields, p, strict=True):
        fd.append(numerical_grad(lambda z, n=name: loss(x, p._replace(**{n: z})), value))
    return fd


@cache
def gradient_check() -> Array:
    """Per argument: entries, max |grad|, rel. error vs torch in units of EPS, vs FD in 1e-10."""
    ex = example()
    ours = [ex["dx"], *ex["grads"]]
    pairs = zip(ours, torch_grads(), finite_difference_grads(), strict=True)
    return np.array(
        [
            [g.size, np.abs(g).max(), rel_error(g, t) / EPS, rel_error(g, f) / 1e-10]
            for g, t, f in pairs
        ]
    )


def jacobian(x: Array, params: BlockParams) -> Array:
    """J[i, j] = d vec(out)_i / d vec(x)_j, shape (T*D, T*D).

    Row i is block_backward of the i-th basis vector; all T*D rows run as one batch, as T*D
    copies of the same sequence.
    """
    n = x.size
    _, c = block_forward(np.broadcast_to(x, (n, *x.shape)), params, num_heads=H)  # (n, T, D)
    basis = np.eye(n).reshape(n, *x.shape)  # (n, T, D)
    return block_backward(basis, c)[0].reshape(n, n)


def _summary(m: Array) -> list[float]:
    s = np.linalg.svd(m, compute_uv=False)
    return [s[0], s[-1], np.linalg.norm(m) / np.sqrt(len(m))]


@cache
def block_jacobian() -> Array:
    """The chapter's block Jacobian d vec(out) / d vec(x), (32, 32)."""
    ex = example()
    return jacobian(ex["x"], ex["params"])


def residual_table() -> Array:
    """Rows J and J - I; columns sigma_max, sigma_min, RMS gain ||.||_F / sqrt(T D)."""
    J = block_jacobian()
    return np.array([_summary(J), _summary(J - np.eye(len(J)))])


def mean_shift_check() -> dict[str, float]:
    """What the block does to x + c 1 per token: the branches never see it (layer norms)."""
    ex = example()
    J = block_jacobian()
    v = np.repeat(
        np.random.default_rng(SEED + 1).standard_normal(T), D
    )  # c_t in every entry of token t
    s = np.linalg.svd(J - np.eye(len(J)), compute_uv=False)
    return {
        "Jv_minus_v": float(np.abs(J @ v - v).max()),
        "null": int(np.sum(s < 1e-12 * s[0])),
        "grad_mean_diff": float(np.abs((ex["dx"] - ex["r"]).sum(axis=-1)).max()),
    }


@cache
def _stack() -> tuple[list[Array], list[Array]]:
    """A stack of DEPTH seeded blocks: the residual stream entering each block, its Jacobian."""
    rng = np.random.default_rng(SEED + 2)
    blocks = [make_params(rng) for _ in range(DEPTH)]
    xs = [rng.standard_normal((T, D))]  # (T, D)
    for p in blocks:
        xs.append(block_forward(xs[-1], p, num_heads=H)[0])
    return xs[:-1], [jacobian(x, p) for x, p in zip(xs[:-1], blocks, strict=True)]


@cache
def stack_gains() -> Array:
    """Row l = 0..DEPTH for d out / d x_l, l blocks below the top: l, RMS gain with the residual,
    RMS gain of the product with I dropped from every factor, sigma_min, sigma_max (residual)."""
    _, jacobians = _stack()
    n = T * D
    full, branch = np.eye(n), np.eye(n)
    rows = [[0, 1.0, 1.0, 1.0, 1.0]]
    for depth, J in enumerate(reversed(jacobians), start=1):
        full, branch = full @ J, branch @ (J - np.eye(n))  # chain rule, top block first
        s_max, s_min, gain = _summary(full)
        rows.append([depth, gain, _summary(branch)[2], s_min, s_max])
    return np.array(rows)


def stack_layers() -> Array:
    """Per block, bottom first: mean per-token std of its input, RMS gain of its J - I."""
    xs, jacobians = _stack()
    eye = np.eye(T * D)
    return np.array(
        [[x.std(axis=-1).mean(), _summary(J - eye)[2]] for x, J in zip(xs, jacobians, strict=True)]
    )


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "block-backprop/gradient-check": gradient_check()[:, 1:],
        "block-backprop/residual": residual_table(),
        "block-backprop/stack": stack_gains()[[1, 2, 4, 8, 16, 24]][:, [1, 3, 4]],
    }
