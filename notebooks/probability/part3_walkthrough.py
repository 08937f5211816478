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
# # Part 3 walkthrough: from counting to sampling
#
# This notebook runs the main computations of Part 3 in one place: a minibatch's noise, an
# n-gram model trained on the book's generated corpus, its loss read as cross-entropy and
# perplexity, and the distributions that decoding actually samples from. `scipy` and `torch`
# serve as independent checks, and every comparison is asserted: a cell fails if llmath
# disagrees with its witness beyond the stated tolerance. Download it with the button at the top
# of the page; it is a jupytext "percent" file, which runs as a plain script too.
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
import scipy.stats
import torch

import llmath

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. The noise of a minibatch mean
#
# Drawing $B$ of $N$ examples with replacement gives a mean with variance $\sigma^2/B$; a
# shuffled epoch draws without replacement, and the variance shrinks by $(N - B)/(N - 1)$.

# %%
losses = rng.gamma(2.0, 1.0, size=100)
# A variance estimated from n = 4000 batch means has relative standard error
# sqrt((kappa - 1) / n), kappa the kurtosis of a batch mean (at most the population's).
kappa = scipy.stats.kurtosis(losses, fisher=False)
bound = 4 * np.sqrt((kappa - 1) / 4000)
for B in (10, 50, 100):
    with_r = llmath.minibatch_mean_variance(losses, B)
    without = llmath.minibatch_mean_variance(losses, B, replace=False)
    simulated = np.var(llmath.minibatch_means(losses, B, 4000, rng, replace=False))
    print(
        f"B = {B:3d}: with {with_r:.5f}   without {without:.5f}   simulated without {simulated:.5f}"
    )
    if without > 0:
        assert abs(simulated / without - 1) <= bound, (B, simulated, without)
    else:
        assert simulated < 1e-25  # B = N: every batch is the whole population

# %% [markdown]
# ## 2. An n-gram model on a generated corpus
#
# The corpus comes from a small probabilistic grammar shipped with the package, so nothing is
# downloaded and the true distribution is known exactly.

# %%
train = llmath.generate_corpus(np.random.default_rng(1), 2000)
test = llmath.generate_corpus(np.random.default_rng(2), 300)
print(train[:3])
for n in (1, 2, 3):
    model = llmath.NGramModel(n, k=0.05).fit(train)
    loss = model.nll(test)
    print(f"n = {n}: held-out NLL {loss:.4f} nats/token, perplexity {llmath.perplexity(loss):.3f}")
bigram = llmath.NGramModel(2, k=0.05).fit(train)
print("a sample from the bigram model:", bigram.sample(rng))

# %% [markdown]
# ## 3. Maximum likelihood is counting
#
# The categorical distribution that maximises the likelihood of observed counts is the
# normalised counts; its mean negative log-likelihood equals the entropy of the empirical
# distribution, and any other model pays the KL divergence on top.

# %%
counts = np.array([12, 7, 3, 0, 8])
tokens = np.repeat(np.arange(5), counts)
q_mle = llmath.categorical_mle(counts)
q_smooth = llmath.categorical_map(counts, alpha=2.0)
nll_mle = llmath.negative_log_likelihood(q_mle, tokens)
nll_smooth = llmath.negative_log_likelihood(q_smooth, tokens)
decomposed = llmath.entropy(q_mle) + llmath.kl_divergence(q_mle, q_smooth)
print("MLE:", q_mle, " NLL", nll_mle)
print("H(p_hat) =", llmath.entropy(q_mle))
print("add-one NLL = H(p_hat) + KL:", nll_smooth, decomposed)
assert abs(nll_mle - llmath.entropy(q_mle)) <= 1e-14
assert abs(nll_smooth - decomposed) <= 1e-14 and nll_smooth > nll_mle

# %% [markdown]
# ## 4. Entropy, cross-entropy and KL, against scipy
#
# $H(p, q) = H(p) + D_{\mathrm{KL}}(p \,\|\, q)$, and the KL divergence is not symmetric.

# %%
p = np.array([0.7, 0.2, 0.1])
q = np.array([0.4, 0.4, 0.2])
gap = llmath.cross_entropy_dist(p, q) - llmath.entropy(p) - llmath.kl_divergence(p, q)
print("H(p) bits:", llmath.entropy(p, unit="bits"), scipy.stats.entropy(p, base=2))
print("KL(p||q), KL(q||p):", llmath.kl_divergence(p, q), llmath.kl_divergence(q, p))
print("H(p,q) - H(p) - KL(p||q) =", gap)
assert abs(llmath.entropy(p, unit="bits") - scipy.stats.entropy(p, base=2)) <= 1e-15
assert abs(llmath.kl_divergence(p, q) - scipy.stats.entropy(p, q)) <= 1e-15
assert abs(gap) <= 1e-15 and llmath.kl_divergence(p, q) != llmath.kl_divergence(q, p)

# %% [markdown]
# ## 5. Perplexity
#
# Perplexity is $\exp$ of the mean loss in nats, or $2$ to the mean loss in bits: the same
# number. A uniform model over $n_V$ tokens has perplexity exactly $n_V$, and a confidently
# wrong model can exceed it.

# %%
mean_nats = bigram.nll(test)
ppl_nats = llmath.perplexity(mean_nats)
ppl_bits = llmath.perplexity(llmath.nats_to_bits(mean_nats), unit="bits")
print(ppl_nats, ppl_bits)
assert abs(ppl_nats - ppl_bits) <= 1e-12 * ppl_nats
nV = len(bigram.vocab)
uniform = np.full(nV, 1 / nV)
ppl_uniform = llmath.perplexity(llmath.cross_entropy_dist(uniform, uniform))
print("uniform model:", ppl_uniform, "n_V =", nV)
assert abs(ppl_uniform - nV) <= 1e-12 * nV
wrong = llmath.perplexity_from_log_probs(np.log(np.full(50, 0.001)))  # q = 0.001 every time
print("a model that gives every observed token 0.001:", wrong, "> n_V")
assert wrong > nV

# %% [markdown]
# ## 6. What decoding samples from
#
# Temperature $\tau$, then top-$k$ or top-$p$, give exact distributions; sampling draws from
# them with a generator passed in. PyTorch's softmax of the scaled logits is the independent
# check, and the sampled frequencies must lie within 4 standard errors of the probabilities.

# %%
logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
for tau in (0.5, 1.0, 2.0):
    probs = llmath.apply_temperature(logits, tau)
    ref = torch.softmax(torch.tensor(logits / tau), dim=-1).numpy()
    print(f"tau = {tau}: {probs}  max |llmath - torch| = {np.abs(probs - ref).max():.1e}")
    assert np.abs(probs - ref).max() <= 1e-15
probs = llmath.apply_temperature(logits, 1.0)
print("top-2:", llmath.top_k_filter(probs, 2))
print("top-p 0.8:", llmath.top_p_filter(probs, 0.8))
nucleus = llmath.top_p_filter(probs, 0.8)
draws = llmath.sample(nucleus, np.random.default_rng(3), size=10000)
freq = np.bincount(draws, minlength=5) / 10000
print("sampled frequencies:", freq)
se = np.sqrt(nucleus * (1 - nucleus) / 10000)
assert np.all(np.abs(freq - nucleus) <= 4 * se)  # filtered tokens (se = 0) never drawn
