r"""The backward pass of Part 4's whole model, and one training step.

Part 2 wrote the backward pass of one block (layer norm, attention, GELU MLP, cross-entropy);
this module chains it through the whole decoder: embedding and learned positions at the
bottom, the attention and MLP biases inside each block, the final norm, and the unembedding.
With tied embeddings the table $E$ is used twice, at the bottom (a row lookup) and at the top
($z = \hat x E^\top$), so its gradient is the sum of both contributions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_int_array, check_real, guard, vouches
from llmath.attention.attention import causal_mask, scaled_dot_product_attention
from llmath.attention.multihead import merge_heads, split_heads
from llmath.calculus.activations import gelu, gelu_grad, sigmoid
from llmath.calculus.attention_grad import scaled_dot_product_attention_backward
from llmath.calculus.cross_entropy import cross_entropy, cross_entropy_grad
from llmath.calculus.layernorm import LayerNormCache, layer_norm, layer_norm_backward
from llmath.transformer.mlp import MLPParams
from llmath.transformer.model import (
    LayerParams,
    ModelConfig,
    ModelParams,
    _config,
    _params,
)
from llmath.transformer.norms import rms_norm
from llmath.transformer.positions import sinusoidal_positions

__all__ = ["loss_and_grads", "parameters", "train_step"]

Array = NDArray[np.float64]


class _Optimizer(Protocol):
    """What [train_step][llmath.training.backward.train_step] needs of an optimiser."""

    lr: float

    def step(self, grads: Sequence[ArrayLike]) -> None:
        """Update the parameters given at construction in place."""


# ---- forward with caches ------------------------------------------------------------------


class _Norm(NamedTuple):
    x: Array  # (..., T, D): the input (for RMSNorm)
    ln: LayerNormCache | None  # layer norm's cache, or None for RMSNorm
    gamma: Array  # (D,)


class _Layer(NamedTuple):
    norm1: _Norm
    n1: Array  # (..., T, D)
    q: Array  # (..., H, T, dk)
    k: Array  # (..., H, T, dk)
    v: Array  # (..., H, T, dk)
    weights: Array  # (..., H, T, T)
    merged: Array  # (..., T, D)
    norm2: _Norm
    n2: Array  # (..., T, D)
    u: Array  # (..., T, F): the MLP's pre-activation (SwiGLU's "up")
    z: Array | None  # (..., T, F): SwiGLU's gate pre-activation
    g: Array  # (..., T, F): the activation, the input of W_out


def _norm(x: Array, gamma: Array, beta: Array | None, c: ModelConfig) -> tuple[Array, _Norm]:
    """Part 4's norm (the same arithmetic as the model's forward) and what its backward needs."""
    if c.norm == "rms":
        return rms_norm(x, gamma, eps=c.eps), _Norm(x, None, gamma)
    y, ln = layer_norm(x, gamma, np.zeros_like(gamma) if beta is None else beta, eps=c.eps)
    return y, _Norm(x, ln, gamma)


def _norm_backward(dy: Array, cache: _Norm, c: ModelConfig) -> tuple[Array, Array, Array]:
    r"""Return `(dx, dgamma, dbeta)`; RMSNorm: $dx = r(g - \hat x\,\overline{g \hat x})$."""
    if cache.ln is not None:
        return layer_norm_backward(dy, cache.ln)
    x = cache.x
    r = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + c.eps)  # (..., T, 1)
    x_hat = x * r  # (..., T, D)
    lead = tuple(range(dy.ndim - 1))
    g = dy * cache.gamma  # (..., T, D)
    dx = r * (g - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))  # (..., T, D)
    return dx, (dy * x_hat).sum(axis=lead), dy.sum(axis=lead)


def _affine(x: Array, w: Array, b: Array | None) -> Array:
    return x @ w if b is None else x @ w + b  # (..., T, M)


def _block(x: Array, p: LayerParams, c: ModelConfig) -> tuple[Array, _Layer]:
    n1, norm1 = _norm(x, p.ln1_gamma, p.ln1_beta, c)  # (..., T, D)
    q = split_heads(_affine(n1, p.w_q, p.b_q), c.H)  # (..., H, T, dk)
    k = split_heads(_affine(n1, p.w_k, p.b_k), c.H)  # (..., H, T, dk)
    v = split_heads(_affine(n1, p.w_v, p.b_v), c.H)  # (..., H, T, dk)
    heads, weights = scaled_dot_product_attention(q, k, v, causal_mask(q.shape[-2]))
    merged = merge_heads(heads)  # (..., T, D)
    h = x + _affine(merged, p.w_o, p.b_o)  # (..., T, D)
    n2, norm2 = _norm(h, p.ln2_gamma, p.ln2_beta, c)  # (..., T, D)
    m: Any = p.mlp  # MLPParams: float64 arrays after _params
    u = _affine(n2, m.w_in, m.b_in)  # (..., T, F)
    z = None
    if c.activation == "relu":
        g = np.maximum(u, 0.0)  # (..., T, F)
    elif c.activation == "gelu":
        g = gelu(u)  # (..., T, F)
    elif c.activation == "gelu_tanh":
        g = gelu(u, approximate="tanh")  # (..., T, F)
    else:
        z = _affine(n2, m.w_gate, m.b_gate)  # (..., T, F): the gate
        g = z * sigmoid(z) * u  # (..., T, F): SiLU(gate) * up
    out = h + _affine(g, m.w_out, m.b_out)  # (..., T, D)
    return out, _Layer(norm1, n1, q, k, v, weights, merged, norm2, n2, u, z, g)


# ---- backward -----------------------------------------------------------------------------


def _dw(x: Array, dy: Array) -> Array:
    r"""$X^\top dY$ summed over every row of every leading axis: `(N, M)`."""
    return x.reshape(-1, x.shape[-1]).T @ dy.reshape(-1, dy.shape[-1])


def _db(dy: Array, want: bool) -> Array | None:
    return dy.reshape(-1, dy.shape[-1]).sum(axis=0) if want else None


def _block_backward(
    dout: Array, p: LayerParams, cache: _Layer, c: ModelConfig
) -> tuple[Array, LayerParams]:
    m: Any = p.mlp  # MLPParams: float64 arrays after _params
    bias = c.bias
    beta = c.norm == "layer" and c.bias
    # MLP: out = h + g W_out + b_out
    dg = dout @ m.w_out.T  # (..., T, F)
    dw_out, db_out = _dw(cache.g, dout), _db(dout, bias)
    dw_gate = db_gate = None
    if c.activation == "swiglu":
        z, u = cache.z, cache.u
        assert z is not None
        s = sigmoid(z)  # (..., T, F)
        du = dg * (z * s)  # (..., T, F): g = SiLU(z) u
        dz = dg * u * (s + z * s * (1.0 - s))  # (..., T, F): SiLU'(z) = s + z s (1 - s)
        dn2 = du @ m.w_in.T + dz @ m.w_gate.T  # (..., T, D)
        dw_gate, db_gate = _dw(cache.n2, dz), _db(dz, bias)
    else:
        if c.activation == "relu":
            du = dg * (cache.u > 0)  # (..., T, F)
        else:
            approx = "tanh" if c.activation == "gelu_tanh" else "none"
            du = dg * gelu_grad(cache.u, approximate=approx)  # (..., T, F)
        dn2 = du @ m.w_in.T  # (..., T, D)
    dw_in, db_in = _dw(cache.n2, du), _db(du, bias)
    dh_mlp, dgamma2, dbeta2 = _norm_backward(dn2, cache.norm2, c)
    dh = dout + dh_mlp  # (..., T, D): both paths of the residual
    # attention: h = x + merged W_O + b_O
    d_merged = dh @ p.w_o.T  # (..., T, D)
    dw_o, db_o = _dw(cache.merged, dh), _db(dh, bias)
    dq, dk, dv = scaled_dot_product_attention_backward(
        split_heads(d_merged, c.H), cache.q, cache.k, cache.v, cache.weights
    )  # each (..., H, T, dk)
    dQ, dK, dV = merge_heads(dq), merge_heads(dk), merge_heads(dv)  # each (..., T, D)
    dn1 = dQ @ p.w_q.T + dK @ p.w_k.T + dV @ p.w_v.T  # (..., T, D): n1 fed all three
    dx_attn, dgamma1, dbeta1 = _norm_backward(dn1, cache.norm1, c)
    grads = LayerParams(
        dgamma1,
        dbeta1 if beta else None,
        _dw(cache.n1, dQ),
        _dw(cache.n1, dK),
        _dw(cache.n1, dV),
        dw_o,
        _db(dQ, bias),
        _db(dK, bias),
        _db(dV, bias),
        db_o,
        dgamma2,
        dbeta2 if beta else None,
        MLPParams(dw_in, db_in, dw_out, db_out, dw_gate, db_gate),
    )
    return dh + dx_attn, grads


# --8<-- [start:loss-and-grads-body]
def _loss_and_grads(
    p: ModelParams, idx: NDArray[np.intp], c: ModelConfig
) -> tuple[float, ModelParams]:
    inputs, targets = idx[..., :-1], idx[..., 1:]  # (..., T) each
    T = inputs.shape[-1]
    x = p.wte[inputs]  # (..., T, D)
    if c.positions == "learned":
        x = x + p.wpe[:T]  # type: ignore[index]
    elif c.positions == "sinusoidal":
        x = x + sinusoidal_positions(T, c.D)  # (T, D)
    caches = []
    for layer in p.layers:
        x, cache = _block(x, layer, c)  # (..., T, D)
        caches.append(cache)
    xf, normf = _norm(x, p.lnf_gamma, p.lnf_beta, c)  # (..., T, D)
    w_u = p.wte.T if p.w_unembed is None else p.w_unembed  # (D, nV)
    logits = xf @ w_u  # (..., T, nV)
    loss = cross_entropy(logits, targets)
    # backward: every step of the forward, in reverse
    dlogits = cross_entropy_grad(logits, targets)  # (..., T, nV): (softmax - e_y) / n
    dw_u = _dw(xf, dlogits)  # (D, nV)
    dx, dgamma_f, dbeta_f = _norm_backward(dlogits @ w_u.T, normf, c)  # (..., T, D)
    layer_grads = []
    for layer, cache in zip(p.layers[::-1], caches[::-1], strict=True):
        dx, lg = _block_backward(dx, layer, cache, c)  # (..., T, D)
        layer_grads.append(lg)
    dwte = np.zeros_like(p.wte)  # (nV, D)
    np.add.at(dwte, inputs.ravel(), dx.reshape(-1, c.D))  # the lookup: rows add up
    dwpe = None
    if c.positions == "learned":
        dwpe = np.zeros_like(p.wpe)  # (n_ctx, D)
        dwpe[:T] = dx.reshape(-1, T, c.D).sum(axis=0)
    if c.tie_embeddings:
        dwte += dw_u.T  # the same table, used again at the top
    grads = ModelParams(
        dwte,
        dwpe,
        tuple(layer_grads[::-1]),
        dgamma_f,
        dbeta_f if c.norm == "layer" and c.bias else None,
        None if c.tie_embeddings else dw_u,
    )
    return loss, grads
    # --8<-- [end:loss-and-grads-body]


def _ids(ids: ArrayLike, c: ModelConfig) -> NDArray[np.intp]:
    idx = as_int_array(ids, name="ids", expected="(..., T)", high=c.n_vocab,
                       high_from="config.n_vocab")  # fmt: skip
    if idx.ndim == 0 or idx.shape[-1] < 2:
        raise ShapeError(f"ids must have shape (..., T) with T >= 2; got {idx.shape}")
    if idx.shape[-1] - 1 > c.n_ctx:
        why = f"{idx.shape[-1] - 1} input tokens exceed the context config.n_ctx = {c.n_ctx}"
        raise ValueError(f"ids: {why}")
    return idx


@guard
@vouches
# --8<-- [start:loss-and-grads]
def loss_and_grads(
    params: ModelParams, ids: ArrayLike, *, config: ModelConfig
) -> tuple[float, ModelParams]:
    # --8<-- [end:loss-and-grads]
    r"""Return the next-token loss of `ids` and its gradient with respect to every parameter.

    The loss is [next_token_loss][llmath.transformer.model.next_token_loss]; the gradient
    runs the forward in reverse. At the top, $dz_t = (\operatorname{softmax}(z_t) -
    e_{i_{t+1}})/n$; each block is Part 2's
    [block_backward][llmath.calculus.block.block_backward] plus its biases
    ($db = \sum_t dy_t$); at the bottom the lookup $x_t = E_{i_t} + P_t$ sends $dx_t$ to row
    $i_t$ of $E$ (rows of repeated tokens add) and to row $t$ of $P$. A tied table also
    receives the unembedding's gradient:

    $$
    \begin{aligned}
    \frac{\partial \mathcal{L}}{\partial E}
    &= \sum_{t} e_{i_t}\, dx_t^{(0)} + dZ^\top \hat X .
    \end{aligned}
    $$

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] for `config`.
        ids: token ids, shape `(..., T)` with $2 \le T \le$ `n_ctx + 1`.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].

    Returns:
        `(loss, grads)`: the loss in nats and a
            [ModelParams][llmath.transformer.model.ModelParams] of gradients, each with its
            parameter's shape (`None` where the parameter is `None`).

    Raises:
        ShapeError: if a parameter has the wrong shape or $T < 2$.
        ValueError: as [forward][llmath.transformer.model.forward].

    Examples:
        >>> from llmath.transformer.model import init, next_token_loss
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> loss, grads = loss_and_grads(p, [1, 2, 3, 4], config=c)
        >>> loss == next_token_loss(p, [1, 2, 3, 4], config=c), grads.wte.shape
        (True, (5, 4))
    """
    c = _config(config)
    return _loss_and_grads(_params(params, c), _ids(ids, c), c)


def _leaves(tree: Any, name: str) -> list[Any]:
    if tree is None:
        return []
    if isinstance(tree, tuple):
        return [a for i, t in enumerate(tree) for a in _leaves(t, f"{name}[{i}]")]
    return [tree]


# --8<-- [start:parameters]
def parameters(params: ModelParams) -> list[Array]:
    # --8<-- [end:parameters]
    r"""Return the model's arrays in a fixed order (field order, layers bottom first), no copies.

    The order is that of the fields of [ModelParams][llmath.transformer.model.ModelParams],
    [LayerParams][llmath.transformer.model.LayerParams] and
    [MLPParams][llmath.transformer.mlp.MLPParams]; `None` entries are skipped. The arrays are
    the ones inside `params`, so an optimiser built on this list updates the model in place,
    and `parameters(grads)` lists the matching gradients in the same order.

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] (or its gradients).

    Returns:
        The list of float64 arrays.

    Raises:
        ValueError: if `params` is not a ModelParams of float64 arrays.

    Examples:
        >>> from llmath.transformer.model import init
        >>> p = init(ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1), np.random.default_rng(0))
        >>> arrays = parameters(p)
        >>> len(arrays), arrays[0] is p.wte, sum(a.size for a in arrays)
        (20, True, 288)
    """
    if not isinstance(params, tuple) or len(params) != len(ModelParams._fields):
        raise ValueError(f"params must be a ModelParams; got {type(params).__name__}")
    arrays = _leaves(params, "params")
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype != np.float64:
            what = type(a).__name__ if not isinstance(a, np.ndarray) else f"dtype {a.dtype}"
            raise ValueError(
                f"params must hold float64 numpy arrays (updated in place); got {what}"
            )
    return arrays


@guard
@vouches
# --8<-- [start:train-step]
def train_step(
    params: ModelParams,
    ids: ArrayLike,
    optimizer: _Optimizer,
    *,
    config: ModelConfig,
    lr: float | None = None,
    max_norm: float | None = None,
) -> tuple[float, float]:
    # --8<-- [end:train-step]
    r"""Take one optimisation step on the batch `ids`: loss, gradients, clipping, update.

    $$
    \begin{aligned}
    g &= \nabla_\theta \mathcal{L}(\theta), \\
    g &\leftarrow g \min\bigl(1, c / \lVert g \rVert\bigr), \\
    \theta &\leftarrow \operatorname{opt}(\theta, g; \eta),
    \end{aligned}
    $$

    with the global norm $\lVert g \rVert$ over all parameters (torch's `clip_grad_norm_`)
    and $c$ = `max_norm`. The optimiser must have been built on
    [parameters][llmath.training.backward.parameters]`(params)`: its `step` updates those
    arrays, so `params` itself holds the new weights afterwards.

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] of float64 arrays.
        ids: token ids, shape `(..., T)` with $2 \le T \le$ `n_ctx + 1`.
        optimizer: e.g. [AdamW][llmath.training.optimizers.AdamW] on `parameters(params)`.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].
        lr: if given, the learning rate $\eta$ of this step (set as `optimizer.lr`).
        max_norm: if given, clip the gradient's global norm to at most this.

    Returns:
        `(loss, grad_norm)`: the loss before the step and the gradient's global norm before
            clipping.

    Raises:
        ValueError: as [loss_and_grads][llmath.training.backward.loss_and_grads], or if `lr`
            is negative, `max_norm` is not positive, or `optimizer` has no `step`.

    Examples:
        >>> from llmath.transformer.model import init
        >>> from llmath.training.optimizers import SGD
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> opt = SGD(parameters(p), lr=0.1)
        >>> before, _ = train_step(p, [1, 2, 3, 4], opt, config=c)
        >>> after, _ = train_step(p, [1, 2, 3, 4], opt, config=c)
        >>> after < before
        True
    """
    c = _config(config)
    if not callable(getattr(optimizer, "step", None)):
        raise ValueError(
            f"optimizer must have a step(grads) method; got {type(optimizer).__name__}"
        )
    if lr is not None:
        lr = check_real(lr, name="lr", at_least=0)
    if max_norm is not None:
        max_norm = check_real(max_norm, name="max_norm", above=0)
    arrays = parameters(params)
    owned = getattr(optimizer, "params", None)
    if owned is not None and (
        len(owned) != len(arrays) or any(a is not b for a, b in zip(owned, arrays, strict=False))
    ):
        raise ValueError("optimizer must be built on parameters(params), the same arrays")
    loss, grads = _loss_and_grads(_params(params, c), _ids(ids, c), c)
    g = parameters(grads)
    if max_norm is not None:
        from llmath.training.schedules import clip_grad_norm

        g, norm = clip_grad_norm(g, max_norm)
    else:
        norm = float(np.linalg.norm([np.linalg.norm(a) for a in g]))
    assert len(g) == len(arrays)
    if lr is not None:
        optimizer.lr = lr
    optimizer.step(g)
    return loss, float(norm)
