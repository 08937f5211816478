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
# Nothing reusable is defined here: every function comes from `llmath`.

# %%
import numpy as np
import torch

import llmath

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Embeddings are rows of a matrix
#
# A vocabulary of $V = 6$ tokens embedded in $D = 4$ dimensions is a matrix
# $E \in \mathbb{R}^{V \times D}$. Looking up token $i$ is the product $e_i^\top E$ with a one-hot
# vector; `llmath.embed` does the same by indexing.

# %%
V, D = 6, 4
E = rng.normal(size=(V, D))
ids = np.array([3, 1, 4])
X = llmath.embed(ids, E)  # (T, D)
print("lookup equals one-hot product:", np.allclose(X, llmath.one_hot(ids, V) @ E))
print("cosine similarities between the three tokens:")
print(llmath.cosine_similarity(X[:, None, :], X[None, :, :]))

# %% [markdown]
# ## 2. Without a non-linearity, depth buys nothing
#
# Three affine layers collapse into one: $((xW_1 + b_1)W_2 + b_2)W_3 + b_3 = xW + b$.

# %%
layers = [(rng.normal(size=(D, D)), rng.normal(size=D)) for _ in range(3)]
deep = X
for w, b in layers:
    deep = llmath.linear(deep, w, b)
W, b = llmath.compose_affine(layers)
print("max |three layers - one layer| =", np.abs(deep - llmath.linear(X, W, b)).max())

# %% [markdown]
# ## 3. Attention, checked against PyTorch
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{K}}\right)V$$
#
# with a causal mask, on the embedded tokens, against `torch.nn.functional.scaled_dot_product_attention`.

# %%
w_q, w_k, w_v = (rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(3))
q, k, v = X @ w_q, X @ w_k, X @ w_v
out, weights = llmath.scaled_dot_product_attention(q, k, v, llmath.causal_mask(3))
ref = torch.nn.functional.scaled_dot_product_attention(
    torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), is_causal=True
)
print("causal weights:\n", weights)
print("max |llmath - torch| =", np.abs(out - ref.numpy()).max())

# %% [markdown]
# ## 4. An attention matrix as a Markov chain
#
# Rows of the weight matrix sum to 1, so it is row-stochastic. Its stationary distribution is the
# *left* eigenvector for eigenvalue 1; with a causal mask every token eventually flows to the
# first one.

# %%
_, full = llmath.scaled_dot_product_attention(q, k, v)
pi = llmath.stationary_distribution(full)
print("stationary distribution (no mask):", pi, " check pi A = pi:", np.allclose(pi @ full, pi))
print("spectral gap (no mask):", round(llmath.spectral_gap(full), 4))
print("stationary distribution (causal):", llmath.stationary_distribution(weights))

# %% [markdown]
# ## 5. Low rank and LoRA
#
# The best rank-$r$ approximation keeps the $r$ largest singular values; its Frobenius error is
# $\sqrt{\sum_{i>r}\sigma_i^2}$ (Eckart–Young). A LoRA update of rank $r$ trains
# $r(d_\text{in} + d_\text{out})$ numbers instead of $d_\text{in} d_\text{out}$.

# %%
W0 = rng.normal(size=(8, 8))
sigma = np.linalg.svd(W0, compute_uv=False)
for r in (1, 2, 4):
    err = np.linalg.norm(W0 - llmath.low_rank_approx(W0, r))
    print(f"r={r}: error {err:.4f}, Eckart-Young {np.sqrt((sigma[r:] ** 2).sum()):.4f}")
print("LoRA parameters for a 4096 x 4096 weight at r = 8:", llmath.lora_param_count(4096, 4096, 8))
