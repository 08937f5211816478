"""Tests for llmath.decoding.generate: the KV-cached loop against a loop that recomputes every
position with Part 4's forward, Hugging Face GPT-2's greedy generate, and bad input."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2LMHeadModel

from llmath.decoding.generate import generate
from llmath.probability.sampling import (
    apply_temperature,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)
from llmath.transformer.model import ModelConfig, ModelParams, forward, gpt2_params_from_state, init

CFG = ModelConfig(n_vocab=37, n_ctx=24, D=16, H=4, n_layers=2)


@cache
def params() -> ModelParams:
    p = init(CFG, np.random.default_rng(7))
    return p._replace(wte=p.wte * 8)  # sharper logits than at initialisation: varied draws


def no_cache(prompt: np.ndarray, n: int, *, temperature: float, top_k: int | None,
             top_p: float | None, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """The same rule, recomputing the whole prefix with forward at every step."""
    ids = np.asarray(prompt)
    for _ in range(n):
        z = forward(params(), ids, config=CFG)[0][..., -1, :]
        if temperature == 0:
            nxt = np.asarray(greedy(z))
        else:
            probs = apply_temperature(z, temperature)
            probs = probs if top_k is None else top_k_filter(probs, top_k)
            probs = probs if top_p is None else top_p_filter(probs, top_p)
            nxt = np.asarray(sample(probs, rng))
        ids = np.concatenate([ids, nxt[..., None]], axis=-1)
    return ids


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(0.0, None, None), (1.0, None, None), (0.7, 5, None), (1.3, None, 0.8), (1.0, 10, 0.9)],
)
def test_same_tokens_as_recomputing_every_position(
    temperature: float, top_k: int | None, top_p: float | None
) -> None:
    prompt = np.array([3, 1, 4, 1, 5])
    ours = generate(params(), prompt, config=CFG, max_new_tokens=15, temperature=temperature,
                    top_k=top_k, top_p=top_p, rng=np.random.default_rng(0))  # fmt: skip
    ref = no_cache(prompt, 15, temperature=temperature, top_k=top_k, top_p=top_p,
                   rng=np.random.default_rng(0))  # fmt: skip
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == np.int64 and ours.shape == (20,)
    if temperature:
        assert len(set(ours[5:].tolist())) > 3  # the draws are not degenerate


def test_batch_of_prompts_greedy_equals_one_at_a_time() -> None:
    prompts = np.array([[1, 2, 3], [9, 8, 7], [0, 0, 1]])
    rng = np.random.default_rng(0)
    batch = generate(params(), prompts, config=CFG, max_new_tokens=8, temperature=0, rng=rng)
    for row, prompt in zip(batch, prompts, strict=True):
        one = generate(params(), prompt, config=CFG, max_new_tokens=8, temperature=0, rng=rng)
        np.testing.assert_array_equal(row, one)


def test_greedy_matches_hugging_face_generate() -> None:
    torch.manual_seed(0)
    shape = {"n_layer": 2, "n_head": 4, "n_embd": 32, "vocab_size": 53, "n_positions": 40}
    hf = GPT2LMHeadModel(GPT2Config(**shape, attn_implementation="eager")).double().eval()
    with torch.no_grad():  # sharpen the logits so greedy is far from ties
        hf.transformer.wte.weight.mul_(30)
    cfg = ModelConfig(n_vocab=53, n_ctx=40, D=32, H=4, n_layers=2)
    p = gpt2_params_from_state({k: v.numpy() for k, v in hf.state_dict().items()}, cfg)
    prompt = np.array([[5, 17, 2, 40]])
    with torch.no_grad():
        ref = hf.generate(torch.from_numpy(prompt), max_new_tokens=20, do_sample=False,
                          pad_token_id=0, attention_mask=torch.ones_like(torch.from_numpy(prompt)))  # fmt: skip
    ours = generate(p, prompt, config=cfg, max_new_tokens=20, temperature=0,
                    rng=np.random.default_rng(0))  # fmt: skip
    np.testing.assert_array_equal(ours, ref.numpy())


@given(st.integers(1, 6), st.integers(1, 10), st.integers(0, 2**32 - 1), st.floats(0.1, 3.0))
def test_prompt_kept_ids_in_range_and_top_k_1_is_greedy(
    T0: int, n: int, seed: int, tau: float
) -> None:
    prompt = np.random.default_rng(seed).integers(0, CFG.n_vocab, size=T0)
    out = generate(params(), prompt, config=CFG, max_new_tokens=n, temperature=tau, top_k=1,
                   rng=np.random.default_rng(seed))  # fmt: skip
    assert out.shape == (T0 + n,)
    np.testing.assert_array_equal(out[:T0], prompt)
    assert out.min() >= 0 and out.max() < CFG.n_vocab
    greedy_out = generate(params(), prompt, config=CFG, max_new_tokens=n, temperature=0,
                          rng=np.random.default_rng(seed))  # fmt: skip
    np.testing.assert_array_equal(out, greedy_out)


def test_context_limit_is_exact() -> None:
    rng = np.random.default_rng(0)
    out = generate(params(), np.arange(20), config=CFG, max_new_tokens=5, temperature=0, rng=rng)
    assert out.shape == (25,)  # 24 positions fed, the last token only sampled
    with pytest.raises(ValueError, match="max_new_tokens: 20 prompt tokens"):
        generate(params(), np.arange(20), config=CFG, max_new_tokens=6, rng=rng)


def test_bad_input() -> None:
    rng, p = np.random.default_rng(0), params()
    with pytest.raises(ValueError, match=r"temperature must be a finite number >= 0"):
        generate(p, [1], config=CFG, max_new_tokens=2, temperature=-1.0, rng=rng)
    with pytest.raises(ValueError, match=r"top_k must be <= config.n_vocab"):
        generate(p, [1], config=CFG, max_new_tokens=2, top_k=38, rng=rng)
    with pytest.raises(ValueError, match="top_p"):
        generate(p, [1], config=CFG, max_new_tokens=2, top_p=0.0, rng=rng)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive integer"):
        generate(p, [1], config=CFG, max_new_tokens=0, rng=rng)
    with pytest.raises(ValueError, match="prompt_ids must lie"):
        generate(p, [37], config=CFG, max_new_tokens=2, rng=rng)
    with pytest.raises(ValueError, match=r"rng must be a numpy.random.Generator"):
        generate(p, [1], config=CFG, max_new_tokens=2, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="config must be a ModelConfig"):
        generate(p, [1], config=None, max_new_tokens=2, rng=rng)  # type: ignore[arg-type]
