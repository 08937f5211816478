r"""A pre-LN transformer block (GPT-2 style, causal self-attention) and its hand-written backward."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_cache, guard, vouches
from llmath.attention.attention import causal_mask
from llmath.calculus.activations import gelu, gelu_grad
from llmath.calculus.attention_grad import (
    MHACache,
    _param,
    _same_shape,
    linear_backward,
    multi_head_attention_backward,
    multi_head_attention_forward,
)
from llmath.calculus.layernorm import LayerNormCache, layer_norm, layer_norm_backward
from llmath.linalg.linear import linear

__all__ = ["BlockCache", "BlockParams", "block_backward", "block_forward"]

Array = NDArray[np.float64]


class BlockParams(NamedTuple):
    """The block's parameters (or, from `block_backward`, their gradients)."""

    ln1_gamma: Array
    """`(D,)`: scale of the first layer norm."""
    ln1_beta: Array
    """`(D,)`: shift of the first layer norm."""
    w_q: Array
    """`(D, D)`."""
    w_k: Array
    """`(D, D)`."""
    w_v: Array
    """`(D, D)`."""
    w_o: Array
    """`(D, D)`."""
    ln2_gamma: Array
    """`(D,)`: scale of the second layer norm."""
    ln2_beta: Array
    """`(D,)`: shift of the second layer norm."""
    w_1: Array
    """`(D, F)`: MLP expansion."""
    b_1: Array
    """`(F,)`."""
    w_2: Array
    """`(F, D)`: MLP projection back to the residual stream."""
    b_2: Array
    """`(D,)`."""


class BlockCache(NamedTuple):
    """Everything `block_backward` needs from the forward pass."""

    params: BlockParams
    """The parameters, converted to float64."""
    ln1: LayerNormCache
    r"""Cache of $\operatorname{LN}_1$."""
    mha: MHACache
    """Cache of the attention."""
    ln2: LayerNormCache
    r"""Cache of $\operatorname{LN}_2$."""
    n2: Array
    r"""`(..., T, D)`: $\operatorname{LN}_2(h)$, the MLP's input."""
    u: Array
    """`(..., T, F)`: the MLP's pre-activation."""
    g: Array
    r"""`(..., T, F)`: $\operatorname{GELU}(u)$."""
    approximate: str
    """Which GELU was used (`"none"` or `"tanh"`)."""


def _check_params(params: BlockParams, D: int) -> BlockParams:
    """Convert every parameter to float64 and check its shape against `D` and `F = w_1.shape[1]`."""
    if not isinstance(params, tuple) or len(params) != len(BlockParams._fields):
        raise ValueError(
            f"params must be a BlockParams of {len(BlockParams._fields)} arrays "
            f"{BlockParams._fields}; got {type(params).__name__}"
        )
    params = BlockParams(*params)
    F = np.shape(params.w_1)[-1] if np.ndim(params.w_1) == 2 else -1
    vec: tuple[tuple[int, ...], str] = ((D,), "(D,)")
    mat: tuple[tuple[int, ...], str] = ((D, D), "(D, D)")
    shapes = {
        "ln1_gamma": vec, "ln1_beta": vec, "w_q": mat, "w_k": mat, "w_v": mat, "w_o": mat,
        "ln2_gamma": vec, "ln2_beta": vec, "w_1": ((D, F), "(D, F)"), "b_1": ((F,), "(F,)"),
        "w_2": ((F, D), "(F, D)"), "b_2": vec,
    }  # fmt: skip
    return BlockParams(
        *(
            _param(p, f"params.{n}", *shapes[n])
            for n, p in zip(BlockParams._fields, params, strict=True)
        )
    )


@guard
@vouches
# --8<-- [start:forward]
def block_forward(
    x: ArrayLike,
    params: BlockParams,
    *,
    num_heads: int,
    eps: float = 1e-5,
    approximate: str = "none",
) -> tuple[Array, BlockCache]:
    # --8<-- [end:forward]
    r"""Apply one pre-LN transformer block with causal self-attention.

    $$
    h = x + \operatorname{MHA}(\operatorname{LN}_1(x)), \qquad
    u = \operatorname{LN}_2(h)\, W_1 + b_1, \qquad
    \text{out} = h + \operatorname{GELU}(u)\, W_2 + b_2 ,
    $$

    the block of GPT-2 (Radford et al., 2019, section 2.3) without dropout and without biases
    in the attention projections. Each layer norm uses the biased variance and `eps` inside the
    square root, as `torch.nn.LayerNorm` does.

    Args:
        x: the residual stream, shape `(T, D)` or `(B, T, D)` (any leading axes).
        params: a [BlockParams][llmath.calculus.block.BlockParams] of the shapes listed there.
        num_heads: `H`, which must divide `D` (keyword-only).
        eps: $\varepsilon$ of both layer norms.
        approximate: `"none"` for the exact GELU $x\Phi(x)$, `"tanh"` for GPT-2's approximation.

    Returns:
        `(out, cache)`: `out` of shape `(..., T, D)` and a
            [BlockCache][llmath.calculus.block.BlockCache].

    Raises:
        ShapeError: if `x` has fewer than 2 axes or a parameter has the wrong shape.
        ValueError: if an input contains NaN or infinity, `H` does not divide `D`, `params`
            is not 12 arrays, `eps` is negative or `approximate` is not `"none"`/`"tanh"`.

    Examples:
        >>> D, F = 4, 8
        >>> p = BlockParams(np.ones(D), np.zeros(D), *[np.eye(D)] * 4, np.ones(D), np.zeros(D),
        ...                 np.zeros((D, F)), np.zeros(F), np.zeros((F, D)), np.zeros(D))
        >>> out, cache = block_forward(np.eye(3, D), p, num_heads=2)
        >>> out.shape, cache.u.shape
        ((3, 4), (3, 8))
    """
    # --8<-- [start:forward-body]
    x = as_float_array(x, name="x", expected="(..., T, D)", min_ndim=2)
    p = _check_params(params, x.shape[-1])
    n1, ln1 = layer_norm(x, p.ln1_gamma, p.ln1_beta, eps=eps)  # (..., T, D)
    mask = causal_mask(x.shape[-2])  # (T, T)
    a, mha = multi_head_attention_forward(
        n1, p.w_q, p.w_k, p.w_v, p.w_o, num_heads=num_heads, mask=mask
    )  # (..., T, D)
    h = x + a  # (..., T, D): first residual connection
    n2, ln2 = layer_norm(h, p.ln2_gamma, p.ln2_beta, eps=eps)  # (..., T, D)
    u = linear(n2, p.w_1, p.b_1)  # (..., T, F)
    g = gelu(u, approximate=approximate)  # (..., T, F)
    out = h + linear(g, p.w_2, p.b_2)  # (..., T, D): second residual connection
    return out, BlockCache(p, ln1, mha, ln2, n2, u, g, approximate)
    # --8<-- [end:forward-body]


@guard
@vouches
# --8<-- [start:backward]
def block_backward(dout: ArrayLike, cache: BlockCache) -> tuple[Array, BlockParams]:
    # --8<-- [end:backward]
    r"""Backpropagate through [block_forward][llmath.calculus.block.block_forward].

    Walk the forward in reverse, every step through its own backward pass:

    $$
    \begin{aligned}
    dg &= d\text{out}\, W_2^\top, & du &= dg \odot \operatorname{GELU}'(u), &
    dn_2 &= du\, W_1^\top, \\
    dh &= d\text{out} + \overleftarrow{\operatorname{LN}_2}(dn_2), &
    dn_1 &= \overleftarrow{\operatorname{MHA}}(dh), &
    dx &= dh + \overleftarrow{\operatorname{LN}_1}(dn_1),
    \end{aligned}
    $$

    where $\overleftarrow{f}$ is the backward pass of $f$ (its vector-Jacobian product). At a
    residual connection $y = z + f(z)$ the gradient takes both paths and adds:
    $dz = dy\,(I + J_f) = dy + dy\, J_f$, with row vectors and $J_f = \partial f / \partial z$.

    Args:
        dout: gradient of the loss with respect to `out`, shape `(..., T, D)`.
        cache: the [BlockCache][llmath.calculus.block.BlockCache] of the forward pass.

    Returns:
        `(dx, grads)`: `dx` of shape `(..., T, D)` and a
            [BlockParams][llmath.calculus.block.BlockParams] holding each parameter's
            gradient (summed over tokens and batch), with the parameter's shape.

    Raises:
        ShapeError: if `dout` does not have the output's shape.
        ValueError: if `dout` is not a finite real array or `cache` is not a `BlockCache`.

    Examples:
        >>> D, F = 4, 8
        >>> p = BlockParams(np.ones(D), np.zeros(D), *[np.eye(D)] * 4, np.ones(D), np.zeros(D),
        ...                 np.zeros((D, F)), np.zeros(F), np.zeros((F, D)), np.zeros(D))
        >>> out, cache = block_forward(np.eye(3, D), p, num_heads=2)
        >>> dx, grads = block_backward(np.ones((3, D)), cache)
        >>> grads.b_2
        array([3., 3., 3., 3.])
    """
    # --8<-- [start:backward-body]
    cache = check_cache(cache, BlockCache, name="cache")
    p = cache.params
    dout = as_float_array(dout, name="dout", expected="(..., T, D)", min_ndim=2)
    _same_shape("dout", dout, cache.mha.x.shape, "(..., T, D)")
    dg, dw_2, db_2 = linear_backward(dout, cache.g, p.w_2)  # (..., T, F)
    du = dg * gelu_grad(cache.u, approximate=cache.approximate)  # (..., T, F)
    dn2, dw_1, db_1 = linear_backward(du, cache.n2, p.w_1)  # (..., T, D)
    dh_mlp, dgamma2, dbeta2 = layer_norm_backward(dn2, cache.ln2)  # (..., T, D)
    dh = dout + dh_mlp  # (..., T, D): residual + MLP branch
    dn1, dw_q, dw_k, dw_v, dw_o = multi_head_attention_backward(dh, cache.mha)
    dx_attn, dgamma1, dbeta1 = layer_norm_backward(dn1, cache.ln1)  # (..., T, D)
    dx = dh + dx_attn  # (..., T, D): residual + attention branch
    grads = BlockParams(
        dgamma1, dbeta1, dw_q, dw_k, dw_v, dw_o, dgamma2, dbeta2, dw_1, db_1, dw_2, db_2
    )
    return dx, grads
    # --8<-- [end:backward-body]
