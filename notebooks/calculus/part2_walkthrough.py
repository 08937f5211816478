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
# # Part 2 walkthrough: from a derivative to a transformer block's backward pass
#
# This notebook runs the main checks of Part 2 in one place. Every gradient is computed twice:
# by a hand-written backward pass in `llmath`, and by something independent of it (central finite
# differences from `llmath.numerical_grad`, or `torch.autograd` in float64). Every comparison is
# an `assert` with its tolerance, so a wrong gradient stops the notebook. Download it with the
# button at the top of the page; it is a jupytext "percent" file, which runs as a plain script too.
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
import numpy as np
import torch
import torch.nn.functional as F

import llmath

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## 1. Finite differences have two errors
#
# The forward difference $(f(x+h) - f(x))/h$ has truncation error $O(h)$, the central difference
# $(f(x+h) - f(x-h))/2h$ has $O(h^2)$, and both suffer rounding error of order
# $\varepsilon_{\text{mach}}/h$. Shrinking $h$ helps only until rounding takes over. Here
# $f = \exp$ at $x = 1$, whose derivative is known exactly.

# %%
x0 = np.array([1.0])
exact = np.exp(1.0)
print("      h    forward error    central error")
errors = {}
for h in [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]:
    fwd = llmath.numerical_grad(lambda x: float(np.exp(x).sum()), x0, h=h, method="forward")
    ctr = llmath.numerical_grad(lambda x: float(np.exp(x).sum()), x0, h=h, method="central")
    errors[h] = (abs(fwd[0] - exact), abs(ctr[0] - exact))
    print(f"{h:7.0e}    {errors[h][0]:.3e}        {errors[h][1]:.3e}")
# central beats forward at a moderate step; a tiny step is worse than a moderate one
assert errors[1e-4][1] < errors[1e-4][0] and errors[1e-12][1] > errors[1e-6][1]

# %% [markdown]
# ## 2. A scalar autodiff engine against torch.autograd
#
# `llmath.Value` records every operation and runs the chain rule backwards, once, from the
# output. The neuron $\tanh(w_1 x_1 + w_2 x_2 + b)$:

# %%
x1, x2, w1, w2, b = (llmath.Value(v) for v in (2.0, -1.0, -0.5, 1.5, 0.3))
y = (w1 * x1 + w2 * x2 + b).tanh()
y.backward()

t = [torch.tensor(v, requires_grad=True) for v in (2.0, -1.0, -0.5, 1.5, 0.3)]
ty = torch.tanh(t[2] * t[0] + t[3] * t[1] + t[4])
ty.backward()
ours = np.array([v.grad for v in (x1, x2, w1, w2, b)])
ref = np.array([float(v.grad) for v in t])
print("llmath grads:", ours)
print("torch grads: ", ref)
assert np.abs(ours - ref).max() <= 1e-15

# %% [markdown]
# ## 3. Softmax and cross-entropy
#
# The softmax Jacobian is $J = \operatorname{diag}(s) - s^\top s$, $J_{ji} = \partial s_j /
# \partial z_i$ (rows and columns sum to zero), and the gradient of the mean cross-entropy
# $\mathcal{L}$ over $n$ tokens is $(\operatorname{softmax}(z) - e_y)/n$.

# %%
z = rng.normal(size=(3, 5))
targets = np.array([1, 4, 0])
J = llmath.softmax_jacobian(z[0])
J_torch = torch.autograd.functional.jacobian(lambda r: torch.softmax(r, 0), torch.tensor(z[0]))
print("Jacobian rows sum to:", J.sum(axis=-1))
assert np.abs(J.sum(axis=-1)).max() <= 1e-15
assert np.abs(J - J_torch.numpy()).max() <= 1e-15

tz = torch.tensor(z, requires_grad=True)
loss = F.cross_entropy(tz, torch.tensor(targets))
loss.backward()
grad_gap = np.abs(llmath.cross_entropy_grad(z, targets) - tz.grad.numpy()).max()
print("loss  llmath, torch:", llmath.cross_entropy(z, targets), loss.item())
print("max |grad difference| =", grad_gap)
assert abs(llmath.cross_entropy(z, targets) - loss.item()) <= 1e-14 and grad_gap <= 1e-15

# %% [markdown]
# ## 4. Vanishing gradients through sigmoids
#
# The sigmoid's slope is at most $1/4$, reached at $0$; a stack of sigmoid layers multiplies one
# such factor per layer into the gradient (together with the weights).

# %%
grid = np.linspace(-6, 6, 1201)
slopes = llmath.sigmoid_grad(grid)
print("max sigmoid slope on the grid:", slopes.max(), "at", grid[slopes.argmax()])
assert slopes.max() == 0.25 and grid[slopes.argmax()] == 0.0
D = 16
h = rng.normal(size=(1, D))
weights = [rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(20)]
pre = []
for w in weights:
    pre.append(h @ w)
    h = llmath.sigmoid(pre[-1])
g = np.ones_like(h)
norms = []
for w, u in zip(reversed(weights), reversed(pre), strict=True):
    g = (g * llmath.sigmoid_grad(u)) @ w.T
    norms.append(np.linalg.norm(g))
print("gradient norm after 1, 5, 10, 20 layers:", [f"{norms[i]:.2e}" for i in (0, 4, 9, 19)])
assert norms[19] < 1e-6 * norms[0]  # it vanishes

# %% [markdown]
# ## 5. Layer normalisation backward against torch.autograd
#
# With a per-feature $\gamma$ and $\varepsilon > 0$, exactly as `torch.nn.functional.layer_norm`.

# %%
x = rng.normal(size=(2, 3, 6))
gamma, beta = rng.normal(size=6), rng.normal(size=6)
dout = rng.normal(size=x.shape)
out, cache = llmath.layer_norm(x, gamma, beta, eps=1e-5)
dx, dgamma, dbeta = llmath.layer_norm_backward(dout, cache)

tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
F.layer_norm(tx, (6,), tg, tb, eps=1e-5).backward(torch.tensor(dout))
pairs = (("dx", dx, tx.grad), ("dgamma", dgamma, tg.grad), ("dbeta", dbeta, tb.grad))
for name, ours, ref in pairs:
    gap = np.abs(ours - ref.numpy()).max()
    print(f"{name:7s} max |llmath - torch| = {gap:.1e}")
    assert gap <= 1e-12

# %% [markdown]
# ## 6. A whole transformer block, checked by finite differences
#
# `llmath.block_backward` chains the backward passes of layer norm, multi-head attention, the
# GELU MLP and both residual connections. We compare its gradient with respect to the input
# with central differences of the scalar $\sum \text{out} \odot \text{dout}$.

# %%
T, D, Fdim, H = 4, 8, 16, 2
params = llmath.BlockParams(
    1 + 0.1 * rng.normal(size=D),
    0.1 * rng.normal(size=D),
    *(rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(4)),
    1 + 0.1 * rng.normal(size=D),
    0.1 * rng.normal(size=D),
    rng.normal(size=(D, Fdim)) / np.sqrt(D),
    0.1 * rng.normal(size=Fdim),
    rng.normal(size=(Fdim, D)) / np.sqrt(Fdim),
    0.1 * rng.normal(size=D),
)
x = rng.normal(size=(T, D))
dout = rng.normal(size=(T, D))
out, cache = llmath.block_forward(x, params, num_heads=H)
dx, grads = llmath.block_backward(dout, cache)
numeric = llmath.numerical_grad(
    lambda xx: float((llmath.block_forward(xx, params, num_heads=H)[0] * dout).sum()), x
)
rel = np.abs(dx - numeric).max() / np.abs(numeric).max()
print("max relative error of dx:", rel)
assert rel <= 1e-8

# %% [markdown]
# ## 7. One step of gradient descent
#
# Training moves the parameters against the gradient, $\theta \leftarrow \theta - \eta
# \nabla \mathcal{L}$. One step on the cross-entropy of a softmax regression $Z = XW$, whose
# gradient in $W$ is $X^\top \nabla_Z \mathcal{L}$, lowers the loss by about
# $\eta \lVert \nabla \mathcal{L} \rVert^2$.

# %%
X = rng.normal(size=(8, 3))  # (n, D)
y = rng.integers(0, 4, size=8)  # (n,) targets among nV = 4 classes
W = np.zeros((3, 4))  # (D, nV)
grad_W = X.T @ llmath.cross_entropy_grad(X @ W, y)  # (D, nV)
fd_W = llmath.numerical_grad(lambda w: llmath.cross_entropy(X @ w, y), W)
assert np.abs(grad_W - fd_W).max() <= 1e-9
eta = 0.1
before, after = llmath.cross_entropy(X @ W, y), llmath.cross_entropy(X @ (W - eta * grad_W), y)
predicted = before - eta * (grad_W**2).sum()
print(f"loss {before:.6f} -> {after:.6f}; first-order prediction {predicted:.6f}")
assert after < before and abs(after - predicted) < 0.1 * (before - after)
