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
# # Part 1 walkthrough: from embeddings to attention
#
# This notebook runs the main computations of Part 1 in one place, with `llmath` doing the
# mathematics and PyTorch (float64) as an independent check. Download it with the button at the
# top of the page; it is a jupytext "percent" file, which runs as a plain script too.
#
# Nothing reusable is defined here: every function comes from `llmath`. Every comparison is an
# `assert` with a stated tolerance, so the notebook stops if a number is wrong. The letters
# follow the book's notation page: $D$ model width, $d_k$ head width, $n_V$
# vocabulary size; $Q, K, V$ are only matrices.

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

import llmath

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Embeddings are rows of a matrix
#
# A vocabulary of $n_V = 6$ tokens embedded in $D = 4$ dimensions is a matrix
# $E \in \mathbb{R}^{n_V \times D}$. Looking up token $i$ is the product $e_i E$ with a one-hot
# row; `llmath.embed` does the same by indexing.

# %%
nV, D = 6, 4
E = rng.normal(size=(nV, D))
ids = np.array([3, 1, 4])
X = llmath.embed(ids, E)  # (T, D)
gap = np.abs(X - llmath.one_hot(ids, nV) @ E).max()
assert gap == 0.0
print("max |lookup - one-hot product| =", gap)
C = llmath.cosine_similarity(X[:, None, :], X[None, :, :])  # (T, T)
assert np.allclose(np.diag(C), 1.0, rtol=0, atol=1e-15)
print("cosine similarities between the three tokens:")
print(C)

# %% [markdown]
# ## 2. Without a non-linearity, depth buys nothing
#
# Three affine layers collapse into one: $((xW_1 + b_1)W_2 + b_2)W_3 + b_3 = xW + b$. A hidden
# layer narrower than both ends also limits the rank of $W$.

# %%
layers = [(rng.normal(size=(D, D)), rng.normal(size=D)) for _ in range(3)]
deep = X
for w, b in layers:
    deep = llmath.linear(deep, w, b)
W, b = llmath.compose_affine(layers)
collapse = np.abs(deep - llmath.linear(X, W, b)).max()
assert collapse < 1e-12
print("max |three layers - one layer| =", collapse)
narrow = [(rng.normal(size=(D, 1)), rng.normal(size=1)), (rng.normal(size=(1, D)), np.zeros(D))]
print("rank of a 4 -> 1 -> 4 stack:", np.linalg.matrix_rank(llmath.compose_affine(narrow)[0]))

# %% [markdown]
# ## 3. Attention, checked against PyTorch
#
# $$\operatorname{Attention}(Q, K, V)
# = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V$$
#
# with a causal mask, on the embedded tokens, against
# `torch.nn.functional.scaled_dot_product_attention`.

# %%
w_q, w_k, w_v = (rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(3))
q, k, v = X @ w_q, X @ w_k, X @ w_v  # (T, dk) with dk = D: one head
out, weights = llmath.scaled_dot_product_attention(q, k, v, llmath.causal_mask(3))
ref = torch.nn.functional.scaled_dot_product_attention(
    torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), is_causal=True
)
diff = np.abs(out - ref.numpy()).max()
assert diff < 1e-12
print("causal weights:\n", weights)
print("max |llmath - torch| =", diff)

# %% [markdown]
# ## 4. Order, and what is linear
#
# Unmasked self-attention is permutation equivariant, $f(PX) = Pf(X)$; the causal mask breaks
# that. Attention is linear in $V$ for fixed weights, but not linear in $X$.

# %%
perm = np.array([2, 0, 1])


for name, mask in (("unmasked", None), ("causal", llmath.causal_mask(3))):
    fx = llmath.scaled_dot_product_attention(q, k, v, mask).output
    fpx = llmath.scaled_dot_product_attention(q[perm], k[perm], v[perm], mask).output
    gap = np.abs(fpx - fx[perm]).max()
    assert (gap < 1e-12) if mask is None else (gap > 0.1)
    print(f"{name}: max |f(PX) - P f(X)| = {gap:.2e}")
X2 = rng.normal(size=X.shape)
f_sum = llmath.scaled_dot_product_attention(*((X + X2) @ w for w in (w_q, w_k, w_v))).output
f_1 = llmath.scaled_dot_product_attention(*(X @ w for w in (w_q, w_k, w_v))).output
f_2 = llmath.scaled_dot_product_attention(*(X2 @ w for w in (w_q, w_k, w_v))).output
nonlinear = np.abs(f_sum - f_1 - f_2).max()
assert nonlinear > 0.1
print("max |f(X1 + X2) - f(X1) - f(X2)| =", nonlinear)
A = llmath.scaled_dot_product_attention(q, k, v).weights  # fixed weights
V2 = X2 @ w_v
assert np.abs(A @ (v + V2) - (A @ v + A @ V2)).max() < 1e-14
print("linear in V with A fixed: checked to 1e-14")

# %% [markdown]
# ## 5. An attention matrix as a Markov chain
#
# Rows of the weight matrix sum to 1, so it is row-stochastic. Its stationary distribution is
# the *left* eigenvector for eigenvalue 1. It is not the column sums (the attention each key
# receives in one layer). With a causal mask every token eventually flows to the first one.

# %%
pi = llmath.stationary_distribution(A)
assert np.abs(pi @ A - pi).max() < 1e-14
print("stationary distribution (no mask):", pi)
print("column sums / T (no mask):         ", A.sum(axis=0) / len(A))
print("spectral gap (no mask):", round(llmath.spectral_gap(A), 4))
pi_causal = llmath.stationary_distribution(weights)
assert np.abs(pi_causal - np.eye(3)[0]).max() < 1e-14
print("stationary distribution (causal):", pi_causal)

# %% [markdown]
# ## 6. Low rank and LoRA
#
# The best rank-$r$ approximation keeps the $r$ largest singular values; its Frobenius error is
# $\sqrt{\sum_{i>r}\sigma_i^2}$ (Eckart–Young). A LoRA update of rank $r$ trains
# $r(d_\text{in} + d_\text{out})$ numbers instead of $d_\text{in} d_\text{out}$.

# %%
W0 = rng.normal(size=(8, 8))
sigma = np.linalg.svd(W0, compute_uv=False)
for r in (1, 2, 4):
    err = np.linalg.norm(W0 - llmath.low_rank_approx(W0, r))
    closed = np.sqrt((sigma[r:] ** 2).sum())
    assert abs(err - closed) < 1e-12
    print(f"r={r}: error {err:.4f}, Eckart-Young {closed:.4f}")
print("LoRA parameters for a 4096 x 4096 weight at r = 8:", llmath.lora_param_count(4096, 4096, 8))
