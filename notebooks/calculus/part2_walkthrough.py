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
# differences from `llmath.numerical_grad`, or `torch.autograd` in float64). Download it with the
# button at the top of the page; it is a jupytext "percent" file, which runs as a plain script too.
#
# Nothing reusable is defined here: every function comes from `llmath`.

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
for h in [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]:
    fwd = llmath.numerical_grad(lambda x: float(np.exp(x).sum()), x0, h=h, method="forward")
    ctr = llmath.numerical_grad(lambda x: float(np.exp(x).sum()), x0, h=h, method="central")
    print(f"{h:7.0e}    {abs(fwd[0] - exact):.3e}        {abs(ctr[0] - exact):.3e}")

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
print("llmath grads:", [v.grad for v in (x1, x2, w1, w2, b)])
print("torch grads: ", [float(v.grad) for v in t])

# %% [markdown]
# ## 3. Softmax and cross-entropy
#
# The softmax Jacobian is $\operatorname{diag}(s) - s^\top s$ (rows sum to zero), and the
# gradient of the mean cross-entropy over $N$ tokens is $(\operatorname{softmax}(z) - y)/N$.

# %%
z = rng.normal(size=(3, 5))
targets = np.array([1, 4, 0])
J = llmath.softmax_jacobian(z[0])
print("Jacobian rows sum to:", J.sum(axis=-1))

tz = torch.tensor(z, requires_grad=True)
loss = F.cross_entropy(tz, torch.tensor(targets))
loss.backward()
print("loss  llmath, torch:", llmath.cross_entropy(z, targets), float(loss))
print(
    "max |grad difference| =",
    np.abs(llmath.cross_entropy_grad(z, targets) - tz.grad.numpy()).max(),
)

# %% [markdown]
# ## 4. Vanishing gradients through sigmoids
#
# The sigmoid's slope is at most $1/4$, reached at $0$; a stack of sigmoid layers multiplies one
# such factor per layer into the gradient (together with the weights).

# %%
grid = np.linspace(-6, 6, 1201)
print("max sigmoid slope on the grid:", llmath.sigmoid_grad(grid).max(), "at", grid[llmath.sigmoid_grad(grid).argmax()])
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

# %% [markdown]
# ## 5. Layer normalisation backward against torch.autograd
#
# With a per-feature $\gamma$ and $\epsilon > 0$, exactly as `torch.nn.functional.layer_norm`.

# %%
x = rng.normal(size=(2, 3, 6))
gamma, beta = rng.normal(size=6), rng.normal(size=6)
dout = rng.normal(size=x.shape)
out, cache = llmath.layer_norm(x, gamma, beta, eps=1e-5)
dx, dgamma, dbeta = llmath.layer_norm_backward(dout, cache)

tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
F.layer_norm(tx, (6,), tg, tb, eps=1e-5).backward(torch.tensor(dout))
for name, ours, ref in (("dx", dx, tx.grad), ("dgamma", dgamma, tg.grad), ("dbeta", dbeta, tb.grad)):
    print(f"{name:7s} max |llmath - torch| = {np.abs(ours - ref.numpy()).max():.1e}")

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
print("max relative error of dx:", np.abs(dx - numeric).max() / np.abs(numeric).max())
