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
# # Part 5 walkthrough: llmath's optimisers and training next to torch's
#
# This notebook runs the main checks of Part 5 in one place, with `llmath` on one side and
# `torch` (or `scipy`, or a closed form) on the other: gradient descent on a quadratic, the four
# optimisers against `torch.optim` step for step, the warm-up and cosine schedule, a short
# training run of a small GPT-2 against the same run in torch from the same weights, LoRA's
# gradients, and the KL-regularised optimum behind preference tuning. Every comparison is an
# `assert` with its tolerance, so a wrong number stops the notebook. Download it with the button
# at the top of the page; it is a jupytext "percent" file, which runs as a plain script too.
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

import numpy as np
import torch
from scipy.optimize import minimize

# transformers imports tqdm.auto, which asks for Jupyter's progress-bar widgets; nothing here
# draws a progress bar, so its notice is silenced.
warnings.filterwarnings("ignore", message="IProgress not found")
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import llmath  # noqa: E402
from llmath.training.backward import parameters, train_step  # noqa: E402

hf_logging.set_verbosity_error()
np.set_printoptions(precision=4, suppress=True)
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Gradient descent on a quadratic
#
# On $\mathcal{L}(\theta) = \tfrac12\theta A\theta^\top$ each eigendirection of $A$ is multiplied
# by $1 - \eta\lambda_i$ per step: the iteration converges for $\eta < 2/\lambda_{\max}$ and
# diverges just above it.

# %%
A = np.array([[4.0, 1.0], [1.0, 2.0]])
lam = np.linalg.eigvalsh(A)
limit = 2 / lam.max()
for factor in (0.99, 1.01):
    theta = np.array([1.0, 1.0])
    opt = llmath.SGD([theta], lr=factor * limit)
    for _ in range(300):
        opt.step([A @ theta])
    rho = np.abs(1 - factor * limit * lam).max()
    print(f"η = {factor} · 2/λmax: ‖θ_300‖ = {np.linalg.norm(theta):.3e}, rate ρ = {rho:.4f}")
    assert (np.linalg.norm(theta) < 1e-2) == (factor < 1)

# %% [markdown]
# ## 2. The optimisers against `torch.optim`
#
# The same quadratic-plus-linear loss $\tfrac12\theta A\theta^\top - b\theta$ in 5 dimensions,
# 50 steps, each optimiser with weight decay; torch gets the same gradients through `.grad`.

# %%
rng = np.random.default_rng(0)
M = rng.standard_normal((5, 5))
A5, b5, start = M @ M.T / 5 + np.eye(5), rng.standard_normal(5), rng.standard_normal(5)
pairs = [
    ("SGD", llmath.SGD, torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", llmath.Adam, torch.optim.Adam, {"lr": 0.05, "weight_decay": 0.01}),
    ("AdamW", llmath.AdamW, torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
    ("RMSProp", llmath.RMSProp, torch.optim.RMSprop, {"lr": 0.01, "momentum": 0.5}),
]  # fmt: skip
for name, ours_cls, torch_cls, kwargs in pairs:
    ours = start.copy()
    theirs = torch.tensor(start, requires_grad=True)
    o1, o2 = ours_cls([ours], **kwargs), torch_cls([theirs], **kwargs)
    worst = 0.0
    for _ in range(50):
        o1.step([A5 @ ours - b5])
        theirs.grad = torch.from_numpy(A5 @ theirs.detach().numpy() - b5)
        o2.step()
        worst = max(worst, np.abs(ours - theirs.detach().numpy()).max())
    print(f"{name:8s} max |llmath − torch| over 50 steps: {worst:.1e}")
    assert worst < 1e-12

# %% [markdown]
# ## 3. Warm-up and cosine decay
#
# `cosine_schedule` against the formula written out: linear warm-up to `max_lr`, then half a
# cosine down to `min_lr`.

# %%
warm, total, top, bottom = 10, 100, 1e-3, 1e-4
ours_lr = [llmath.cosine_schedule(s, max_lr=top, warmup_steps=warm, total_steps=total,
                                  min_lr=bottom) for s in range(120)]  # fmt: skip
formula = [
    top * (s + 1) / warm if s < warm
    else bottom + (top - bottom) * 0.5 * (1 + math.cos(math.pi * min(s - warm, total - warm)
                                                          / (total - warm)))
    for s in range(120)
]  # fmt: skip
print("learning rate at steps 0, 9, 10, 55, 100:", [ours_lr[s] for s in (0, 9, 10, 55, 100)])
assert np.abs(np.array(ours_lr) - formula).max() < 1e-15

# %% [markdown]
# ## 4. A short training run: llmath against torch, from the same weights
#
# A small GPT-2 with random weights from a seed; `gpt2_params_from_state` copies them into
# llmath. Both take 8 AdamW steps on the same batches, with gradient clipping: llmath with
# `train_step` (the whole model's hand-written backward pass), torch with autograd and
# `torch.optim.AdamW`. In float64 the two loss curves agree to rounding error.

# %%
torch.manual_seed(0)
hf = GPT2LMHeadModel(
    GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=41, n_positions=16,
               attn_implementation="eager", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
).double()  # fmt: skip
config = llmath.ModelConfig(n_vocab=41, n_ctx=16, D=32, H=4, n_layers=2)
params = llmath.gpt2_params_from_state(
    {k: v.detach().numpy().copy() for k, v in hf.state_dict().items()}, config
)
ours_opt = llmath.AdamW(parameters(params), lr=3e-3, weight_decay=0.01)
torch_opt = torch.optim.AdamW(hf.parameters(), lr=3e-3, weight_decay=0.01)
batches = np.random.default_rng(2).integers(0, 41, size=(8, 4, 12))
curve = []
for ids in batches:
    loss, norm = train_step(params, ids, ours_opt, config=config, max_norm=1.0)
    torch_opt.zero_grad()
    t_ids = torch.from_numpy(ids)
    logits = hf(t_ids[:, :-1]).logits
    t_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 41), t_ids[:, 1:].reshape(-1))
    t_loss.backward()
    t_norm = torch.nn.utils.clip_grad_norm_(hf.parameters(), 1.0)
    torch_opt.step()
    curve.append((loss, t_loss.item(), norm, t_norm.item()))
curve = np.array(curve)
print("step  llmath loss   torch loss    |difference|")
for i, (a, b, _, _) in enumerate(curve):
    print(f"{i:4d}  {a:.10f}  {b:.10f}  {abs(a - b):.1e}")
assert np.abs(curve[:, 0] - curve[:, 1]).max() < 1e-9
assert np.abs(curve[:, 2] - curve[:, 3]).max() < 1e-9

# %% [markdown]
# ## 5. LoRA's gradients
#
# With $W' = W + \frac{\alpha}{r}AB$, `lora_backward` turns the gradient $G$ of the merged weight
# into $\frac{\alpha}{r}GB^\top$ and $\frac{\alpha}{r}A^\top G$; torch differentiates through
# the merge.

# %%
W, a, b = rng.standard_normal((6, 4)), rng.standard_normal((6, 2)), rng.standard_normal((2, 4))
x = rng.standard_normal((5, 6))
ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
merged = torch.from_numpy(W) + 8.0 / 2 * ta @ tb
merged.retain_grad()
torch.tanh(torch.from_numpy(x) @ merged).sum().backward()
ga, gb = llmath.lora_backward(merged.grad.numpy(), a, b, alpha=8.0)
print(f"max |∂L/∂A − torch| = {np.abs(ga - ta.grad.numpy()).max():.1e}, "
      f"max |∂L/∂B − torch| = {np.abs(gb - tb.grad.numpy()).max():.1e}")  # fmt: skip
assert np.abs(ga - ta.grad.numpy()).max() < 1e-12 and np.abs(gb - tb.grad.numpy()).max() < 1e-12

# %% [markdown]
# ## 6. Preferences: the KL-regularised optimum and DPO
#
# $\max_\pi \mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi\|\pi_{\text{ref}})$ is attained at
# $\pi^* \propto \pi_{\text{ref}}e^{r/\beta}$ with value $\beta\log Z$. scipy maximises the
# objective numerically over the simplex; the closed form must agree.

# %%
pi_ref = np.array([0.4, 0.3, 0.2, 0.1])
reward = np.array([0.0, 1.0, -1.0, 2.0])
beta = 0.5
fit = minimize(
    lambda p: -llmath.kl_regularised_objective(np.clip(p, 1e-300, None) / np.clip(p, 1e-300, None).sum(),
                                               pi_ref, reward, beta=beta),
    np.full(4, 0.25), method="SLSQP", bounds=[(1e-12, 1.0)] * 4,
    constraints=({"type": "eq", "fun": lambda p: p.sum() - 1.0},), options={"ftol": 1e-15},
)  # fmt: skip
pi_star = llmath.kl_regularised_policy(pi_ref, reward, beta=beta)
value = llmath.kl_regularised_value(pi_ref, reward, beta=beta)
print("π* =", pi_star, " scipy:", fit.x)
print(f"β log Z = {value:.10f}, scipy's maximum = {-fit.fun:.10f}")
assert np.abs(pi_star - fit.x).max() < 1e-5 and abs(value + fit.fun) < 1e-9

# %% [markdown]
# DPO's loss is the Bradley–Terry loss of the implicit rewards $\beta\log(\pi/\pi_{\text{ref}})$;
# against the formula in torch, and its gradient against autograd.

# %%
logp = torch.tensor(np.log(rng.dirichlet(np.ones(4))), requires_grad=True)
ref = torch.log(torch.from_numpy(pi_ref))
w, lo = np.array([3, 1, 3, 0]), np.array([0, 2, 1, 2])
t_dpo = -torch.nn.functional.logsigmoid(beta * ((logp[w] - ref[w]) - (logp[lo] - ref[lo]))).mean()
t_dpo.backward()
lp, rf = logp.detach().numpy(), ref.numpy()
ours_dpo = llmath.dpo_loss(lp[w], lp[lo], rf[w], rf[lo], beta=beta)
h = 1e-6
fd = [(llmath.dpo_loss(*(lp + h * np.eye(4)[k])[[w, lo]], rf[w], rf[lo], beta=beta)
       - llmath.dpo_loss(*(lp - h * np.eye(4)[k])[[w, lo]], rf[w], rf[lo], beta=beta)) / (2 * h)
      for k in range(4)]  # fmt: skip
print(f"DPO loss: llmath {ours_dpo:.12f}, torch {t_dpo.item():.12f}")
print("gradient: finite differences of llmath", np.array(fd), " autograd", logp.grad.numpy())
assert abs(ours_dpo - t_dpo.item()) < 1e-14
assert np.abs(np.array(fd) - logp.grad.numpy()).max() < 1e-8
