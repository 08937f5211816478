r"""Compute and memory at scale: bytes of training state, activations with recomputation, the
ring all-reduce of data parallelism, and model FLOPs utilisation.

The per-token counts of a model (parameters, FLOPs, weights, activations, KV cache) are Part 4's
[counting][llmath.transformer.counting]; this module adds what training at scale puts around
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    as_float_array,
    check_choice,
    check_positive_int,
    check_real,
    guard,
)
from llmath.transformer.counting import _config, memory_bytes

if TYPE_CHECKING:
    from llmath.transformer.model import ModelConfig

__all__ = [
    "activation_memory_bytes",
    "mfu",
    "ring_allreduce",
    "ring_allreduce_volume",
    "training_memory_bytes",
]

Array = NDArray[np.float64]

# bytes per parameter: (weights, gradients, fp32 master copy)
_PRECISION = {"fp32": (4, 4, 0), "mixed": (2, 2, 4)}
_OPTIMIZER = {"adam": 8, "sgd_momentum": 4, "sgd": 0}  # fp32 moments: m and v, or momentum
# ZeRO (Rajbhandari et al. 2020): which states are sharded over the data-parallel devices
_ZERO = {
    "none": (),
    "stage1": ("master", "optimizer"),
    "stage2": ("master", "optimizer", "gradients"),
    "stage3": ("master", "optimizer", "gradients", "weights"),
}


# --8<-- [start:training-memory]
def training_memory_bytes(
    N: int,
    *,
    precision: str = "mixed",
    optimizer: str = "adam",
    data_parallel: int = 1,
    zero: str = "none",
    model_parallel: int = 1,
) -> dict[str, float]:
    # --8<-- [end:training-memory]
    r"""Count the bytes of training state per device: weights, gradients, master copy, optimizer.

    Mixed precision keeps 16-bit weights and gradients for the arithmetic and an fp32 master
    copy for the update; Adam keeps two fp32 moments:

    $$
    \begin{aligned}
    &\underbrace{2}_{w} + \underbrace{2}_{g}
    + \underbrace{4}_{\text{master}} \\
    &+ \underbrace{4 + 4}_{m,\ v} = 16
    \ \text{bytes per parameter.}
    \end{aligned}
    $$

    Tensor and pipeline parallelism over `model_parallel` devices split every state;
    ZeRO shards the chosen states over the `data_parallel` replicas (stage 1: master copy and
    moments, stage 2: also gradients, stage 3: also weights); plain data parallelism copies
    everything.

    Args:
        N: parameters.
        precision: `"mixed"` (16-bit weights and gradients, fp32 master) or `"fp32"`.
        optimizer: `"adam"` (two moments), `"sgd_momentum"` (one) or `"sgd"` (none).
        data_parallel: data-parallel replicas.
        zero: `"none"`, `"stage1"`, `"stage2"` or `"stage3"`.
        model_parallel: tensor × pipeline devices that split the model.

    Returns:
        `{"weights", "gradients", "master", "optimizer", "total"}`: bytes on one device.

    Raises:
        ValueError: if a count is not a positive integer or a choice is unknown.

    Examples:
        >>> training_memory_bytes(1_000_000)["total"]
        16000000.0
        >>> training_memory_bytes(1_000_000, data_parallel=4, zero="stage1")["total"]
        7000000.0

    Rajbhandari et al. (2020), Sect. 3.1 and 5.
    """
    # --8<-- [start:training-memory-body]
    N = check_positive_int(N, name="N")
    prec = check_choice(precision, name="precision", choices=tuple(_PRECISION))
    w, g, master = _PRECISION[prec]  # bytes per parameter
    opt_name = check_choice(optimizer, name="optimizer", choices=tuple(_OPTIMIZER))
    opt = _OPTIMIZER[opt_name]  # bytes per parameter of optimizer state
    dp = check_positive_int(data_parallel, name="data_parallel")
    mp = check_positive_int(model_parallel, name="model_parallel")
    sharded = _ZERO[check_choice(zero, name="zero", choices=tuple(_ZERO))]
    out = {}
    for key, per_param in (
        ("weights", w),
        ("gradients", g),
        ("master", master),
        ("optimizer", opt),
    ):
        out[key] = N * per_param / mp / (dp if key in sharded else 1)
    out["total"] = sum(out.values())
    return out
    # --8<-- [end:training-memory-body]


# --8<-- [start:activations]
def activation_memory_bytes(
    config: ModelConfig,
    *,
    T: int,
    batch: int = 1,
    dtype_bytes: int = 2,
    recompute: str = "none",
) -> int:
    # --8<-- [end:activations]
    r"""Count the activation bytes a training step keeps, with and without recomputation.

    Start from Part 4's count ([memory_bytes][llmath.transformer.counting.memory_bytes]),
    $BT\bigl(L(8D + HT + mF) + 2D + n_V\bigr)b$. Selective recomputation (Korthikanti et al.
    2022) recomputes the attention weights in the backward pass, dropping the $HT$ term, the
    only one that grows with $T$; full recomputation keeps only each block's input ($D$) and
    reruns the block's forward pass during the backward pass:

    $$
    \begin{aligned}
    M_{\text{selective}} &= M - BTLHT\,b, \\
    M_{\text{full}} &= BT\bigl(LD + 2D + n_V\bigr)b .
    \end{aligned}
    $$

    Args:
        config: a [ModelConfig][llmath.transformer.model.ModelConfig].
        T: sequence length, `1 <= T <= config.n_ctx`.
        batch: sequences $B$.
        dtype_bytes: bytes per number $b$.
        recompute: `"none"`, `"selective"` or `"full"`.

    Returns:
        Bytes of activations.

    Raises:
        ValueError: if `config` is invalid, a count is not a positive integer or `recompute` is
            unknown.

    Examples:
        >>> from llmath.transformer.model import ModelConfig
        >>> tiny = ModelConfig(n_vocab=10, n_ctx=4, D=2, H=1, n_layers=1, activation="relu")
        >>> [activation_memory_bytes(tiny, T=4, recompute=r) for r in ("none", "selective", "full")]
        [400, 368, 128]

    Korthikanti et al. (2022), Sect. 4.1 and 5.
    """
    mode = check_choice(recompute, name="recompute", choices=("none", "selective", "full"))
    full = int(memory_bytes(config, T=T, batch=batch, dtype_bytes=dtype_bytes)["activations"])
    c = _config(config)
    B, L, b, D = int(batch), int(c["n_layers"]), int(dtype_bytes), int(c["D"])
    if mode == "selective":
        return full - B * T * L * int(c["H"]) * T * b  # the attention weights
    if mode == "full":
        return B * T * (L * D + 2 * D + int(c["n_vocab"])) * b
    return full


@guard
# --8<-- [start:ring]
def ring_allreduce(xs: ArrayLike) -> tuple[Array, Array]:
    # --8<-- [end:ring]
    r"""Simulate a ring all-reduce: every device ends with the sum, each sends about 2(n−1)/n.

    Each of the $n$ devices cuts its vector into $n$ chunks. Reduce-scatter: in $n - 1$ steps,
    device $i$ passes a partial sum of one chunk to device $i + 1$, which adds its own; then
    device $i$ holds the full sum of chunk $i + 1$. All-gather: in $n - 1$ more steps the
    summed chunks travel round the ring. Each device sends $n - 1$ chunks in each phase:

    $$
    V = 2\,\frac{n-1}{n}\, M \ \text{numbers per device.}
    $$

    Args:
        xs: one row per device, `(n, M)`.

    Returns:
        `(out, sent)`: `out` `(n, M)`, every row the sum of the rows of `xs`; `sent` `(n,)`,
            the numbers each device sent.

    Raises:
        ValueError: if `xs` is not a finite 2-D array.

    Examples:
        >>> out, sent = ring_allreduce([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]])
        >>> out[1].tolist(), sent.tolist()
        ([11.0, 22.0, 33.0, 44.0], [4.0, 4.0])

    Patarasuk and Yuan (2009), Sect. 3.
    """
    # --8<-- [start:ring-body]
    x = as_float_array(xs, name="xs", expected="(n, M)", ndim=2)
    n = x.shape[0]
    bufs = [np.array_split(row.copy(), n) for row in x]  # bufs[device][chunk]
    sent = np.zeros(n)
    for step in range(n - 1):  # reduce-scatter
        chunks = [(i - step) % n for i in range(n)]  # device i sends chunk chunks[i]
        msgs = [bufs[i][c].copy() for i, c in enumerate(chunks)]
        for i, c in enumerate(chunks):  # ... to device i + 1, which adds it
            bufs[(i + 1) % n][c] += msgs[i]
            sent[i] += msgs[i].size
    for step in range(n - 1):  # all-gather: device i owns the sum of chunk i + 1
        chunks = [(i + 1 - step) % n for i in range(n)]
        msgs = [bufs[i][c].copy() for i, c in enumerate(chunks)]
        for i, c in enumerate(chunks):  # ... and device i + 1 copies it
            bufs[(i + 1) % n][c] = msgs[i]
            sent[i] += msgs[i].size
    return np.stack([np.concatenate(b) for b in bufs]), sent  # (n, M), (n,)
    # --8<-- [end:ring-body]


def ring_allreduce_volume(nbytes: float, n: int) -> float:
    r"""Return the bytes each device sends in a ring all-reduce of `nbytes` over n devices.

    $$
    V = 2\,\frac{n - 1}{n}\,\text{nbytes},
    $$

    which tends to twice the data, whatever the number of devices: the ring's bandwidth cost
    per device does not grow with $n$.

    Args:
        nbytes: size of the array being summed, $\ge 0$.
        n: devices in the ring.

    Returns:
        Bytes sent (and received) by each device.

    Raises:
        ValueError: if `nbytes` is negative or `n` is not a positive integer.

    Examples:
        >>> ring_allreduce_volume(1e9, 8)
        1750000000.0

    Patarasuk and Yuan (2009), Sect. 3.
    """
    size = check_real(nbytes, name="nbytes", at_least=0)
    n = check_positive_int(n, name="n")
    return 2.0 * (n - 1) / n * size


@guard
def mfu(tokens_per_second: float, *, flops_per_token: float, peak_flops: float) -> float:
    r"""Return model FLOPs utilisation: the model's FLOPs per second over the hardware's peak.

    $$
    \text{MFU} = \frac{\text{tokens/s} \times C_{\text{token}}}{\text{peak FLOP/s}},
    $$

    with $C_{\text{token}}$ the FLOPs one token needs by the model's count ($6N$, or Part 4's
    [training_flops_per_token][llmath.transformer.counting.training_flops_per_token] with the
    attention term), not the FLOPs actually executed: recomputation does not raise MFU.

    Args:
        tokens_per_second: measured training throughput, $> 0$.
        flops_per_token: the model's training FLOPs per token, $> 0$.
        peak_flops: the hardware's peak FLOP/s, $> 0$.

    Returns:
        The utilisation, a fraction (at most 1 for an honest peak).

    Raises:
        ValueError: if an argument is not positive and finite.

    Examples:
        >>> mfu(1000.0, flops_per_token=6e9, peak_flops=1e13)
        0.6

    Chowdhery et al. (2022), Sect. 4 and App. B.
    """
    tps = check_real(tokens_per_second, name="tokens_per_second", above=0)
    fpt = check_real(flops_per_token, name="flops_per_token", above=0)
    peak = check_real(peak_flops, name="peak_flops", above=0)
    return tps * fpt / peak
