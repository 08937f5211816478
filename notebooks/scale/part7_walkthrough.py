# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 7 walkthrough: scale and numerics, checked
#
# This notebook runs the main checks of Part 7 in one place, each against an independent
# witness: the compute-optimal allocation against a numerical minimiser (scipy), the volume of
# an n-ball against Monte Carlo samples, the floating-point formats against `numpy.finfo`,
# `torch.finfo` and `ml_dtypes`, and the int8 quantiser against PyTorch's quantized tensors.
# Every comparison is an `assert` with its tolerance, so a wrong number stops the notebook.
# Download it with the button at the top of the page; it is a jupytext "percent" file, which
# runs as a plain script too.
#
# Nothing reusable is defined here: every function comes from `llmath`.

# %%
# Running this notebook outside the book's repository (Colab, a fresh Jupyter)? This cell
# installs llmath from GitHub first. Where llmath is importable already, it does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("llmath") is None:
    package = "llmath @ git+https://github.com/llmath/llmath"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)

# %%
import math
import warnings

import ml_dtypes
import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar

import llmath

np.set_printoptions(precision=4, suppress=True)
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Compute-optimal allocation
#
# Chinchilla's loss $L(N, D) = E + A/N^\alpha + B/D^\beta$ at a fixed budget $C = 6ND$: the
# closed form from a Lagrange multiplier against scipy's minimiser of $L(N, C/(6N))$ over
# $\log N$, at Gopher's budget $C = 5.76 \cdot 10^{23}$ FLOPs, for the printed fit and
# Besiroglu et al.'s refit.

# %%
C = 5.76e23
for fit in ("hoffmann", "besiroglu"):
    opt = llmath.compute_optimal(C, fit=fit)
    res = minimize_scalar(
        lambda logn, fit=fit: llmath.chinchilla_loss(
            math.exp(logn), C / (6 * math.exp(logn)), fit=fit
        ),
        bounds=(math.log(1e8), math.log(1e13)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    n_scipy = math.exp(res.x)
    print(
        f"{fit:10s}: N_opt = {opt.N / 1e9:6.1f} B (scipy {n_scipy / 1e9:6.1f} B), "
        f"D_opt = {opt.D / 1e9:7.0f} B tokens, {opt.tokens_per_param:5.1f} tokens per parameter, "
        f"loss {opt.loss:.4f}"
    )
    assert abs(n_scipy / opt.N - 1) < 1e-4
    assert abs(llmath.training_flops(opt.N, opt.D) / C - 1) < 1e-12

# %% [markdown]
# ## 2. Where the volume of a ball is
#
# The fraction of the unit $n$-ball inside radius $r$ is $r^n$: at $n = 100$ only a fraction
# $0.9^{100}$ lies inside radius 0.9. Checked against points drawn uniformly from the ball.

# %%
rng = np.random.default_rng(7)
for n in (2, 10, 100):
    pts = llmath.sample_ball(n, 20_000, rng=rng)  # (m, n)
    inside = float(np.mean(np.linalg.norm(pts, axis=1) <= 0.9))
    exact = float(llmath.ball_volume_fraction(n, 0.9))
    se = math.sqrt(exact * (1 - exact) / 20_000)
    print(f"n = {n:3d}: inside r = 0.9: formula {exact:.5f}, Monte Carlo {inside:.5f}")
    assert abs(inside - exact) <= 5 * se + 1e-4

# %% [markdown]
# ## 3. Floating-point formats from their bits
#
# `float_format` computes $\varepsilon$, the largest value and the smallest normal and
# subnormal numbers from the exponent and fraction widths; the libraries list them.

# %%
refs = {
    "fp32": (torch.float32, np.finfo(np.float32)),
    "fp16": (torch.float16, np.finfo(np.float16)),
    "bf16": (torch.bfloat16, ml_dtypes.finfo(ml_dtypes.bfloat16)),
    "fp8_e4m3": (torch.float8_e4m3fn, ml_dtypes.finfo(ml_dtypes.float8_e4m3fn)),
    "fp8_e5m2": (torch.float8_e5m2, ml_dtypes.finfo(ml_dtypes.float8_e5m2)),
}
for name, (tdtype, info) in refs.items():
    f = llmath.float_format(name)
    t = torch.finfo(tdtype)
    print(
        f"{name:9s} eps {f.eps:<11.4g} max {f.max:<12.6g} min normal {f.smallest_normal:<11.4g}"
        f" min subnormal {f.smallest_subnormal:.4g}"
    )
    assert (f.eps, f.max, f.smallest_normal) == (
        float(t.eps),
        float(t.max),
        float(t.smallest_normal),
    )
    assert (f.eps, f.max, f.smallest_subnormal) == (
        float(info.eps),
        float(info.max),
        float(info.smallest_subnormal),
    )

# %% [markdown]
# Every one of the 65 536 fp16 bit patterns, decoded by `decode_float` and by numpy viewing
# the same bits as `float16` (NaN patterns must decode to NaN):

# %%
bits = np.arange(2**16, dtype=np.uint16)
ours = llmath.decode_float(bits, "fp16")
theirs = bits.view(np.float16).astype(np.float64)
same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
print(f"{same.sum()} of {bits.size} patterns agree; {np.isnan(ours).sum()} are NaN")
assert same.all() and np.array_equal(np.signbit(ours), np.signbit(theirs))

# %% [markdown]
# Summation in float32: a million terms added left to right lose hundreds of units of
# roundoff; pairwise summation a few; `math.fsum` gives the exact reference.

# %%
x = rng.uniform(0, 1, size=2**20).astype(np.float32).astype(np.float64)
exact = math.fsum(x)
u = 2.0**-24
naive = abs(llmath.naive_sum(x, dtype="float32") - exact) / exact / u
pairwise = abs(llmath.pairwise_sum(x, dtype="float32") - exact) / exact / u
print(f"relative error in units of u: left to right {naive:.1f}, pairwise {pairwise:.2f}")
assert naive > 50 * pairwise and pairwise <= 20

# %% [markdown]
# ## 4. int8 quantisation against PyTorch
#
# Symmetric absmax codes, per tensor and per output channel, against
# `torch.quantize_per_tensor` / `torch.quantize_per_channel` with the same scales and zero
# point 0 (PyTorch quantises float32, so the weight is rounded to float32 first; PyTorch warns
# that quantized tensors are deprecated, which is silenced).

# %%
w = (rng.normal(0, 0.02, size=(64, 96)) * np.exp(rng.normal(0, 0.5, size=96))).astype(np.float32)
w = w.astype(np.float64)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    codes, scale = llmath.quantize_absmax(w, 8)
    q = torch.quantize_per_tensor(torch.from_numpy(w).float(), float(scale), 0, torch.qint8)
    assert np.array_equal(codes, q.int_repr().numpy())
    codes_c, scales_c = llmath.quantize_absmax(w, 8, axis=1)
    qc = torch.quantize_per_channel(
        torch.from_numpy(w).float(),
        torch.from_numpy(scales_c),
        torch.zeros(96, dtype=torch.long),
        1,
        torch.qint8,
    )
    assert np.array_equal(codes_c, qc.int_repr().numpy())
    back_c = llmath.dequantize(codes_c, scales_c, axis=1)
    assert np.abs(back_c - qc.dequantize().double().numpy()).max() <= 2.0**-23 * np.abs(w).max()
err_t = np.abs(llmath.dequantize(codes, scale) - w)
err_c = np.abs(back_c - w)
print(f"per tensor: max error {err_t.max():.2e} (s/2 = {float(scale) / 2:.2e})")
print(
    f"per channel: max error {err_c.max():.2e}, RMS {np.sqrt(np.mean(err_c**2)):.2e} against {np.sqrt(np.mean(err_t**2)):.2e}"
)
assert err_t.max() <= float(scale) / 2 and np.sqrt(np.mean(err_c**2)) < np.sqrt(np.mean(err_t**2))

# %% [markdown]
# Knowledge distillation's loss, $\tau^2\,\mathrm{KL}(p\,\|\,q)$ averaged over positions, and
# its gradient against PyTorch's `kl_div` and autograd:

# %%
zs, zt = rng.normal(size=(2, 8, 20)) * 2
tau = 3.0
student = torch.tensor(zs, requires_grad=True)
loss = tau**2 * F.kl_div(
    F.log_softmax(student / tau, dim=-1),
    F.log_softmax(torch.tensor(zt) / tau, dim=-1),
    log_target=True,
    reduction="batchmean",
)
loss.backward()
ours_loss = llmath.distillation_loss(zs, zt, temperature=tau)
print(f"distillation loss: llmath {ours_loss:.12f}, torch {loss.item():.12f}")
assert abs(ours_loss - loss.item()) < 1e-14
assert (
    np.abs(llmath.distillation_grad(zs, zt, temperature=tau) - student.grad.numpy()).max() < 1e-15
)
