r"""A decoder-only language model in GPT-2's layout, with a key-value cache and GPT-2's weights.

Token embedding, positions, $N$ pre-norm blocks, a final norm and an unembedding tied to the
embedding; the logits' softmax is the next-token distribution. Everything is reused from Parts
1-3 (embedding, multi-head attention, layer norm, GELU, cross-entropy) and this part (the MLP,
RMSNorm, sinusoidal positions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    as_int_array,
    check_bool,
    check_cache,
    check_choice,
    check_positive_int,
    check_real,
    check_rng,
    guard,
    vouches,
)
from llmath.attention.attention import causal_mask, scaled_dot_product_attention
from llmath.attention.multihead import merge_heads, split_heads
from llmath.calculus.cross_entropy import cross_entropy
from llmath.calculus.layernorm import layer_norm
from llmath.linalg.vectors import embed
from llmath.transformer.mlp import ACTIVATIONS, MLPParams, mlp
from llmath.transformer.norms import rms_norm
from llmath.transformer.positions import sinusoidal_positions

__all__ = [
    "KVCache",
    "LayerParams",
    "ModelConfig",
    "ModelParams",
    "decoder_block",
    "forward",
    "gpt2_params_from_state",
    "gpt2_state_from_params",
    "init",
    "next_token_loss",
]

Array = NDArray[np.float64]


# --8<-- [start:config]
@dataclass(frozen=True)
class ModelConfig:
    """The hyperparameters of a decoder-only model; the defaults are GPT-2's choices."""

    n_vocab: int  # nV, the vocabulary size
    n_ctx: int  # the context length: at most n_ctx positions
    D: int  # the model width
    H: int  # heads, dk = D / H
    n_layers: int  # N blocks
    F: int | None = None  # the MLP width; None means 4 D
    activation: str = "gelu_tanh"  # "relu" | "gelu" | "gelu_tanh" | "swiglu"
    norm: str = "layer"  # "layer" (GPT-2) | "rms" (LLaMA)
    positions: str = "learned"  # "learned" | "sinusoidal" | "none"
    bias: bool = True  # biases in the attention and the MLP
    eps: float = 1e-5  # epsilon of every norm
    tie_embeddings: bool = True  # unembedding = embedding transposed
    # --8<-- [end:config]

    def __post_init__(self) -> None:
        for name in ("n_vocab", "n_ctx", "D", "H", "n_layers"):
            check_positive_int(getattr(self, name), name=name)
        if self.F is not None:
            check_positive_int(self.F, name="F")
        if self.D % self.H:
            raise ValueError(f"H must divide D (heads of width D / H); got D={self.D}, H={self.H}")
        check_choice(self.activation, name="activation", choices=ACTIVATIONS)
        check_choice(self.norm, name="norm", choices=("layer", "rms"))
        check_choice(self.positions, name="positions", choices=("learned", "sinusoidal", "none"))
        if self.positions == "sinusoidal" and self.D % 2:
            raise ValueError(f"D must be even for positions='sinusoidal'; got D={self.D}")
        check_bool(self.bias, name="bias")
        check_bool(self.tie_embeddings, name="tie_embeddings")
        check_real(self.eps, name="eps", at_least=0)

    @property
    def d_ff(self) -> int:
        """The MLP width: `F`, or `4 D` if `F` is `None`."""
        return 4 * self.D if self.F is None else self.F


class LayerParams(NamedTuple):
    """One block's parameters; a bias or shift is `None` where the config has none."""

    ln1_gamma: Array
    """`(D,)`: scale of the norm before attention."""
    ln1_beta: Array | None
    """`(D,)`: its shift (`None` for RMSNorm or `bias=False`)."""
    w_q: Array
    """`(D, D)`."""
    w_k: Array
    """`(D, D)`."""
    w_v: Array
    """`(D, D)`."""
    w_o: Array
    """`(D, D)`."""
    b_q: Array | None
    """`(D,)`."""
    b_k: Array | None
    """`(D,)`."""
    b_v: Array | None
    """`(D,)`."""
    b_o: Array | None
    """`(D,)`."""
    ln2_gamma: Array
    """`(D,)`: scale of the norm before the MLP."""
    ln2_beta: Array | None
    """`(D,)`: its shift."""
    mlp: MLPParams
    """The [MLP][llmath.transformer.mlp.mlp]'s weights, `(D, F)` and `(F, D)`."""


class ModelParams(NamedTuple):
    """All the model's parameters."""

    wte: Array
    """`(nV, D)`: the token embedding (and, tied, the unembedding)."""
    wpe: Array | None
    """`(n_ctx, D)`: learned positions, `None` unless `positions="learned"`."""
    layers: tuple[LayerParams, ...]
    """The `N` blocks, bottom first."""
    lnf_gamma: Array
    """`(D,)`: scale of the final norm."""
    lnf_beta: Array | None
    """`(D,)`: its shift."""
    w_unembed: Array | None
    """`(D, nV)`: the unembedding if not tied, else `None`."""


class KVCache(NamedTuple):
    """The keys and values of every layer for the positions seen so far."""

    keys: tuple[Array, ...]
    """Per layer, `(..., H, S, dk)`."""
    values: tuple[Array, ...]
    """Per layer, `(..., H, S, dk)`."""


def _config(config: object) -> ModelConfig:
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig; got {type(config).__name__}")
    return config


def _arr(value: object, name: str, shape: tuple[int, ...], expected: str) -> Array:
    a = as_float_array(value, name=name, expected=expected, ndim=len(shape))  # type: ignore[arg-type]
    if a.shape != shape:
        raise ShapeError(f"{name} must have shape {expected} = {shape}; got {a.shape}")
    return a


def _opt(
    value: object, name: str, shape: tuple[int, ...], expected: str, want: bool
) -> Array | None:
    if not want:
        if value is not None:
            raise ValueError(f"{name} must be None for this config; got {type(value).__name__}")
        return None
    return _arr(value, name, shape, expected)


def _layer(lp: object, name: str, c: ModelConfig) -> LayerParams:
    if not isinstance(lp, tuple) or len(lp) != len(LayerParams._fields):
        raise ValueError(f"{name} must be a LayerParams; got {type(lp).__name__}")
    p = LayerParams(*lp)
    D, F, beta = c.D, c.d_ff, c.norm == "layer" and c.bias
    if not isinstance(p.mlp, tuple) or len(p.mlp) not in (4, 6):
        raise ValueError(f"{name}.mlp must be an MLPParams; got {type(p.mlp).__name__}")
    m = MLPParams(*p.mlp)
    glu = c.activation == "swiglu"
    v: tuple[tuple[int, ...], str] = ((D,), "(D,)")
    wq, wk, wv, wo = (_arr(p[i], f"{name}.{p._fields[i]}", (D, D), "(D, D)") for i in range(2, 6))
    bq, bk, bv, bo = (_opt(p[i], f"{name}.{p._fields[i]}", *v, c.bias) for i in range(6, 10))
    return LayerParams(
        _arr(p.ln1_gamma, f"{name}.ln1_gamma", *v),
        _opt(p.ln1_beta, f"{name}.ln1_beta", *v, beta),
        wq,
        wk,
        wv,
        wo,
        bq,
        bk,
        bv,
        bo,
        _arr(p.ln2_gamma, f"{name}.ln2_gamma", *v),
        _opt(p.ln2_beta, f"{name}.ln2_beta", *v, beta),
        MLPParams(
            _arr(m.w_in, f"{name}.mlp.w_in", (D, F), "(D, F)"),
            _opt(m.b_in, f"{name}.mlp.b_in", (F,), "(F,)", c.bias),
            _arr(m.w_out, f"{name}.mlp.w_out", (F, D), "(F, D)"),
            _opt(m.b_out, f"{name}.mlp.b_out", *v, c.bias),
            _opt(m.w_gate, f"{name}.mlp.w_gate", (D, F), "(D, F)", glu),
            _opt(m.b_gate, f"{name}.mlp.b_gate", (F,), "(F,)", glu and c.bias),
        ),
    )


def _params(params: object, c: ModelConfig) -> ModelParams:
    """Check every array's shape against the config and convert it to float64."""
    if not isinstance(params, tuple) or len(params) != len(ModelParams._fields):
        raise ValueError(f"params must be a ModelParams; got {type(params).__name__}")
    p = ModelParams(*params)
    if not isinstance(p.layers, tuple | list) or len(p.layers) != c.n_layers:
        raise ValueError(f"params.layers must hold config.n_layers = {c.n_layers} LayerParams")
    D, nV = c.D, c.n_vocab
    return ModelParams(
        _arr(p.wte, "params.wte", (nV, D), "(nV, D)"),
        _opt(p.wpe, "params.wpe", (c.n_ctx, D), "(n_ctx, D)", c.positions == "learned"),
        tuple(_layer(lp, f"params.layers[{i}]", c) for i, lp in enumerate(p.layers)),
        _arr(p.lnf_gamma, "params.lnf_gamma", (D,), "(D,)"),
        _opt(p.lnf_beta, "params.lnf_beta", (D,), "(D,)", c.norm == "layer" and c.bias),
        _opt(p.w_unembed, "params.w_unembed", (D, nV), "(D, nV)", not c.tie_embeddings),
    )


def _norm(x: Array, gamma: Array, beta: Array | None, c: ModelConfig) -> Array:
    if c.norm == "rms":
        return rms_norm(x, gamma, eps=c.eps)
    return layer_norm(x, gamma, np.zeros_like(gamma) if beta is None else beta, eps=c.eps)[0]


def _affine(x: Array, w: Array, b: Array | None) -> Array:
    return x @ w if b is None else x @ w + b  # (..., T, D)


# --8<-- [start:block]
def _block(
    x: Array, p: LayerParams, c: ModelConfig, past: tuple[Array, Array] | None
) -> tuple[Array, Array, Array]:
    """One pre-norm block: the output, and this layer's keys and values (past + new)."""
    n1 = _norm(x, p.ln1_gamma, p.ln1_beta, c)  # (..., T, D)
    q = split_heads(_affine(n1, p.w_q, p.b_q), c.H)  # (..., H, T, dk)
    k = split_heads(_affine(n1, p.w_k, p.b_k), c.H)  # (..., H, T, dk)
    v = split_heads(_affine(n1, p.w_v, p.b_v), c.H)  # (..., H, T, dk)
    if past is not None:  # the cached positions come first
        k = np.concatenate([past[0], k], axis=-2)  # (..., H, S, dk)
        v = np.concatenate([past[1], v], axis=-2)  # (..., H, S, dk)
    mask = causal_mask(q.shape[-2], k.shape[-2])  # (T, S): t sees keys <= S - T + t
    heads = scaled_dot_product_attention(q, k, v, mask).output  # (..., H, T, dk)
    h = x + _affine(merge_heads(heads), p.w_o, p.b_o)  # (..., T, D)
    n2 = _norm(h, p.ln2_gamma, p.ln2_beta, c)  # (..., T, D)
    return h + mlp(n2, p.mlp, activation=c.activation), k, v  # (..., T, D)
    # --8<-- [end:block]


@guard
@vouches
def decoder_block(x: ArrayLike, layer: LayerParams, *, config: ModelConfig) -> Array:
    r"""Apply one pre-norm block of the model to the residual stream, causally, without a cache.

    $$
    \begin{aligned}
    h &= x + \operatorname{MHA}(\operatorname{LN}_1(x)), \\
    \text{out} &= h + \operatorname{MLP}(\operatorname{LN}_2(h)),
    \end{aligned}
    $$

    with biases in the four attention projections ($x W_Q + b_Q$, ...) as in GPT-2's
    `c_attn`/`c_proj`. With zero biases, layer norm and `activation="gelu"` it is Part 2's
    [block_forward][llmath.calculus.block.block_forward].

    Args:
        x: the residual stream, shape `(..., T, D)`.
        layer: a [LayerParams][llmath.transformer.model.LayerParams] for `config`.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].

    Returns:
        Shape `(..., T, D)`.

    Raises:
        ShapeError: if `x` or a parameter has the wrong shape.
        ValueError: if an input contains NaN or infinity or `config` is not a ModelConfig.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> layer = init(c, np.random.default_rng(0)).layers[0]
        >>> decoder_block(np.eye(3, 4), layer, config=c).shape
        (3, 4)
    """
    c = _config(config)
    x = as_float_array(x, name="x", expected="(..., T, D)", min_ndim=2)
    if x.shape[-1] != c.D:
        raise ShapeError(f"x must have width config.D = {c.D}; got shape {x.shape}")
    return _block(x, _layer(layer, "layer", c), c, None)[0]


@guard
@vouches
# --8<-- [start:forward]
def forward(
    params: ModelParams,
    ids: ArrayLike,
    *,
    config: ModelConfig,
    cache: KVCache | None = None,
) -> tuple[Array, KVCache]:
    # --8<-- [end:forward]
    r"""Return the next-token logits for every position of `ids`, and the extended KV cache.

    $$
    \begin{aligned}
    x^{(0)}_t &= E_{i_t} + P_{S_0 + t}, \\
    x^{(\ell)} &= \operatorname{block}_\ell(x^{(\ell-1)}), \\
    z_t &= \operatorname{LN}_f(x^{(N)}_t)\, E^\top,
    \end{aligned}
    $$

    and $\operatorname{softmax}(z_t)$ is the model's distribution of token $t + 1$ given tokens
    $1..t$. $S_0$ is the number of positions already in `cache`: their keys and values are
    reused, not recomputed, and the new tokens are positions $S_0, \dots, S_0 + T - 1$.

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] for `config`.
        ids: token ids in $[0, n_V)$, shape `(..., T)`.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].
        cache: `None`, or the [KVCache][llmath.transformer.model.KVCache] returned by the
            previous call for the same sequences.

    Returns:
        `(logits, cache)`: logits of shape `(..., T, nV)` and the cache of all $S_0 + T$
            positions.

    Raises:
        ShapeError: if a parameter or the cache has the wrong shape.
        ValueError: if `ids` are not integers in $[0, n_V)$, $S_0 + T$ exceeds `n_ctx`, or
            `config`, `params` or `cache` is not what it should be.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> logits, cache = forward(p, [1, 2, 3], config=c)
        >>> logits.shape, cache.keys[0].shape
        ((3, 5), (2, 3, 2))
    """
    # --8<-- [start:forward-body]
    c = _config(config)
    p = _params(params, c)
    idx = _ids(ids, c)  # (..., T): integers in [0, nV)
    T = idx.shape[-1]
    past = None if cache is None else _cache(cache, c, idx.shape[:-1])
    S0 = 0 if past is None else past.keys[0].shape[-2]  # positions already cached
    if S0 + T > c.n_ctx:
        why = f"{T} tokens after {S0} cached"
        raise ValueError(f"ids: {why} exceed the context config.n_ctx = {c.n_ctx}")
    x = embed(idx, p.wte)  # (..., T, D)
    if c.positions == "learned":
        x = x + p.wpe[S0 : S0 + T]  # type: ignore[index]
    elif c.positions == "sinusoidal":
        x = x + sinusoidal_positions(S0 + T, c.D)[S0:]  # (T, D)
    keys, values = [], []
    for i, layer in enumerate(p.layers):
        kv = None if past is None else (past.keys[i], past.values[i])
        x, k, v = _block(x, layer, c, kv)  # (..., T, D)
        keys.append(k)
        values.append(v)
    x = _norm(x, p.lnf_gamma, p.lnf_beta, c)  # (..., T, D)
    w_u = p.wte.T if p.w_unembed is None else p.w_unembed  # (D, nV): tied unless given
    return x @ w_u, KVCache(tuple(keys), tuple(values))  # (..., T, nV)
    # --8<-- [end:forward-body]


def _ids(ids: object, c: ModelConfig) -> NDArray[np.intp]:
    idx = as_int_array(ids, name="ids", expected="(..., T)", high=c.n_vocab,  # type: ignore[arg-type]
                       high_from="config.n_vocab")  # fmt: skip
    if idx.ndim == 0:
        raise ShapeError("ids must have shape (..., T), at least one axis; got a scalar")
    return idx


def _cache(cache: object, c: ModelConfig, lead: tuple[int, ...]) -> KVCache:
    kv = check_cache(cache, KVCache, name="cache")
    if not all(isinstance(t, tuple | list) and len(t) == c.n_layers for t in kv):
        raise ValueError(f"cache must hold keys and values for config.n_layers = {c.n_layers}")
    S = np.shape(kv.keys[0])[-2] if np.ndim(kv.keys[0]) >= 2 else 0
    shape = (*lead, c.H, S, c.D // c.H)
    want = f"(..., H, S, dk) = {shape}"
    return KVCache(
        *(
            tuple(_arr(a, f"cache.{n}[{i}]", shape, want) for i, a in enumerate(t))
            for n, t in zip(KVCache._fields, kv, strict=True)
        )
    )


@guard
# --8<-- [start:loss]
def next_token_loss(params: ModelParams, ids: ArrayLike, *, config: ModelConfig) -> float:
    # --8<-- [end:loss]
    r"""Return the mean cross-entropy of predicting each token of `ids` from the ones before it.

    $$
    \mathcal{L} = -\frac{1}{T - 1} \sum_{t=1}^{T-1} \log p_\theta(i_{t+1} \mid i_1, \dots, i_t),
    $$

    averaged over the batch too: the logits of positions $1..T-1$ against the targets shifted
    by one, through Part 2's [cross_entropy][llmath.calculus.cross_entropy.cross_entropy].

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] for `config`.
        ids: token ids, shape `(..., T)` with $2 \le T \le$ `n_ctx + 1`.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].

    Returns:
        The loss in nats.

    Raises:
        ValueError: as [forward][llmath.transformer.model.forward], or if $T < 2$.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> round(next_token_loss(p, [1, 2, 3, 4], config=c), 2)  # near log 5 = 1.61 at initialisation
        1.63
    """
    # --8<-- [start:loss-body]
    idx = as_int_array(ids, name="ids", expected="(..., T)", high=_config(config).n_vocab)
    if idx.ndim == 0 or idx.shape[-1] < 2:
        raise ShapeError(f"ids must have shape (..., T) with T >= 2; got {idx.shape}")
    logits, _ = forward(params, idx[..., :-1], config=config)  # (..., T-1, nV)
    return cross_entropy(logits, idx[..., 1:])  # targets: the next tokens
    # --8<-- [end:loss-body]


def init(config: ModelConfig, rng: np.random.Generator) -> ModelParams:
    r"""Return GPT-2's initialisation: $\mathcal{N}(0, 0.02^2)$ weights, zero biases, unit scales.

    The two projections that write into the residual stream ($W_O$ and the MLP's $W_\text{out}$)
    get standard deviation $0.02 / \sqrt{2N}$, so the stream's variance stays about the same
    with depth (Radford et al. 2019, section 2.3).

    Args:
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].
        rng: the only source of randomness.

    Returns:
        A [ModelParams][llmath.transformer.model.ModelParams].

    Raises:
        ValueError: if `config` or `rng` is not what it should be.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> p.wte.shape, p.layers[0].mlp.w_in.shape
        ((5, 4), (4, 16))
    """
    c, rng = _config(config), check_rng(rng)
    D, F, std = c.D, c.d_ff, 0.02
    out_std = std / math.sqrt(2 * c.n_layers)

    def w(*shape: int, s: float = std) -> Array:
        return rng.normal(0.0, s, size=shape)

    def zeros(n: int, want: bool) -> Array | None:
        return np.zeros(n) if want else None

    beta = c.norm == "layer" and c.bias
    glu = c.activation == "swiglu"
    wte = w(c.n_vocab, D)
    wpe = w(c.n_ctx, D) if c.positions == "learned" else None
    layers = []
    for _ in range(c.n_layers):
        wq, wk, wv, wo = w(D, D), w(D, D), w(D, D), w(D, D, s=out_std)
        bq, bk, bv, bo = (zeros(D, c.bias) for _ in range(4))
        m = MLPParams(w(D, F), zeros(F, c.bias), w(F, D, s=out_std), zeros(D, c.bias))
        if glu:
            m = m._replace(w_gate=w(D, F), b_gate=zeros(F, c.bias))
        ln1, ln2 = (np.ones(D), zeros(D, beta)), (np.ones(D), zeros(D, beta))
        layers.append(LayerParams(*ln1, wq, wk, wv, wo, bq, bk, bv, bo, *ln2, m))
    w_unembed = None if c.tie_embeddings else w(D, c.n_vocab)
    return ModelParams(wte, wpe, tuple(layers), np.ones(D), zeros(D, beta), w_unembed)


def _np(value: Any) -> Any:
    return np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)


# --8<-- [start:gpt2]
def gpt2_params_from_state(state: Mapping[str, ArrayLike], config: ModelConfig) -> ModelParams:
    # --8<-- [end:gpt2]
    r"""Map the weights of a Hugging Face GPT-2 (`GPT2LMHeadModel.state_dict()`) to ModelParams.

    GPT-2's linear layers are `Conv1D` modules, which store their weight as `(in, out)` and
    compute $xW + b$: the book's row convention, so no transpose is needed (unlike
    `torch.nn.Linear`, which stores `(out, in)`). `c_attn` holds $[W_Q\; W_K\; W_V]$ side by
    side, shape `(D, 3D)`, and is split in three.

    Args:
        state: name to array, with or without the `transformer.` prefix (`GPT2Model`'s state
            has none); torch tensors on the CPU are accepted.
        config: a GPT-2-shaped [ModelConfig][llmath.transformer.model.ModelConfig]: layer
            norm, learned positions, biases, not SwiGLU.

    Returns:
        A [ModelParams][llmath.transformer.model.ModelParams] in float64.

    Raises:
        ValueError: if a name is missing, an array has the wrong shape, or `config` does not
            describe a GPT-2.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> state = {k: np.zeros(s) for k, s in [("wte.weight", (5, 4)), ("wpe.weight", (4, 4)),
        ...     ("ln_f.weight", (4,)), ("ln_f.bias", (4,))]}
        >>> gpt2_params_from_state(state, c)
        Traceback (most recent call last):
        ...
        ValueError: state has no 'h.0.attn.c_attn.weight' (a GPT-2 state dict for config.n_layers = 1)
    """
    c = _config(config)
    if c.norm != "layer" or c.positions != "learned" or not c.bias or c.activation == "swiglu":
        raise ValueError("config must describe a GPT-2: norm='layer', positions='learned', bias")
    if not isinstance(state, Mapping):
        raise ValueError(f"state must be a mapping of names to arrays; got {type(state).__name__}")
    pre = "transformer." if "transformer.wte.weight" in state else ""

    def get(name: str) -> Any:
        if pre + name not in state:
            why = f"a GPT-2 state dict for config.n_layers = {c.n_layers}"
            raise ValueError(f"state has no {pre + name!r} ({why})")
        return _np(state[pre + name])

    layers = []
    for i in range(c.n_layers):
        h = f"h.{i}."
        qkv = get(h + "attn.c_attn.weight")  # (D, 3D): [W_Q W_K W_V]
        bqkv = get(h + "attn.c_attn.bias")  # (3D,)
        if np.shape(qkv) != (c.D, 3 * c.D) or np.shape(bqkv) != (3 * c.D,):
            raise ShapeError(
                f"state[{h}attn.c_attn.*] must have shapes (D, 3D) and (3D,) with D = {c.D}; "
                f"got {np.shape(qkv)} and {np.shape(bqkv)}"
            )
        ln1 = (get(h + "ln_1.weight"), get(h + "ln_1.bias"))
        ln2 = (get(h + "ln_2.weight"), get(h + "ln_2.bias"))
        w_o, b_o = get(h + "attn.c_proj.weight"), get(h + "attn.c_proj.bias")
        fc, proj = (
            (get(h + "mlp.c_fc.weight"), get(h + "mlp.c_fc.bias")),
            (
                get(h + "mlp.c_proj.weight"),
                get(h + "mlp.c_proj.bias"),
            ),
        )
        wq, wk, wv = np.split(np.asarray(qkv), 3, axis=1)  # each (D, D)
        bq, bk, bv = np.split(np.asarray(bqkv), 3)  # each (D,)
        mp = MLPParams(*fc, *proj)
        layers.append(LayerParams(*ln1, wq, wk, wv, w_o, bq, bk, bv, b_o, *ln2, mp))
    if not c.tie_embeddings and "lm_head.weight" not in state:
        raise ValueError("state has no 'lm_head.weight' (config.tie_embeddings is False)")
    w_u = None if c.tie_embeddings else _np(state["lm_head.weight"]).T  # (D, nV): no prefix
    lnf = (get("ln_f.weight"), get("ln_f.bias"))
    raw = ModelParams(get("wte.weight"), get("wpe.weight"), tuple(layers), *lnf, w_u)
    try:
        return _params(raw, c)
    except ValueError as err:  # name the state, not the params structure, in the message
        raise type(err)(f"state: {err}") from None


def gpt2_state_from_params(params: ModelParams, config: ModelConfig) -> dict[str, Array]:
    r"""The inverse of [gpt2_params_from_state][llmath.transformer.model.gpt2_params_from_state]:
    the arrays of `params` under `GPT2LMHeadModel`'s names.

    $W_Q, W_K, W_V$ are put side by side into `c_attn`, shape `(D, 3D)` (the `Conv1D` layout,
    `(in, out)`), and every name carries the `transformer.` prefix; an untied unembedding is
    `lm_head.weight`, stored `(nV, D)` as `torch.nn.Linear` stores it. Copying the result into a
    `GPT2LMHeadModel` of the same shape gives Hugging Face the book's weights; a gradient
    returned as ModelParams maps the same way.

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] for `config`.
        config: a GPT-2-shaped [ModelConfig][llmath.transformer.model.ModelConfig].

    Returns:
        Name to float64 array.

    Raises:
        ValueError: if `config` does not describe a GPT-2 or `params` does not fit it.

    Examples:
        >>> c = ModelConfig(n_vocab=5, n_ctx=4, D=4, H=2, n_layers=1)
        >>> state = gpt2_state_from_params(init(c, np.random.default_rng(0)), c)
        >>> state["transformer.h.0.attn.c_attn.weight"].shape
        (4, 12)
    """
    c = _config(config)
    if c.norm != "layer" or c.positions != "learned" or not c.bias or c.activation == "swiglu":
        raise ValueError("config must describe a GPT-2: norm='layer', positions='learned', bias")
    p = _params(params, c)
    state: dict[str, Any] = {"wte.weight": p.wte, "wpe.weight": p.wpe,
                             "ln_f.weight": p.lnf_gamma, "ln_f.bias": p.lnf_beta}  # fmt: skip
    for i, lp in enumerate(p.layers):
        h = f"h.{i}."
        state |= {
            h + "ln_1.weight": lp.ln1_gamma, h + "ln_1.bias": lp.ln1_beta,
            h + "attn.c_attn.weight": np.concatenate([lp.w_q, lp.w_k, lp.w_v], axis=1),
            h + "attn.c_attn.bias": np.concatenate([lp.b_q, lp.b_k, lp.b_v]),
            h + "attn.c_proj.weight": lp.w_o, h + "attn.c_proj.bias": lp.b_o,
            h + "ln_2.weight": lp.ln2_gamma, h + "ln_2.bias": lp.ln2_beta,
            h + "mlp.c_fc.weight": lp.mlp.w_in, h + "mlp.c_fc.bias": lp.mlp.b_in,
            h + "mlp.c_proj.weight": lp.mlp.w_out, h + "mlp.c_proj.bias": lp.mlp.b_out,
        }  # fmt: skip
    out: dict[str, Array] = {"transformer." + k: v for k, v in state.items() if v is not None}
    if p.w_unembed is not None:
        out["lm_head.weight"] = p.w_unembed.T  # (nV, D): nn.Linear's (out, in)
    return out
