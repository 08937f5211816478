r"""Counting a decoder-only transformer: parameters, FLOPs per token, bytes of memory.

Every count is exact and is an integer (FLOPs included: a multiply-add of a matrix product is
2 FLOPs, the convention of Kaplan et al. 2020 and of `torch.utils.flop_counter`). The counts
read a [ModelConfig][llmath.transformer.model.ModelConfig]; nothing is built or run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmath._checks import _what, check_positive_int

if TYPE_CHECKING:
    from llmath.transformer.model import ModelConfig

__all__ = [
    "flops_per_token",
    "memory_bytes",
    "param_count",
    "rnn_vs_attention_macs",
    "training_flops_per_token",
]

_FIELDS = ("n_vocab", "n_ctx", "D", "H", "n_layers")
_CHOICES = {
    "activation": ("relu", "gelu", "gelu_tanh", "swiglu"),
    "norm": ("layer", "rms"),
    "positions": ("learned", "sinusoidal", "none"),
}


def _config(config: Any) -> dict[str, Any]:
    """Read and check the fields of a ModelConfig (any object with its attributes)."""
    missing = [f for f in (*_FIELDS, *_CHOICES, "bias", "tie_embeddings") if not hasattr(config, f)]
    if missing:
        raise ValueError(f"config must be a ModelConfig; got {_what(config)}")
    c: dict[str, Any] = {
        f: check_positive_int(getattr(config, f), name=f"config.{f}") for f in _FIELDS
    }
    F = getattr(config, "F", None)
    c["F"] = 4 * c["D"] if F is None else check_positive_int(F, name="config.F")
    for f, choices in _CHOICES.items():
        value = getattr(config, f)
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"config.{f} must be one of {choices}; got {_what(value)}")
        c[f] = value
    for f in ("bias", "tie_embeddings"):
        if not isinstance(getattr(config, f), bool):
            raise ValueError(f"config.{f} must be True or False; got {_what(getattr(config, f))}")
        c[f] = getattr(config, f)
    return c


def _T(T: object, c: dict[str, Any], name: str = "T") -> int:
    t = check_positive_int(T, name=name)
    if t > c["n_ctx"]:
        raise ValueError(f"{name} must be at most the context length n_ctx = {c['n_ctx']}; got {t}")
    return t


# --8<-- [start:param-count]
def param_count(config: ModelConfig) -> dict[str, int]:
    # --8<-- [end:param-count]
    r"""Count the parameters of a decoder-only transformer, component by component.

    With width $D$, MLP width $F$, vocabulary $n_V$, context $n_{\text{ctx}}$ and $L$ layers
    (GPT-2's layout, biases included):

    $$
    \begin{aligned}
    N_{\text{attn}} &= L\,(4D^2 + 4D), \\
    N_{\text{mlp}} &= L\,(2DF + F + D), \\
    N_{\text{norm}} &= (2L + 1)\, 2D, \\
    N &= n_V D + n_{\text{ctx}} D + N_{\text{attn}} \\
    &\quad + N_{\text{mlp}} + N_{\text{norm}} .
    \end{aligned}
    $$

    SwiGLU has three $D \times F$ matrices; RMSNorm has no $\beta$ ($D$ per norm); `bias=False`
    drops every bias and every layer norm's $\beta$; sinusoidal or no positions have no
    parameters; an untied unembedding adds $n_V D$.

    Args:
        config: a [ModelConfig][llmath.transformer.model.ModelConfig].

    Returns:
        `{"token_embedding", "positions", "attention", "mlp", "norms", "unembedding",
            "total"}`, integers; `"unembedding"` is 0 when it is tied to the token embedding.

    Raises:
        ValueError: if `config` is not a valid ModelConfig.

    Examples:
        >>> from llmath.transformer.model import ModelConfig
        >>> gpt2 = ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12)
        >>> param_count(gpt2)["total"]
        124439808

    Radford et al. (2019), Sect. 2.3; Kaplan et al. (2020), Table 1.
    """
    # --8<-- [start:param-count-body]
    c = _config(config)
    D, F, L, b = c["D"], c["F"], c["n_layers"], int(c["bias"])
    n_in = 2 if c["activation"] == "swiglu" else 1  # SwiGLU: w_gate beside w_in
    per_norm = D if c["norm"] == "rms" or not b else 2 * D  # gamma (+ beta)
    counts = {
        "token_embedding": c["n_vocab"] * D,
        "positions": c["n_ctx"] * D if c["positions"] == "learned" else 0,
        "attention": L * (4 * D * D + b * 4 * D),  # W_q, W_k, W_v, W_o (+ biases)
        "mlp": L * ((n_in + 1) * D * F + b * (n_in * F + D)),
        "norms": (2 * L + 1) * per_norm,  # two per block and a final one
        "unembedding": 0 if c["tie_embeddings"] else c["n_vocab"] * D,
    }
    return {**counts, "total": sum(counts.values())}
    # --8<-- [end:param-count-body]


# --8<-- [start:flops]
def flops_per_token(config: ModelConfig, T: int) -> dict[str, int]:
    # --8<-- [end:flops]
    r"""Count the matrix-product FLOPs of a forward pass, per token, over a sequence of length T.

    A product of a $(1 \times D)$ row by a $(D \times M)$ matrix is $DM$ multiply-adds, 2DM
    FLOPs. Per layer and token, attention as a dense implementation runs it (all $T \times T$
    scores, the causal mask applied afterwards):

    $$
    \begin{aligned}
    C_{\text{qkv}} &= 2 \cdot 3D^2, \quad C_{\text{out}} = 2D^2, \\
    C_{QK^\top} &= C_{AV} = 2TD, \\
    C_{\text{mlp}} &= 2 \cdot 2DF \;(\text{SwiGLU: } 2 \cdot 3DF),
    \end{aligned}
    $$

    and once per token $C_{\text{unembed}} = 2Dn_V$. Biases, norms, the activation and the
    softmax are $O(D + HT)$ per layer and are not counted (nor does `FlopCounterMode`).

    Args:
        config: a [ModelConfig][llmath.transformer.model.ModelConfig].
        T: sequence length, `1 <= T <= config.n_ctx`.

    Returns:
        `{"attention_qkv", "attention_scores", "attention_values", "attention_out", "mlp",
            "unembedding", "total"}`: FLOPs per token, summed over the layers.

    Raises:
        ValueError: if `config` is not a valid ModelConfig or `T` is not in range.

    Examples:
        >>> from llmath.transformer.model import ModelConfig
        >>> tiny = ModelConfig(n_vocab=10, n_ctx=4, D=2, H=1, n_layers=1, activation="relu")
        >>> flops_per_token(tiny, 4)["total"]
        168

    Kaplan et al. (2020), Table 1; Hoffmann et al. (2022), Appendix F.
    """
    # --8<-- [start:flops-body]
    c = _config(config)
    T = _T(T, c)
    D, F, L = c["D"], c["F"], c["n_layers"]
    n_mat = 3 if c["activation"] == "swiglu" else 2  # matrices in the MLP
    counts = {
        "attention_qkv": L * 2 * D * 3 * D,
        "attention_scores": L * 2 * T * D,  # q_t k_s for all T keys, H heads of d_k
        "attention_values": L * 2 * T * D,  # sum_s a_ts v_s
        "attention_out": L * 2 * D * D,
        "mlp": L * 2 * n_mat * D * F,
        "unembedding": 2 * D * c["n_vocab"],
    }
    return {**counts, "total": sum(counts.values())}
    # --8<-- [end:flops-body]


def training_flops_per_token(config: ModelConfig, T: int) -> dict[str, int]:
    r"""Count the matrix-product FLOPs of one training step, per token: forward and backward.

    Every product $Y = XW$ of the forward pass needs two of the same size backward,
    $\bar X = \bar Y W^\top$ and $\bar W = X^\top \bar Y$ (for $QK^\top$ and $AV$ both factors
    are activations, and both need their gradient), so

    $$
    C_{\text{backward}} = 2\,C_{\text{forward}}, \quad
    C_{\text{train}} = 3\,C_{\text{forward}} \approx 6N .
    $$

    Args:
        config: a [ModelConfig][llmath.transformer.model.ModelConfig].
        T: sequence length, `1 <= T <= config.n_ctx`.

    Returns:
        `{"forward", "backward", "total"}`: FLOPs per token.

    Raises:
        ValueError: if `config` is not a valid ModelConfig or `T` is not in range.

    Examples:
        >>> from llmath.transformer.model import ModelConfig
        >>> tiny = ModelConfig(n_vocab=10, n_ctx=4, D=2, H=1, n_layers=1, activation="relu")
        >>> training_flops_per_token(tiny, 4)
        {'forward': 168, 'backward': 336, 'total': 504}

    Kaplan et al. (2020), Sect. 2.1.
    """
    forward = flops_per_token(config, T)["total"]
    return {"forward": forward, "backward": 2 * forward, "total": 3 * forward}


# --8<-- [start:memory]
def memory_bytes(
    config: ModelConfig, *, T: int, batch: int = 1, dtype_bytes: int = 4
) -> dict[str, int]:
    # --8<-- [end:memory]
    r"""Count the bytes of the weights, the training activations and the KV cache.

    With $b$ bytes per number, batch $B$ and $H$ heads:

    $$
    \begin{aligned}
    M_{\text{weights}} &= N b, \\
    M_{\text{KV}} &= 2 L B T D\, b, \\
    M_{\text{act}} &= B T \bigl(L(8D + HT + mF) \\
    &\quad + 2D + n_V\bigr)\, b .
    \end{aligned}
    $$

    The activations are what a training forward pass keeps for the backward pass, without
    dropout or recomputation (Korthikanti et al. 2022, Sect. 4.1): per layer and token the two
    norm inputs, the attention input, $q, k, v$, the $H$ rows of attention weights, the
    attention output, the MLP input and $m$ vectors of width $F$ ($m = 2$: pre-activation and
    activation; SwiGLU $m = 3$); then the final norm's input and output and the logits.

    Args:
        config: a [ModelConfig][llmath.transformer.model.ModelConfig].
        T: sequence length, `1 <= T <= config.n_ctx`.
        batch: number of sequences $B$.
        dtype_bytes: bytes per number $b$ (4 for float32, 2 for bfloat16).

    Returns:
        `{"weights", "activations", "kv_cache"}` in bytes.

    Raises:
        ValueError: if `config` is not a valid ModelConfig or a count is not a positive integer.

    Examples:
        >>> from llmath.transformer.model import ModelConfig
        >>> tiny = ModelConfig(n_vocab=10, n_ctx=4, D=2, H=1, n_layers=1, activation="relu")
        >>> memory_bytes(tiny, T=4, dtype_bytes=2)["kv_cache"]
        32

    Korthikanti et al. (2022), Sect. 4.1.
    """
    # --8<-- [start:memory-body]
    c = _config(config)
    T = _T(T, c)
    batch = check_positive_int(batch, name="batch")
    b = check_positive_int(dtype_bytes, name="dtype_bytes")
    D, F, L, H = c["D"], c["F"], c["n_layers"], c["H"]
    m = 3 if c["activation"] == "swiglu" else 2
    per_token = L * (8 * D + H * T + m * F) + 2 * D + c["n_vocab"]
    return {
        "weights": param_count(config)["total"] * b,
        "activations": batch * T * per_token * b,
        "kv_cache": 2 * L * batch * T * D * b,  # a key and a value row per layer, token
    }
    # --8<-- [end:memory-body]


# --8<-- [start:rnn-vs-attention]
def rnn_vs_attention_macs(T: int, D: int) -> dict[str, int]:
    # --8<-- [end:rnn-vs-attention]
    r"""Count the multiply-adds of one RNN layer and one self-attention layer over T tokens.

    A tanh RNN of width $D$ on inputs of width $D$ (Part 2's `rnn_forward`) and a
    self-attention layer with $W_Q, W_K, W_V, W_O$ of size $D \times D$ and all $T \times T$
    scores:

    $$
    \begin{aligned}
    \text{RNN} &= \underbrace{TD^2}_{x_t W_{xh}}
    + \underbrace{TD^2}_{h_{t-1} W_{hh}}, \\
    \text{attention} &= \underbrace{4TD^2}_{\text{projections}}
    + \underbrace{2T^2 D}_{QK^\top,\ AV} .
    \end{aligned}
    $$

    The terms that move information between positions are $TD^2$ and $2T^2D$.

    Args:
        T: sequence length.
        D: width.

    Returns:
        `{"rnn_input", "rnn_recurrent", "rnn", "attention_projections", "attention_pairs",
            "attention"}`: multiply-adds.

    Raises:
        ValueError: if `T` or `D` is not a positive integer.

    Examples:
        >>> rnn_vs_attention_macs(4, 8)["rnn"], rnn_vs_attention_macs(4, 8)["attention"]
        (512, 1280)

    Vaswani et al. (2017), Table 1.
    """
    # --8<-- [start:rnn-vs-attention-body]
    T = check_positive_int(T, name="T")
    D = check_positive_int(D, name="D")
    counts = {
        "rnn_input": T * D * D,
        "rnn_recurrent": T * D * D,  # T dependent steps of h_{t-1} W_hh
        "attention_projections": 4 * T * D * D,
        "attention_pairs": 2 * T * T * D,  # every (query, key) pair: q.k and a v
    }
    counts["rnn"] = counts["rnn_input"] + counts["rnn_recurrent"]
    counts["attention"] = counts["attention_projections"] + counts["attention_pairs"]
    return counts
    # --8<-- [end:rnn-vs-attention-body]
