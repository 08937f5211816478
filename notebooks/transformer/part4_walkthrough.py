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
# # Part 4 walkthrough: llmath's GPT-2 next to Hugging Face's
#
# This notebook runs the main checks of Part 4 in one place, with `llmath` on one side and
# Hugging Face `transformers` (or plain arithmetic) on the other. The centre piece: a small
# `GPT2LMHeadModel` with random weights, its weights copied into `llmath`, and the two models'
# logits, losses, generated tokens and parameter counts compared. Every comparison is an `assert`
# with its tolerance, so a wrong number stops the notebook. Download it with the button at the
# top of the page; it is a jupytext "percent" file, which runs as a plain script too.
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
import warnings

import numpy as np
import torch

# transformers imports tqdm.auto, which asks for Jupyter's progress-bar widgets; nothing here
# draws a progress bar, so its notice is silenced.
warnings.filterwarnings("ignore", message="IProgress not found")
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import llmath  # noqa: E402

hf_logging.set_verbosity_error()  # no advice about generation settings in the output
np.set_printoptions(precision=4, suppress=True)
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Attention against recurrence: the crossover
#
# One RNN layer costs $O(T D^2)$ multiply-adds over $T$ tokens, one self-attention layer
# $O(T D^2 + T^2 D)$: attention's pairwise term, which grows as $T^2$, overtakes the RNN's
# total once $T$ is of the order of the width.

# %%
D = 64
for T in (16, 64, 256, 1024):
    m = llmath.rnn_vs_attention_macs(T, D)
    print(
        f"T = {T:5d}: RNN {m['rnn']:>12,}  attention {m['attention']:>12,}"
        f"  (of which pairs {m['attention_pairs']:>12,})"
    )
macs = [llmath.rnn_vs_attention_macs(T, D) for T in range(1, 4 * D)]
crossover = next(T for T, m in enumerate(macs, 1) if m["attention_pairs"] >= m["rnn"])
print(f"the pairwise term reaches the RNN's cost at T = {crossover} for D = {D}")
assert D // 2 <= crossover <= 2 * D

# %% [markdown]
# ## 2. Positions
#
# Sinusoidal encodings: the dot product $PE(p) \cdot PE(p + k)$ depends only on the offset $k$,
# because $PE(p + k) = PE(p)\, R(k)$ for a fixed block-diagonal rotation $R(k)$.

# %%
pe = llmath.sinusoidal_positions(64, 16)  # (T, D)
R = llmath.sinusoidal_shift(5, 16)  # (D, D)
assert np.abs(pe[:-5] @ R - pe[5:]).max() < 1e-12
dots = np.einsum("pd,pd->p", pe[:-5], pe[5:])  # PE(p) . PE(p + 5) for every p
print("PE(p) . PE(p+5) for p = 0..5:", dots[:6])
assert np.ptp(dots) < 1e-12

# %% [markdown]
# Rotary embeddings do the same to queries and keys: after `rope`, $q_m \cdot k_n$ depends on
# $n - m$ only. Move both positions by 7 and nothing changes:

# %%
rng = np.random.default_rng(0)
q, k = rng.standard_normal((2, 1, 8))  # one query, one key, width dk = 8
pos = np.array([3])
s1 = llmath.rope(q, pos) @ llmath.rope(k, pos + 4).T
s2 = llmath.rope(q, pos + 7) @ llmath.rope(k, pos + 11).T
print("q.k at positions (3, 7) and (10, 14):", s1.item(), s2.item())
assert abs(s1.item() - s2.item()) < 1e-12

# %% [markdown]
# ## 3. The block's pieces: RMSNorm and SwiGLU
#
# RMSNorm divides by the root mean square, without subtracting the mean; SwiGLU's width
# $\tfrac23 \cdot 4D$ keeps the MLP's weight count at about $8D^2$ with three matrices.

# %%
x = rng.standard_normal((3, 8))
ref = torch.nn.functional.rms_norm(torch.from_numpy(x), (8,), eps=1e-6).numpy()
assert np.abs(llmath.rms_norm(x, np.ones(8), eps=1e-6) - ref).max() < 1e-12
F = llmath.swiglu_width(4096, multiple_of=256)
print(
    f"SwiGLU width for D = 4096: F = {F} (LLaMA-7B's), weights 3·D·F = {3 * 4096 * F:,}"
    f" against 8·D² = {8 * 4096**2:,}"
)
assert F == 11008

# %% [markdown]
# ## 4. GPT-2, side by side
#
# A small GPT-2 from its configuration (random weights from a seed, no download), in float64 and
# eval mode (no dropout). `gpt2_params_from_state` copies its state dict into llmath's
# `ModelParams`; GPT-2's `Conv1D` layers store weights as `(in, out)`, the book's row convention.

# %%
torch.manual_seed(0)
hf_config = GPT2Config(
    n_layer=2, n_head=4, n_embd=32, vocab_size=101, n_positions=64, attn_implementation="eager"
)
hf = GPT2LMHeadModel(hf_config).double().eval()
config = llmath.ModelConfig(n_vocab=101, n_ctx=64, D=32, H=4, n_layers=2)
state = {name: t.numpy() for name, t in hf.state_dict().items()}
params = llmath.gpt2_params_from_state(state, config)
print(config)

# %%
ids = np.random.default_rng(1).integers(0, 101, size=(3, 40))  # a batch of 3 sequences
ours, _ = llmath.forward(params, ids, config=config)
with torch.no_grad():
    theirs = hf(torch.from_numpy(ids)).logits.numpy()
print("llmath logits, sequence 0, last token, first 6 words:", ours[0, -1, :6])
print("HF     logits, sequence 0, last token, first 6 words:", theirs[0, -1, :6])
print(f"max |llmath - HF| over all {ours.size} logits: {np.abs(ours - theirs).max():.1e}")
assert ours.shape == theirs.shape == (3, 40, 101)
assert np.abs(ours - theirs).max() < 1e-10

# %% [markdown]
# The loss on next tokens: llmath's `next_token_loss` (Part 2's cross-entropy on the shifted
# targets) against `transformers`' `labels=` loss, which computes the cross-entropy in float32,
# hence the looser tolerance.

# %%
loss = llmath.next_token_loss(params, ids, config=config)
with torch.no_grad():
    hf_loss = hf(torch.from_numpy(ids), labels=torch.from_numpy(ids)).loss.item()
print(f"llmath {loss:.8f}   HF {hf_loss:.8f}   log 101 = {np.log(101):.8f}")
assert abs(loss - hf_loss) < 1e-6
assert abs(loss - llmath.cross_entropy(ours[:, :-1], ids[:, 1:])) < 1e-14

# %% [markdown]
# ## 5. Generation with a key-value cache
#
# Greedy generation: llmath feeds one new token per step and reuses the cached keys and values;
# `transformers`' `generate` does the same with its own cache. The tokens must agree, and llmath's
# cached logits must equal a full forward pass over the final sequence.

# %%
prompt = ids[0, :5]
tokens, cache, step_logits = [int(t) for t in prompt], None, []
new = prompt
for _ in range(20):
    logits, cache = llmath.forward(params, new, config=config, cache=cache)
    step_logits.append(logits[-1])
    new = np.array([llmath.greedy(logits[-1])])
    tokens.append(int(new[0]))
with torch.no_grad():
    hf_tokens = hf.generate(
        torch.from_numpy(prompt[None]), max_new_tokens=20, do_sample=False, pad_token_id=0
    )[0].numpy()
print("llmath:", tokens)
print("HF:    ", hf_tokens.tolist())
assert tokens == hf_tokens.tolist()
full, _ = llmath.forward(params, np.array(tokens[:-1]), config=config)
assert np.abs(np.array(step_logits) - full[4:]).max() < 1e-12

# %% [markdown]
# ## 6. Counting
#
# GPT-2 small from its configuration: `transformers` counts 124,439,808 parameters (built on the
# `meta` device, which has shapes but no memory); llmath counts them from the configuration, and
# for the small model above by summing its arrays.

# %%
with torch.device("meta"):
    n_hf = GPT2LMHeadModel(GPT2Config()).num_parameters()
gpt2_small = llmath.ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12)
counts = llmath.param_count(gpt2_small)
print({name: f"{n:,}" for name, n in counts.items()})
assert counts["total"] == n_hf == 124_439_808
leaves = [params.wte, params.wpe, params.lnf_gamma, params.lnf_beta]
leaves += [a for layer in params.layers for a in (*layer[:-1], *layer.mlp) if a is not None]
assert sum(np.size(a) for a in leaves) == hf.num_parameters() == llmath.param_count(config)["total"]

# %%
fl = llmath.flops_per_token(gpt2_small, 1024)
print(
    f"forward FLOPs per token at T = 1024: {fl['total']:,} = "
    f"{fl['total'] / counts['total']:.2f} x N"
)
assert 2 < fl["total"] / counts["total"] < 3
