"""Worked examples for "Quantisation and pruning": absmax and zero-point codes, the Δ²/12 noise
model, per-tensor / per-channel / group-wise scales, an injected outlier feature, Part 5's
trained model in 8 and 4 bits and pruned, torch's quantize functions, and distillation.

The trained model comes from Part 5's end-to-end chapter (`examples.training.end_to_end.trained`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, RED, new_figure, svg
from llmath import (
    ModelParams,
    dequantize,
    distillation_grad,
    distillation_loss,
    forward,
    kl_divergence,
    magnitude_prune,
    next_token_loss,
    quantize_absmax,
    quantize_zero_point,
    softmax,
)

Array = NDArray[np.float64]
SEED = 2018
SCALE_BITS = 16  # scales stored in fp16/bf16


# ---- one vector --------------------------------------------------------------------------------

VEC = np.array([0.42, -1.27, 0.05, 0.9, -0.003, 0.61])


def absmax_example(bits: int = 8) -> dict[str, Any]:
    codes, scale = quantize_absmax(VEC, bits)
    back = dequantize(codes, scale)
    return {"codes": codes, "scale": float(scale), "back": back, "err": np.abs(back - VEC)}


RELU = np.array([0.0, 0.31, 2.4, 0.05, 1.12, 0.77])  # one-sided: ReLU outputs


def zero_point_example(bits: int = 4) -> dict[str, Any]:
    c1, s1 = quantize_absmax(RELU, bits)
    c2, s2, z2 = quantize_zero_point(RELU, bits)
    return {"absmax": (c1, float(s1), dequantize(c1, s1)),
            "zero": (c2, float(s2), int(z2), dequantize(c2, s2, zero_points=z2))}  # fmt: skip


@functools.cache
def one_sided_mse() -> Array:
    """On 100 000 ReLU(N(0,1)) values, per bit width: the absmax step, the zero-point step,
    and the ratio of their mean squared errors."""
    x = np.maximum(np.random.default_rng(SEED).normal(size=100_000), 0.0)
    rows = []
    for b in (2, 4, 8):
        c1, s1 = quantize_absmax(x, b)
        c2, s2, z2 = quantize_zero_point(x, b)
        m1 = np.mean((dequantize(c1, s1) - x) ** 2)
        m2 = np.mean((dequantize(c2, s2, zero_points=z2) - x) ** 2)
        rows.append([b, float(s1), float(s2), m1 / m2])
    return np.array(rows)


# ---- the noise model -----------------------------------------------------------------------------

NOISE_BITS = (2, 3, 4, 6, 8)


def noise_weights() -> Array:
    """10^6 Gaussian weights N(0, 0.02²), clipped at 4σ (so the absmax is 0.08)."""
    return np.clip(np.random.default_rng(SEED).normal(0, 0.02, size=1_000_000), -0.08, 0.08)


@functools.cache
def noise_table() -> Array:
    """Per bit width: Δ/σ, the signal-to-noise ratio measured and from Δ²/12 (dB), and the
    measured MSE divided by Δ²/12."""
    w = noise_weights()
    var = float(np.var(w))
    rows = []
    for b in NOISE_BITS:
        codes, s = quantize_absmax(w, b)
        mse = float(np.mean((dequantize(codes, s) - w) ** 2))
        model = float(s) ** 2 / 12
        rows.append([b, float(s) / np.sqrt(var), 10 * np.log10(var / mse),
                     10 * np.log10(var / model), mse / model])  # fmt: skip
    return np.array(rows)


def error_moments(bits: int = 8) -> dict[str, float]:
    """The errors e/Δ of the noise table's weights at `bits`: mean, variance (1/12 for a
    uniform error), largest |e|/Δ, and the correlation of e with w."""
    w = noise_weights()
    codes, s = quantize_absmax(w, bits)
    e = (dequantize(codes, s) - w) / float(s)
    return {"mean": float(e.mean()), "var": float(e.var()), "max": float(np.abs(e).max()),
            "corr": float(np.corrcoef(e, w)[0, 1])}  # fmt: skip


# ---- per-tensor, per-channel, group-wise -----------------------------------------------------

GROUP = 32


def channel_weights() -> Array:
    """A (256, 512) weight whose output channels have spread-out scales (log-normal)."""
    rng = np.random.default_rng(SEED)
    col = np.exp(rng.normal(0, 0.7, size=512))  # (D_out,)
    return rng.normal(0, 0.02, size=(256, 512)) * col  # (D_in, D_out)


def quantised(w: Array, bits: int, layout: str, group: int = GROUP) -> Array:
    """w (D_in, D_out) quantised and dequantised: per-tensor, per output channel, or in groups
    of GROUP consecutive input weights of each output channel (the last axis of w.T)."""
    if layout == "tensor":
        return dequantize(*quantize_absmax(w, bits))
    if layout == "channel":
        return dequantize(*quantize_absmax(w, bits, axis=1), axis=1)
    if layout == "group":
        codes, s = quantize_absmax(w.T, bits, group_size=group)
        return dequantize(codes, s, group_size=group).T
    raise ValueError(layout)


def bits_per_weight(shape: tuple[int, int], bits: int, layout: str) -> float:
    """Storage per weight, codes plus 16-bit scales."""
    n = shape[0] * shape[1]
    scales = {"tensor": 1, "channel": shape[1], "group": n // GROUP}[layout]
    return bits + SCALE_BITS * scales / n


@functools.cache
def layout_table() -> Array:
    """Rows: per-tensor, per-channel, group-wise; columns: int8 and int4 relative RMS error
    (% of the weights' RMS), and bits per weight at 4 bits."""
    w = channel_weights()
    rms = np.sqrt(np.mean(w**2))
    rows = []
    for layout in ("tensor", "channel", "group"):
        e8 = np.sqrt(np.mean((quantised(w, 8, layout) - w) ** 2)) / rms
        e4 = np.sqrt(np.mean((quantised(w, 4, layout) - w) ** 2)) / rms
        rows.append([100 * e8, 100 * e4, bits_per_weight(w.shape, 4, layout)])
    return np.array(rows)


# ---- an outlier feature -------------------------------------------------------------------------

OUTLIER = 60.0  # the injected feature's magnitude against ~1 for the others
OUT_DIM = 7


def outlier_case() -> tuple[Array, Array]:
    """Activations X (64 tokens, 256 features, N(0,1)) with feature OUT_DIM scaled to ±OUTLIER,
    and a weight W (256, 128)."""
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(64, 256))
    x[:, OUT_DIM] = OUTLIER * np.sign(x[:, OUT_DIM])
    w = rng.normal(0, 0.05, size=(256, 128))
    return x, w


def _int8_rows(x: Array) -> Array:
    """Per-row (per-token) absmax int8, dequantised."""
    return dequantize(*quantize_absmax(x, 8, axis=0), axis=0)


@functools.cache
def outlier_table() -> Array:
    """Relative error of X W with int8 activations: rows without / with the outlier; columns
    per-tensor, per-token, per-token with the outlier feature kept in float (decomposition);
    and the fraction of the non-outlier activations that round to code 0 per-tensor."""
    x, w = outlier_case()
    rows = []
    for with_outlier in (False, True):
        xx = x.copy()
        if not with_outlier:
            xx[:, OUT_DIM] = np.random.default_rng(SEED + 1).normal(size=xx.shape[0])
        ref = xx @ w
        keep = np.zeros(xx.shape[1], bool)
        keep[OUT_DIM] = True
        x_t = dequantize(*quantize_absmax(xx, 8))
        x_r = _int8_rows(xx)
        rest = np.where(keep, 0.0, xx)  # (T, D): the outlier column removed
        x_d = np.where(keep, xx, _int8_rows(rest))  # outlier kept exactly (in 16-bit)
        codes, _ = quantize_absmax(xx, 8)
        zero_frac = np.mean(codes[:, ~keep] == 0)

        def rel(a: Array, ref: Array = ref) -> float:
            return float(np.linalg.norm(a @ w - ref) / np.linalg.norm(ref))

        rows.append([100 * rel(x_t), 100 * rel(x_r), 100 * rel(x_d), 100 * zero_frac])
    return np.array(rows)


# ---- torch's quantize functions ----------------------------------------------------------------


def torch_comparison(w: Array) -> dict[str, tuple[Array, Array]]:
    """llmath's int8 against torch.quantize_per_tensor / quantize_per_channel (qint8, zero point
    0, llmath's scales) on w (D_in, D_out) rounded to float32 (torch quantises float32 only):
    (ours, torch) pairs of codes and of dequantised values."""
    import torch

    w32 = w.astype(np.float32).astype(np.float64)
    out = {}
    with warnings.catch_warnings():  # torch: quantized tensors are deprecated
        warnings.simplefilter("ignore", UserWarning)
        codes, s = quantize_absmax(w32, 8)
        q = torch.quantize_per_tensor(torch.from_numpy(w32).float(), float(s), 0, torch.qint8)
        out["tensor codes"] = (codes.astype(np.float64), q.int_repr().numpy().astype(np.float64))
        out["tensor values"] = (dequantize(codes, s), q.dequantize().double().numpy())
        codes, s = quantize_absmax(w32, 8, axis=1)
        q = torch.quantize_per_channel(torch.from_numpy(w32).float(), torch.from_numpy(s),
                                       torch.zeros(s.size, dtype=torch.long), 1, torch.qint8)  # fmt: skip
        out["channel codes"] = (codes.astype(np.float64), q.int_repr().numpy().astype(np.float64))
        out["channel values"] = (dequantize(codes, s, axis=1), q.dequantize().double().numpy())
    return out


# ---- the trained model -----------------------------------------------------------------------------


def trained() -> Any:
    from examples.training.end_to_end import trained as part5_trained

    return part5_trained()


def map_matrices(params: ModelParams, fn: Callable[[Array], Array]) -> ModelParams:
    """Apply fn to every weight matrix of the blocks (attention and MLP); embeddings, norms
    and biases are kept, as quantisation schemes for LLMs usually do."""
    layers = []
    for lp in params.layers:
        mlp = lp.mlp._replace(**{k: fn(v) for k, v in lp.mlp._asdict().items()
                                 if isinstance(v, np.ndarray) and v.ndim == 2})  # fmt: skip
        layers.append(lp._replace(w_q=fn(lp.w_q), w_k=fn(lp.w_k), w_v=fn(lp.w_v),
                                  w_o=fn(lp.w_o), mlp=mlp))  # fmt: skip
    return params._replace(layers=tuple(layers))


def matrices(params: ModelParams) -> list[Array]:
    seen: list[Array] = []
    map_matrices(params, lambda w: seen.append(w) or w)  # type: ignore[func-returns-value]
    return seen


def val_loss(params: ModelParams) -> float:
    t = trained()
    return next_token_loss(params, t.val_ids, config=t.config)


MODEL_GROUP = 16  # the trained model is narrow (D = 32): groups of 16 input weights
SCHEMES = (("fp64 (trained)", None, None), ("int8 per-tensor", 8, "tensor"),
           ("int8 per-channel", 8, "channel"), ("int4 per-tensor", 4, "tensor"),
           ("int4 per-channel", 4, "channel"), ("int4 group-wise", 4, "group"),
           ("int3 group-wise", 3, "group"), ("int2 group-wise", 2, "group"))  # fmt: skip


def next_token_probs(params: ModelParams) -> Array:
    t = trained()
    logits, _ = forward(params, np.asarray(t.val_ids)[..., :-1], config=t.config)
    return softmax(logits)


@functools.cache
def model_quant_table() -> Array:
    """Per scheme: validation loss, its change from fp64, the mean KL divergence from the
    fp64 model's next-token distributions (millinats), and the largest relative RMS error of
    a weight matrix (%)."""
    t = trained()
    base = val_loss(t.params)
    p = next_token_probs(t.params)
    rows = []
    for _, bits, layout in SCHEMES:
        if bits is None:
            rows.append([base, 0.0, 0.0, 0.0])
            continue
        q = map_matrices(t.params, lambda w, b=bits, lo=layout: quantised(w, b, lo, MODEL_GROUP))
        err = max(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2))
                  for a, b in zip(matrices(q), matrices(t.params), strict=True))  # fmt: skip
        loss = val_loss(q)
        kl = float(np.mean(kl_divergence(p, next_token_probs(q))))
        rows.append([loss, loss - base, 1000 * kl, 100 * err])
    return np.array(rows)


SPARSITIES = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@functools.cache
def pruning_curve() -> Array:
    """Validation loss after pruning every block matrix to each sparsity (no retraining)."""
    t = trained()
    return np.array([[r, val_loss(map_matrices(t.params, lambda w, r=r: magnitude_prune(w, r)))]
                     for r in SPARSITIES])  # fmt: skip


def pruning_table() -> Array:
    c = pruning_curve()
    return c[[0, 2, 4, 6, 7]]


def pruning_figure() -> str:
    c = pruning_curve()
    q = model_quant_table()
    fig, ax = new_figure(6.0, 3.2)
    ax.plot(100 * c[:, 0], c[:, 1], marker="o", color=BLUE, label="magnitude pruning")
    ax.axhline(q[0, 0], color=GREEN, linestyle=":", label="trained, fp64")
    ax.axhline(q[5, 0], color=ORANGE, linestyle="--", label="int4 group-wise")
    ax.axhline(q[7, 0], color=RED, linestyle="-.", label="int2 group-wise")
    ax.set_xlabel("sparsity (% of block weights set to 0)")
    ax.set_ylabel("validation loss (nats)")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg(
        fig,
        alt="Validation loss against sparsity from 0 to 90 percent: flat at first, then rising "
        "steeply at high sparsity; horizontal lines mark the trained model and its int4 "
        "group-wise quantisation.",
        caption="Part 5's trained model with the smallest-magnitude fraction of every block "
        "weight matrix set to zero, no retraining; for comparison the unpruned model and its "
        "4-bit group-wise quantisation.",
    )


# ---- distillation ---------------------------------------------------------------------------------

TAUS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def teacher_student() -> tuple[Array, Array]:
    """Next-token logits of the trained model (teacher) and of its int3 group-wise copy
    (student) on the validation sequences."""
    t = trained()
    ids = np.asarray(t.val_ids)[..., :-1]
    teacher, _ = forward(t.params, ids, config=t.config)
    student_params = map_matrices(t.params, lambda w: quantised(w, 3, "group", MODEL_GROUP))
    student, _ = forward(student_params, ids, config=t.config)
    return student, teacher


@functools.cache
def tau_table() -> Array:
    """Per temperature: the distillation loss (millinats), and the gradient norms of the KL
    without and with the factor τ², each relative to its value at τ = 1."""
    s, te = teacher_student()
    rows = []
    g1 = float(np.linalg.norm(distillation_grad(s, te, temperature=1.0)))
    for tau in TAUS:
        g = float(np.linalg.norm(distillation_grad(s, te, temperature=tau)))  # with τ²
        rows.append([tau, 1000 * distillation_loss(s, te, temperature=tau), g / tau**2 / g1,
                     g / g1])  # fmt: skip
    return np.array(rows)


def large_tau_limit() -> float:
    """‖τ(q - p)/N‖ as τ → ∞: ‖(Δz - mean Δz)/(V N)‖ with Δz = z_S - z_T."""
    s, te = teacher_student()
    d = s - te
    d = d - d.mean(axis=-1, keepdims=True)
    n = d.size // d.shape[-1]
    return float(np.linalg.norm(d / (d.shape[-1] * n)))


def kl_check() -> tuple[float, float]:
    """distillation_loss at τ = 2 against τ² × Part 3's kl_divergence of the softmaxes."""
    s, te = teacher_student()
    tau = 2.0
    p, q = softmax(te / tau), softmax(s / tau)
    return distillation_loss(s, te, temperature=tau), tau**2 * float(np.mean(kl_divergence(p, q)))


def torch_distillation(tau: float = 2.0) -> tuple[float, float, Array, Array]:
    """(ours, torch) loss and gradient: tau² · F.kl_div(batchmean) and autograd."""
    import torch
    import torch.nn.functional as F

    s, te = teacher_student()
    V = s.shape[-1]
    s2, t2 = s.reshape(-1, V), te.reshape(-1, V)
    zs = torch.tensor(s2, dtype=torch.float64, requires_grad=True)
    log_q = F.log_softmax(zs / tau, dim=-1)
    log_p = F.log_softmax(torch.tensor(t2, dtype=torch.float64) / tau, dim=-1)
    loss = tau**2 * F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
    loss.backward()
    assert zs.grad is not None
    ours_g = distillation_grad(s2, t2, temperature=tau)
    return (distillation_loss(s2, t2, temperature=tau), float(loss.detach()), ours_g,
            zs.grad.numpy())  # fmt: skip


def tables() -> dict[str, Array]:
    return {
        "scale/q-mse-one-sided": one_sided_mse(),
        "scale/q-noise": noise_table(),
        "scale/q-layouts": layout_table(),
        "scale/q-outlier": outlier_table(),
        "scale/q-model": model_quant_table(),
        "scale/q-pruning": pruning_table(),
        "scale/q-tau": tau_table(),
    }
