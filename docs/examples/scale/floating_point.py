"""Worked examples for "Floating point": the formats from their bit layouts against numpy, torch
and ml_dtypes; summation error; softmax and layer norm in fp16; loss scaling and bf16.

fp16 arithmetic is numpy's float16 (every operation rounded to fp16); the other formats are
simulated by rounding float64 results with llmath's round_to_format.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, RED, new_figure, svg
from llmath import (
    decode_float,
    float_format,
    kahan_sum,
    layer_norm,
    naive_sum,
    pairwise_sum,
    round_to_format,
    softmax,
)

Array = NDArray[np.float64]
SEED = 754
NAMES = ("fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2")
LABELS = ("fp32", "fp16", "bf16", "fp8 E4M3", "fp8 E5M2")
GPT2_VOCAB = 50257  # Radford et al. (2019), section 2.2
BATCH_TOKENS = 2**19  # GPT-2's batch: 512 sequences of 1024 tokens (Radford et al. 2019, sect. 2.3)


# ---- the formats ---------------------------------------------------------------------------------


def layout_table() -> Array:
    """Per format: bits, e, m, bias, log2 eps, log2 max, log2 smallest normal, log2 subnormal."""
    rows = []
    for n in NAMES:
        f = float_format(n)
        rows.append([f.bits, f.exponent_bits, f.mantissa_bits, f.bias, math.log2(f.eps),
                     math.log2(f.max), math.log2(f.smallest_normal),
                     math.log2(f.smallest_subnormal)])  # fmt: skip
    return np.array(rows, dtype=np.float64)


def finfo_refs() -> dict[str, dict[str, float]]:
    """eps, max, smallest normal and subnormal from torch.finfo (and numpy / ml_dtypes)."""
    import ml_dtypes
    import torch

    torch_types = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
                   "fp8_e4m3": torch.float8_e4m3fn, "fp8_e5m2": torch.float8_e5m2}  # fmt: skip
    other = {"fp32": np.finfo(np.float32), "fp16": np.finfo(np.float16),
             "bf16": ml_dtypes.finfo(ml_dtypes.bfloat16),
             "fp8_e4m3": ml_dtypes.finfo(ml_dtypes.float8_e4m3fn),
             "fp8_e5m2": ml_dtypes.finfo(ml_dtypes.float8_e5m2)}  # fmt: skip
    out = {}
    for n in NAMES:
        t, o = torch.finfo(torch_types[n]), other[n]
        out[n] = {"eps": float(t.eps), "max": float(t.max), "normal": float(t.smallest_normal),
                  "subnormal": float(o.smallest_subnormal), "np_eps": float(o.eps),
                  "np_max": float(o.max)}  # fmt: skip
    return out


def ours_vs_finfo() -> tuple[Array, Array]:
    """(llmath's limits, the references) as arrays, one row per format."""
    refs = finfo_refs()
    ours, theirs = [], []
    for n in NAMES:
        f, r = float_format(n), refs[n]
        ours.append([f.eps, f.max, f.smallest_normal, f.smallest_subnormal, f.eps, f.max])
        theirs.append([r["eps"], r["max"], r["normal"], r["subnormal"], r["np_eps"], r["np_max"]])
    return np.array(ours), np.array(theirs)


def decoded_patterns() -> dict[str, tuple[Array, Array]]:
    """Every fp16, bf16 and fp8 bit pattern decoded by llmath and by the dtype's own view."""
    import ml_dtypes

    views = {"fp16": (np.uint16, np.float16), "bf16": (np.uint16, ml_dtypes.bfloat16),
             "fp8_e4m3": (np.uint8, ml_dtypes.float8_e4m3fn),
             "fp8_e5m2": (np.uint8, ml_dtypes.float8_e5m2)}  # fmt: skip
    out = {}
    for n, (ut, ft) in views.items():
        bits = np.arange(2 ** float_format(n).bits, dtype=np.uint64).astype(ut)
        with np.errstate(invalid="ignore"):
            ref = bits.view(ft).astype(np.float64)
        out[n] = (decode_float(bits, n), ref)
    return out


def same_values(a: Array, b: Array) -> float:
    """The largest difference between two decodings, NaN where both are NaN, inf where equal."""
    both_nan = np.isnan(a) & np.isnan(b)
    same = (a == b) | both_nan
    return 0.0 if same.all() else float("inf")


def example_patterns() -> list[tuple[str, str, float]]:
    """A few fp16 patterns, as bits and values: 1, the largest, the smallest normal/subnormal."""
    cases = [("0 01111 0000000000", 0x3C00), ("0 11110 1111111111", 0x7BFF),
             ("0 00001 0000000000", 0x0400), ("0 00000 0000000001", 0x0001),
             ("1 11111 0000000000", 0xFC00), ("0 11111 1000000000", 0x7E00)]  # fmt: skip
    values = decode_float([b for _, b in cases], "fp16")
    return [(s, f"0x{b:04X}", float(v)) for (s, b), v in zip(cases, values, strict=True)]


@functools.cache
def rounding_errors() -> Array:
    """Largest relative rounding error |fl(x) - x| / |x| over many normal-range x, and u = eps/2."""
    rng = np.random.default_rng(SEED)
    rows = []
    for n in NAMES:
        f = float_format(n)
        lo, hi = math.log2(f.smallest_normal), math.log2(f.max) - 1
        x = np.exp2(rng.uniform(lo, hi, size=200_000))  # spread over the normal range
        rel = np.abs(round_to_format(x, n) - x) / x
        rows.append([rel.max() / (f.eps / 2), rel.mean() / (f.eps / 2)])
    return np.array(rows)


# ---- summation -----------------------------------------------------------------------------------

SUM_K = tuple(range(6, 21, 2))  # n = 2^6 ... 2^20 terms


@functools.cache
def sum_errors() -> Array:
    """Relative error in units of u (float32) of naive, pairwise, Kahan and numpy.sum, per n."""
    rng = np.random.default_rng(SEED)
    u = 2.0**-24
    rows = []
    for k in SUM_K:
        x = rng.uniform(0, 1, size=2**k).astype(np.float32).astype(np.float64)  # exact in fp32
        exact = math.fsum(x)
        got = [naive_sum(x, dtype="float32"), pairwise_sum(x, dtype="float32"),
               kahan_sum(x, dtype="float32"), float(np.sum(x.astype(np.float32)))]  # fmt: skip
        rows.append([abs(g - exact) / exact / u for g in got])
    return np.array(rows)


def sum_table() -> Array:
    e = sum_errors()
    pick = [SUM_K.index(k) for k in (10, 16, 20)]
    return e[pick]


def sum_figure() -> str:
    e = sum_errors()
    n = 2.0 ** np.array(SUM_K)
    fig, ax = new_figure(6.0, 3.4)
    for j, (name, colour, marker) in enumerate(
        [("left to right", RED, "o"), ("pairwise", BLUE, "s"), ("Kahan", GREEN, "^")]
    ):
        ax.loglog(n, np.maximum(e[:, j], 1e-2), marker=marker, color=colour, label=name)
    ax.loglog(n, n - 1, ":", color=RED, label="bound (n − 1)u")
    ax.loglog(n, np.log2(n), ":", color=BLUE, label="bound ⌈log₂ n⌉u")
    ax.set_xlabel("number of terms n")
    ax.set_ylabel("relative error / u")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg(
        fig,
        alt="Relative error of a float32 sum of n uniform numbers, in units of u, against n on "
        "log-log axes. Left-to-right summation grows roughly like the square root of n, reaching "
        "hundreds of u; pairwise stays near a few u; Kahan stays below one u. Dotted lines show "
        "the worst-case bounds n − 1 and log2 n.",
        caption="Summing n uniform(0, 1) numbers in float32 (each term exactly a float32), "
        "error against math.fsum in units of u = 2<sup>−24</sup>. Zero errors are drawn at 0.01.",
    )


# ---- softmax in fp16 -----------------------------------------------------------------------------


def fp16_exp_threshold() -> dict[str, float]:
    """The smallest fp16 logit whose fp16 exp overflows, and ln of the largest fp16 value."""
    f = float_format("fp16")
    bits = np.arange(0x4800, 0x4A00)  # fp16 patterns of 8 ... 12
    z = decode_float(bits, "fp16").astype(np.float16)
    with np.errstate(over="ignore"):
        e = np.exp(z)
    first = float(z[np.argmax(np.isinf(e))])
    last_ok = float(z[np.argmax(np.isinf(e)) - 1])
    return {"first_inf": first, "last_finite": last_ok, "ln_max": math.log(f.max),
            "ln_round_up": math.log(f.max + f.max * f.eps / 4)}  # fmt: skip


def softmax16(z: Array, *, stable: bool, accumulate: str = "float16") -> Array:
    """Softmax with exp and division in fp16; the sum accumulated left to right in `accumulate`."""
    z16 = np.asarray(z, dtype=np.float64).astype(np.float16)
    if stable:
        z16 = z16 - z16.max()
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z16)  # fp16
        total = np.cumsum(e, dtype=accumulate)[-1].astype(np.float16)
        return (e / total).astype(np.float64)


def softmax_overflow() -> dict[str, Any]:
    """Four logits with the largest at 11 and at 11.1: naive fp16 softmax, stable, float64."""
    out = {}
    for top in (11.0, 11.1):
        z = np.array([top, 2.0, 0.5, -1.0])
        out[top] = (softmax16(z, stable=False), softmax16(z, stable=True), softmax(z))
    return out


def zipf_logits(nV: int = GPT2_VOCAB) -> Array:
    """Logits of a Zipf distribution p_i ∝ 1/i over nV tokens (a model of word frequencies)."""
    return -np.log(np.arange(1, nV + 1, dtype=np.float64))


def vocab_softmax() -> Array:
    """Softmax over GPT-2's vocabulary size in fp16: rows uniform and Zipf logits; columns
    the fp16-accumulated sum, the exact sum, the fp32-accumulated sum, and the max relative
    error of the probabilities with fp16 and with fp32 accumulation."""
    rows = []
    for z in (np.zeros(GPT2_VOCAB), zipf_logits()):
        e = np.exp(z - z.max())
        s16 = naive_sum(e, dtype="float16")
        s32 = naive_sum(e, dtype="float32")
        ref = softmax(z)
        err16 = np.max(np.abs(softmax16(z, stable=True) - ref) / ref)
        err32 = np.max(np.abs(softmax16(z, stable=True, accumulate="float32") - ref) / ref)
        rows.append([s16, math.fsum(e), s32, err16, err32])
    return np.array(rows)


# ---- layer norm in fp16 --------------------------------------------------------------------------

LN_D = 768
LN_SCALES = (1.0, 8.0, 10.0, 64.0, 300.0)


def layer_norm16(x: Array, *, statistics: str = "float16", divide_first: bool = False) -> Array:
    """Layer norm (gamma = 1, beta = 0, eps = 1e-5) of fp16 inputs with the mean and the
    (two-pass) variance accumulated left to right in `statistics`, either as a sum divided by D
    or, with `divide_first`, as a sum of terms already divided by D; output rounded to fp16."""
    x16 = np.asarray(x).astype(np.float16)
    xs = x16.astype(statistics)
    n = xs.dtype.type(xs.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        if divide_first:
            mu = np.cumsum(xs / n, axis=-1, dtype=statistics)[..., -1:]
            d = xs - mu
            var = np.cumsum(d * d / n, axis=-1, dtype=statistics)[..., -1:]
        else:
            mu = np.cumsum(xs, axis=-1, dtype=statistics)[..., -1:] / n
            d = xs - mu
            var = np.cumsum(d * d, axis=-1, dtype=statistics)[..., -1:] / n
        y = d / np.sqrt(var + xs.dtype.type(1e-5))
    return y.astype(np.float16).astype(np.float64)


def ln_sigma_limit(D: int = LN_D) -> float:
    """The activation scale at which the fp16 sum of D squared deviations reaches fp16's max."""
    return math.sqrt(float_format("fp16").max / D)


@functools.cache
def layer_norm_table() -> Array:
    """Per activation scale s (x = s · N(0, 1), 768 features, 16 tokens): max |x - mean|, and
    the max error of the output: fp16 sum then divide, fp16 divide then sum, fp32 statistics."""
    rng = np.random.default_rng(SEED)
    base = rng.normal(size=(16, LN_D))
    rows = []
    for s in LN_SCALES:
        x = (s * base).astype(np.float16).astype(np.float64)
        ref, _ = layer_norm(x, np.ones(LN_D), np.zeros(LN_D), eps=1e-5)
        errs = []
        for kw in ({}, {"divide_first": True}, {"statistics": "float32"}):
            with np.errstate(invalid="ignore"):
                e = float(np.max(np.abs(layer_norm16(x, **kw) - ref)))
            errs.append(e if np.isfinite(e) else np.inf)
        dev = float(np.max(np.abs(x - x.mean(-1, keepdims=True))))
        rows.append([s, dev, *errs])
    return np.array(rows)


def one_pass_variance() -> dict[str, float]:
    """Var of activations with mean 100 and std 1, in fp16: E[x^2] - E[x]^2 against two-pass."""
    x = (100.0 + np.random.default_rng(SEED).normal(size=LN_D)).astype(np.float16)
    n = np.float16(LN_D)
    with np.errstate(over="ignore"):
        mean = np.cumsum(x, dtype=np.float32)[-1] / LN_D  # even a float32 mean
        msq = np.cumsum(x.astype(np.float32) ** 2, dtype=np.float32)[-1] / LN_D
        one_pass16 = np.float16(msq) - np.float16(mean) ** 2
        two_pass16 = np.cumsum((x - np.float16(mean)) ** 2, dtype=np.float16)[-1] / n
    return {"exact": float(np.var(x.astype(np.float64))), "one_pass": float(one_pass16),
            "two_pass": float(two_pass16), "ulp_at_msq": float(np.spacing(np.float16(msq)))}  # fmt: skip


# ---- gradients, loss scaling and bf16 ------------------------------------------------------------

GRAD_POSITIONS = 8


@functools.cache
def logit_gradients() -> Array:
    """dL/dlogits of the mean loss over BATCH_TOKENS tokens for GRAD_POSITIONS positions with
    Zipf next-token distributions over GPT-2's vocabulary: (p - onehot(y)) / N, flattened."""
    rng = np.random.default_rng(SEED)
    p = softmax(zipf_logits())
    g = np.tile(p, (GRAD_POSITIONS, 1))
    targets = rng.choice(GPT2_VOCAB, size=GRAD_POSITIONS, p=p)
    g[np.arange(GRAD_POSITIONS), targets] -= 1.0
    return (g / BATCH_TOKENS).ravel()


def loss_scale() -> int:
    """The largest power of two S with S · max|g| at most fp16's largest value."""
    g = np.abs(logit_gradients())
    return 2 ** math.floor(math.log2(float_format("fp16").max / g.max()))


def gradient_fates() -> Array:
    """Fractions of the gradient entries: flushed to zero, subnormal, and max relative error
    of the normal ones, for fp16, fp16 with loss scale S, and bf16."""
    g = logit_gradients()
    f16, b16 = float_format("fp16"), float_format("bf16")
    S = loss_scale()
    rows = []
    for name, scaled, f in (("fp16", g, f16), ("fp16", g * S, f16), ("bf16", g, b16)):
        r = round_to_format(scaled, name)
        zero = np.mean(r == 0)
        sub = np.mean((r != 0) & (np.abs(r) < f.smallest_normal))
        rel = np.abs(r - scaled) / np.abs(scaled)
        rows.append([zero, sub, rel.max()])
    return np.array(rows)


def gradient_figure() -> str:
    g = np.abs(logit_gradients())
    S = loss_scale()
    f16 = float_format("fp16")
    edges = np.arange(-50, 17, 1.0)
    fig, ax = new_figure(6.0, 3.4)
    h1, _ = np.histogram(np.log2(g), bins=edges)
    h2, _ = np.histogram(np.log2(g * S), bins=edges)
    ax.stairs(h1, edges, color=BLUE, label="gradients g")
    ax.stairs(h2, edges, color=ORANGE, label=f"scaled: $g \\cdot 2^{{{int(math.log2(S))}}}$")
    for x, style, text in ((math.log2(f16.smallest_subnormal), ":", "fp16 smallest subnormal"),
                           (math.log2(f16.smallest_normal), "--", "fp16 smallest normal"),
                           (math.log2(f16.max), "-", "fp16 max")):  # fmt: skip
        ax.axvline(x, color=RED, linestyle=style, linewidth=1)
        ax.text(x + 0.5, ax.get_ylim()[1] * 0.92, text, rotation=90, va="top", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("log₂ |g|")
    ax.set_ylabel("entries")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg(
        fig,
        alt="Histogram of log2 of the absolute logit gradients, mostly between 2^-45 and 2^-20, "
        "left of fp16's smallest subnormal 2^-24; the loss-scaled histogram is the same shape "
        "shifted right by the scale's exponent, inside fp16's range.",
        caption="Logit gradients (p − e<sub>y</sub>)/N of the mean loss over N = 2<sup>19</sup> "
        "tokens, for Zipf next-token distributions over GPT-2's 50 257 tokens, before and "
        "after multiplying by the loss scale. Red lines: fp16's smallest subnormal, smallest "
        "normal and largest value.",
    )


def bf16_update() -> dict[str, float]:
    """A weight of 1 updated by 1e-3 and by 1e-2, rounded to bf16, fp16 and fp32."""
    return {f"{n} {d:g}": float(round_to_format([1.0 + d], n)[0]) - 1.0
            for n in ("bf16", "fp16", "fp32") for d in (1e-3, 1e-2)}  # fmt: skip


def tables() -> dict[str, Array]:
    return {
        "scale/fp-layout": layout_table(),
        "scale/fp-rounding": rounding_errors(),
        "scale/fp-sums": sum_table(),
        "scale/fp-vocab-softmax": vocab_softmax(),
        "scale/fp-layer-norm": layer_norm_table(),
        "scale/fp-gradients": gradient_fates(),
    }
