r"""A BERT-style encoder (Devlin et al., 2019) assembled from the book's functions.

Embeddings (token + position + token type) and a layer norm, then $N$ *post*-norm blocks:
each sub-layer's output is added to the stream and the sum is normalised, the order of the
original transformer and of BERT (GPT-2 and Part 4's model normalise *before* each sub-layer).
Attention is bidirectional: every token sees every real token of its sentence, and a padding
mask hides the padding. Mean pooling over the real tokens turns the hidden states into one
sentence vector (Reimers and Gurevych, 2019, sect. 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    as_int_array,
    check_choice,
    check_positive_int,
    check_real,
    guard,
)
from llmath.attention.attention import scaled_dot_product_attention
from llmath.attention.multihead import merge_heads, split_heads
from llmath.calculus.layernorm import layer_norm
from llmath.linalg.vectors import embed
from llmath.transformer.mlp import MLPParams, mlp
from llmath.transformer.model import LayerParams, ModelConfig, _affine, _arr, _layer

__all__ = [
    "BertConfig",
    "BertParams",
    "bert_attention",
    "bert_config_from_hf",
    "bert_encoder",
    "bert_params_from_state",
    "mean_pool",
]

Array = NDArray[np.float64]


# --8<-- [start:config]
@dataclass(frozen=True)
class BertConfig:
    """The hyperparameters of a BERT-style encoder (no defaults: every model states its own)."""

    n_vocab: int  # nV, the WordPiece vocabulary size
    n_ctx: int  # the number of learned positions (BERT's max_position_embeddings)
    n_types: int  # token types ("segments"): 2 in BERT, sentence A and sentence B
    D: int  # the model width
    H: int  # heads, dk = D / H
    n_layers: int  # N blocks
    F: int  # the MLP width
    eps: float = 1e-12  # epsilon of every layer norm (BERT's value)
    activation: str = "gelu"  # the MLP's: "gelu" is the exact, erf-based GELU
    # --8<-- [end:config]

    def __post_init__(self) -> None:
        for name in ("n_vocab", "n_ctx", "n_types", "D", "H", "n_layers", "F"):
            check_positive_int(getattr(self, name), name=name)
        if self.D % self.H:
            raise ValueError(f"H must divide D (heads of width D / H); got D={self.D}, H={self.H}")
        check_real(self.eps, name="eps", at_least=0)
        check_choice(self.activation, name="activation", choices=("relu", "gelu", "gelu_tanh"))


class BertParams(NamedTuple):
    """All the encoder's parameters, float64, in the book's row convention (`x @ W`)."""

    word: Array
    """`(nV, D)`: the token (WordPiece) embedding."""
    position: Array
    """`(n_ctx, D)`: learned absolute positions."""
    token_type: Array
    """`(n_types, D)`: the segment embedding."""
    emb_gamma: Array
    """`(D,)`: scale of the layer norm after the embeddings."""
    emb_beta: Array
    """`(D,)`: its shift."""
    layers: tuple[LayerParams, ...]
    """The `N` blocks, bottom first, as Part 4's
    [LayerParams][llmath.transformer.model.LayerParams]; in a post-norm block `ln1_*` is the
    norm *after* attention and `ln2_*` the norm after the MLP."""


def bert_config_from_hf(hf: Mapping[str, Any]) -> BertConfig:
    r"""Read a [BertConfig][llmath.models.bert.BertConfig] from a Hugging Face `config.json`.

    Args:
        hf: the parsed JSON: `vocab_size`, `max_position_embeddings`, `type_vocab_size`,
            `hidden_size`, `num_attention_heads`, `num_hidden_layers`, `intermediate_size`,
            `layer_norm_eps` and `hidden_act` (`"gelu"`, `"relu"` or `"gelu_new"`).

    Returns:
        The config.

    Raises:
        ValueError: if a key is missing or a value is not valid.

    Examples:
        >>> hf = {"vocab_size": 10, "max_position_embeddings": 8, "type_vocab_size": 2,
        ...       "hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1,
        ...       "intermediate_size": 16, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
        >>> bert_config_from_hf(hf).F
        16
    """
    if not isinstance(hf, Mapping):
        raise ValueError(f"hf must be a mapping (a parsed config.json); got {type(hf).__name__}")
    keys = {
        "n_vocab": "vocab_size",
        "n_ctx": "max_position_embeddings",
        "n_types": "type_vocab_size",
        "D": "hidden_size",
        "H": "num_attention_heads",
        "n_layers": "num_hidden_layers",
        "F": "intermediate_size",
        "eps": "layer_norm_eps",
        "activation": "hidden_act",
    }
    missing = [k for k in keys.values() if k not in hf]
    if missing:
        raise ValueError(f"hf has no {missing[0]!r} (a BERT config.json)")
    values = {ours: hf[theirs] for ours, theirs in keys.items()}
    act = values["activation"]
    values["activation"] = {"gelu_new": "gelu_tanh"}.get(act, act) if isinstance(act, str) else act
    return BertConfig(**values)


def _config(config: object) -> BertConfig:
    if not isinstance(config, BertConfig):
        raise ValueError(f"config must be a BertConfig; got {type(config).__name__}")
    return config


def _as_model_config(c: BertConfig) -> ModelConfig:
    """Part 4's config with the same block shapes, to reuse its parameter checks."""
    return ModelConfig(
        n_vocab=c.n_vocab, n_ctx=c.n_ctx, D=c.D, H=c.H, n_layers=c.n_layers, F=c.F,
        activation=c.activation, eps=c.eps, tie_embeddings=True,
    )  # fmt: skip


def _params(params: object, c: BertConfig) -> BertParams:
    if not isinstance(params, tuple) or len(params) != len(BertParams._fields):
        raise ValueError(f"params must be a BertParams; got {type(params).__name__}")
    p = BertParams(*params)
    if not isinstance(p.layers, tuple | list) or len(p.layers) != c.n_layers:
        raise ValueError(f"params.layers must hold config.n_layers = {c.n_layers} LayerParams")
    mc, D = _as_model_config(c), c.D
    return BertParams(
        _arr(p.word, "params.word", (c.n_vocab, D), "(nV, D)"),
        _arr(p.position, "params.position", (c.n_ctx, D), "(n_ctx, D)"),
        _arr(p.token_type, "params.token_type", (c.n_types, D), "(n_types, D)"),
        _arr(p.emb_gamma, "params.emb_gamma", (D,), "(D,)"),
        _arr(p.emb_beta, "params.emb_beta", (D,), "(D,)"),
        tuple(_layer(lp, f"params.layers[{i}]", mc) for i, lp in enumerate(p.layers)),
    )


# --8<-- [start:state]
def bert_params_from_state(
    state: Mapping[str, ArrayLike],
    config: BertConfig,
) -> BertParams:
    # --8<-- [end:state]
    r"""Map the weights of a Hugging Face `BertModel` (its `state_dict()` names) to BertParams.

    `torch.nn.Linear` stores its weight as `(out, in)` and computes $x W^\top + b$; the book
    computes $x W + b$, so every linear weight is transposed here. Names may carry a prefix
    (`bert.` in `BertForMaskedLM`); the pooler and the `position_ids` buffer are ignored.

    Args:
        state: name to array (numpy arrays or CPU torch tensors), e.g. from
            [load_safetensors][llmath.models.weights.load_safetensors].
        config: the [BertConfig][llmath.models.bert.BertConfig] the weights were trained with.

    Returns:
        A [BertParams][llmath.models.bert.BertParams] in float64.

    Raises:
        ValueError: if a name is missing or an array has the wrong shape.

    Examples:
        >>> c = BertConfig(n_vocab=5, n_ctx=4, n_types=2, D=4, H=2, n_layers=1, F=8)
        >>> bert_params_from_state({"embeddings.word_embeddings.weight": np.zeros((5, 4))}, c)
        Traceback (most recent call last):
        ...
        ValueError: state has no 'encoder.layer.0.attention.output.LayerNorm.weight' (a BertModel state dict)
    """
    c = _config(config)
    if not isinstance(state, Mapping):
        raise ValueError(f"state must be a mapping of names to arrays; got {type(state).__name__}")
    suffix = "embeddings.word_embeddings.weight"
    found = [k for k in state if isinstance(k, str) and k.endswith(suffix)]
    pre = min(found, key=len)[: -len(suffix)] if found else ""

    def get(name: str, *, linear: bool = False) -> Any:
        if pre + name not in state:
            raise ValueError(f"state has no {pre + name!r} (a BertModel state dict)")
        value: Any = state[pre + name]
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else value
        return np.asarray(value).T if linear else value  # (out, in) -> (in, out)

    layers = []
    for i in range(c.n_layers):
        h = f"encoder.layer.{i}."
        att = h + "attention."
        q, k, v = (att + f"self.{n}." for n in ("query", "key", "value"))
        o, ln1 = att + "output.dense.", att + "output.LayerNorm."
        up, down, ln2 = h + "intermediate.dense.", h + "output.dense.", h + "output.LayerNorm."
        layers.append(
            LayerParams(
                get(ln1 + "weight"), get(ln1 + "bias"),
                get(q + "weight", linear=True), get(k + "weight", linear=True),
                get(v + "weight", linear=True), get(o + "weight", linear=True),
                get(q + "bias"), get(k + "bias"), get(v + "bias"), get(o + "bias"),
                get(ln2 + "weight"), get(ln2 + "bias"),
                MLPParams(get(up + "weight", linear=True), get(up + "bias"),
                          get(down + "weight", linear=True), get(down + "bias")),
            )
        )  # fmt: skip
    e = "embeddings."
    raw = BertParams(
        get(e + "word_embeddings.weight"),
        get(e + "position_embeddings.weight"),
        get(e + "token_type_embeddings.weight"),
        get(e + "LayerNorm.weight"),
        get(e + "LayerNorm.bias"),
        tuple(layers),
    )
    try:
        return _params(raw, c)
    except ValueError as err:  # name the state, not the params structure, in the message
        raise type(err)(f"state: {err}") from None


def _inputs(
    ids: object, attention_mask: object, token_type_ids: object, c: BertConfig
) -> tuple[NDArray[np.intp], NDArray[np.bool_], NDArray[np.intp]]:
    idx = as_int_array(ids, name="ids", expected="(..., T)", high=c.n_vocab,  # type: ignore[arg-type]
                       high_from="config.n_vocab")  # fmt: skip
    if idx.ndim == 0:
        raise ShapeError("ids must have shape (..., T), at least one axis; got a scalar")
    if idx.shape[-1] > c.n_ctx:
        raise ValueError(f"ids: T = {idx.shape[-1]} exceeds config.n_ctx = {c.n_ctx} positions")
    m = as_int_array(attention_mask, name="attention_mask", expected="(..., T)", high=2,  # type: ignore[arg-type]
                     high_name="2 (1 = real token, 0 = padding)")  # fmt: skip
    if m.shape != idx.shape:
        raise ShapeError(f"attention_mask must have the shape of ids {idx.shape}; got {m.shape}")
    if not m.any(axis=-1).all():
        raise ValueError("attention_mask leaves a sequence with no real token (a row of 0s)")
    if token_type_ids is None:
        tt = np.zeros_like(idx)
    else:
        tt = as_int_array(token_type_ids, name="token_type_ids", expected="(..., T)",  # type: ignore[arg-type]
                          high=c.n_types, high_name="n_types", high_from="config.n_types")  # fmt: skip
        if tt.shape != idx.shape:
            raise ShapeError(
                f"token_type_ids must have the shape of ids {idx.shape}; got {tt.shape}"
            )
    return idx, m.astype(bool), tt


def _ln(x: Array, gamma: Array, beta: Array | None, c: BertConfig) -> Array:
    assert beta is not None  # BERT's norms have shifts (checked with the params)
    return layer_norm(x, gamma, beta, eps=c.eps)[0]  # (..., T, D)


# --8<-- [start:block]
def _block(
    x: Array,
    p: LayerParams,
    keep: NDArray[np.bool_],
    c: BertConfig,
) -> tuple[Array, Array]:
    """One post-norm block: the new stream and the attention weights."""
    shape = x.shape  # (..., T, D)
    rows = x.reshape(-1, c.D)  # (B T, D): 2-D products, several times faster than 3-D
    q = split_heads(_affine(rows, p.w_q, p.b_q).reshape(shape), c.H)  # (..., H, T, dk)
    k = split_heads(_affine(rows, p.w_k, p.b_k).reshape(shape), c.H)  # (..., H, T, dk)
    v = split_heads(_affine(rows, p.w_v, p.b_v).reshape(shape), c.H)  # (..., H, T, dk)
    att = scaled_dot_product_attention(q, k, v, keep)  # keys: real tokens only
    a = _affine(merge_heads(att.output).reshape(-1, c.D), p.w_o, p.b_o)  # (B T, D)
    h = _ln(rows + a, p.ln1_gamma, p.ln1_beta, c)  # (B T, D): add, then normalise
    m = mlp(h, p.mlp, activation=c.activation)  # (B T, D)
    out = _ln(h + m, p.ln2_gamma, p.ln2_beta, c).reshape(shape)  # (..., T, D)
    return out, att.weights  # (..., T, D), (..., H, T, T)
    # --8<-- [end:block]


def _encode(
    params: object, ids: object, attention_mask: object, token_type_ids: object, config: object
) -> tuple[Array, list[Array]]:
    # --8<-- [start:encode]
    c = _config(config)
    p = _params(params, c)
    idx, m, tt = _inputs(ids, attention_mask, token_type_ids, c)
    T = idx.shape[-1]
    x = embed(idx, p.word) + p.position[:T] + embed(tt, p.token_type)  # (..., T, D)
    x = _ln(x, p.emb_gamma, p.emb_beta, c)  # (..., T, D)
    keep = m[..., None, None, :]  # (..., 1, 1, T): every query sees the real keys
    weights = []
    for layer in p.layers:
        x, w = _block(x, layer, keep, c)  # (..., T, D), (..., H, T, T)
        weights.append(w)
    return x, weights
    # --8<-- [end:encode]


@guard
# --8<-- [start:encoder]
def bert_encoder(
    params: BertParams,
    ids: ArrayLike,
    attention_mask: ArrayLike,
    *,
    config: BertConfig,
    token_type_ids: ArrayLike | None = None,
) -> Array:
    # --8<-- [end:encoder]
    r"""Return the encoder's last hidden states, one vector per token.

    $$
    \begin{aligned}
    x^{(0)} &= \operatorname{LN}(E_{i_t} + P_t + Y_{s_t}), \\
    h &= \operatorname{LN}_1(x + \operatorname{MHA}(x)), \\
    x^{(\ell)} &= \operatorname{LN}_2(h + \operatorname{MLP}(h)),
    \end{aligned}
    $$

    with $E$ the token, $P$ the position and $Y$ the token-type embedding. Attention is not
    causal; a key is hidden exactly (weight 0) where `attention_mask` is 0, so padding changes
    nothing at the real tokens. The outputs at padding positions are computed but meaningless.

    Args:
        params: a [BertParams][llmath.models.bert.BertParams] for `config`.
        ids: WordPiece ids with `[CLS]`/`[SEP]` already added, shape `(..., T)`.
        attention_mask: 1 for a real token, 0 for padding, shape `(..., T)`.
        config: the [BertConfig][llmath.models.bert.BertConfig].
        token_type_ids: the segment of each token, shape `(..., T)`; `None` means all 0.

    Returns:
        Hidden states, shape `(..., T, D)`.

    Raises:
        ShapeError: if the shapes of `ids`, `attention_mask` and `token_type_ids` differ.
        ValueError: if an id is out of range, a mask entry is not 0 or 1, a sequence has no
            real token, $T$ exceeds `n_ctx`, or `params` does not fit `config`.

    Examples:
        >>> c = BertConfig(n_vocab=5, n_ctx=4, n_types=2, D=4, H=2, n_layers=1, F=8)
        >>> p = bert_params_from_state(_toy_state(c), c)
        >>> bert_encoder(p, [[1, 2, 3], [1, 2, 0]], [[1, 1, 1], [1, 1, 0]], config=c).shape
        (2, 3, 4)
    """
    return _encode(params, ids, attention_mask, token_type_ids, config)[0]


@guard
def bert_attention(
    params: BertParams,
    ids: ArrayLike,
    attention_mask: ArrayLike,
    *,
    config: BertConfig,
    token_type_ids: ArrayLike | None = None,
) -> Array:
    r"""Return every layer's attention weights for the same forward pass as `bert_encoder`.

    Row $t$ of head $h$ in layer $\ell$ is the distribution $\operatorname{softmax}(q_t
    K^\top / \sqrt{d_k})$ over the keys: a row-stochastic matrix, zero at padding keys.

    Args:
        params: a [BertParams][llmath.models.bert.BertParams] for `config`.
        ids: token ids, shape `(..., T)`.
        attention_mask: 1 for a real token, 0 for padding, shape `(..., T)`.
        config: the [BertConfig][llmath.models.bert.BertConfig].
        token_type_ids: shape `(..., T)`, or `None` for all 0.

    Returns:
        Shape `(N, ..., H, T, T)`: layer, batch axes, head, query, key.

    Raises:
        ShapeError: as [bert_encoder][llmath.models.bert.bert_encoder].
        ValueError: as [bert_encoder][llmath.models.bert.bert_encoder].

    Examples:
        >>> c = BertConfig(n_vocab=5, n_ctx=4, n_types=2, D=4, H=2, n_layers=1, F=8)
        >>> a = bert_attention(bert_params_from_state(_toy_state(c), c), [1, 2, 0], [1, 1, 0],
        ...                    config=c)
        >>> a.shape, a[0, 0, :, 2].tolist(), float(a.sum(axis=-1).round(12).min())
        ((1, 2, 3, 3), [0.0, 0.0, 0.0], 1.0)
    """
    return np.stack(_encode(params, ids, attention_mask, token_type_ids, config)[1])


@guard
# --8<-- [start:mean-pool]
def mean_pool(hidden: ArrayLike, attention_mask: ArrayLike) -> Array:
    # --8<-- [end:mean-pool]
    r"""Average the hidden states over the real tokens of each sequence.

    $$
    u = \frac{\sum_t m_t\, h_t}{\sum_t m_t},
    $$

    the sentence embedding of Sentence-BERT (Reimers and Gurevych, 2019, sect. 3), whose
    models then divide $u$ by its norm. Padding ($m_t = 0$) contributes nothing.

    Args:
        hidden: hidden states, shape `(..., T, D)`.
        attention_mask: 1 for a real token, 0 for padding, shape `(..., T)`.

    Returns:
        Shape `(..., D)`.

    Raises:
        ShapeError: if the leading axes of `hidden` and `attention_mask` differ.
        ValueError: if a mask entry is not 0 or 1 or a sequence has no real token.

    Examples:
        >>> mean_pool([[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]], [1, 1, 0])
        array([2., 3.])
    """
    h = as_float_array(hidden, name="hidden", expected="(..., T, D)", min_ndim=2)
    m = as_int_array(attention_mask, name="attention_mask", expected="(..., T)", high=2,
                     high_name="2 (1 = real token, 0 = padding)")  # fmt: skip
    if m.shape != h.shape[:-1]:
        raise ShapeError(
            f"attention_mask must have shape (..., T) = {h.shape[:-1]} to match hidden "
            f"{h.shape}; got {m.shape}"
        )
    count = m.sum(axis=-1, keepdims=True)  # (..., 1)
    if not count.all():
        raise ValueError("attention_mask leaves a sequence with no real token (a row of 0s)")
    total = np.einsum("...t,...td->...d", m.astype(np.float64), h)  # (..., D)
    return total / count  # type: ignore[no-any-return]


def _toy_state(c: BertConfig) -> dict[str, Array]:
    """Random weights under BertModel's names, for the doctests."""
    rng = np.random.default_rng(0)
    D, F = c.D, c.F
    state = {
        "embeddings.word_embeddings.weight": rng.normal(size=(c.n_vocab, D)),
        "embeddings.position_embeddings.weight": rng.normal(size=(c.n_ctx, D)),
        "embeddings.token_type_embeddings.weight": rng.normal(size=(c.n_types, D)),
        "embeddings.LayerNorm.weight": np.ones(D),
        "embeddings.LayerNorm.bias": np.zeros(D),
    }
    shapes = {
        "attention.self.query": (D, D), "attention.self.key": (D, D),
        "attention.self.value": (D, D), "attention.output.dense": (D, D),
        "intermediate.dense": (F, D), "output.dense": (D, F),
    }  # fmt: skip
    for i in range(c.n_layers):
        h = f"encoder.layer.{i}."
        for name, (o, n) in shapes.items():
            state[h + name + ".weight"] = rng.normal(size=(o, n)) / np.sqrt(n)
            state[h + name + ".bias"] = np.zeros(o)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            state[h + ln + ".weight"], state[h + ln + ".bias"] = np.ones(D), np.zeros(D)
    return state
