"""Tests for llmath.transformer.model: Hugging Face's GPT2LMHeadModel as the oracle, the KV cache."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2LMHeadModel

from llmath import BlockParams, block_forward
from llmath._checks import ShapeError
from llmath.calculus.cross_entropy import cross_entropy
from llmath.training.backward import parameters
from llmath.transformer.mlp import MLPParams
from llmath.transformer.model import (
    KVCache,
    ModelConfig,
    decoder_block,
    forward,
    gpt2_params_from_state,
    gpt2_state_from_params,
    init,
    next_token_loss,
)

SMALL = {"n_layer": 2, "n_head": 4, "n_embd": 32, "vocab_size": 101, "n_positions": 64}
CFG = ModelConfig(n_vocab=101, n_ctx=64, D=32, H=4, n_layers=2)


@cache
def _hf() -> GPT2LMHeadModel:
    """A seeded random GPT-2 of the SMALL shape, float64, eval mode (no dropout)."""
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(**SMALL, attn_implementation="eager"))
    return model.double().eval()


@cache
def _ours():  # type: ignore[no-untyped-def]
    state = {k: v.numpy() for k, v in _hf().state_dict().items()}
    return gpt2_params_from_state(state, CFG)


def _hf_logits(ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return _hf()(torch.from_numpy(np.atleast_2d(ids))).logits.numpy().reshape(*ids.shape, -1)


@pytest.mark.parametrize("T", [1, 5, 17, 64])
def test_logits_match_gpt2(T: int) -> None:
    ids = np.random.default_rng(T).integers(0, 101, size=(2, T))
    ours, _ = forward(_ours(), ids, config=CFG)
    ref = _hf_logits(ids)
    assert ours.shape == (2, T, 101)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


def test_unbatched_equals_batched() -> None:
    ids = np.arange(10) * 7 % 101
    np.testing.assert_allclose(
        forward(_ours(), ids, config=CFG)[0], forward(_ours(), ids[None], config=CFG)[0][0],
        rtol=1e-13, atol=1e-13,
    )  # fmt: skip


def test_gpt2_state_without_prefix_and_torch_tensors() -> None:
    inner = _hf().transformer.state_dict()  # GPT2Model: no "transformer." prefix, tensors
    p = gpt2_params_from_state(inner, CFG)
    ids = np.array([3, 1, 4, 1, 5])
    np.testing.assert_array_equal(
        forward(p, ids, config=CFG)[0], forward(_ours(), ids, config=CFG)[0]
    )


def test_loss_matches_gpt2_labels_and_part2_cross_entropy() -> None:
    ids = np.random.default_rng(1).integers(0, 101, size=(3, 12))
    loss = next_token_loss(_ours(), ids, config=CFG)
    with torch.no_grad():
        hf = _hf()(torch.from_numpy(ids), labels=torch.from_numpy(ids)).loss.item()
    assert loss == pytest.approx(hf, abs=1e-6)  # transformers' loss upcasts logits to float32
    logits, _ = forward(_ours(), ids, config=CFG)
    assert loss == pytest.approx(cross_entropy(logits[:, :-1], ids[:, 1:]), abs=1e-14)
    tl = torch.nn.functional.cross_entropy(torch.from_numpy(logits[:, :-1]).reshape(-1, 101),
                                           torch.from_numpy(ids[:, 1:]).reshape(-1))  # fmt: skip
    assert loss == pytest.approx(tl.item(), abs=1e-12)


def test_num_parameters() -> None:
    with torch.device("meta"):  # shapes only: GPT-2 small without allocating its weights
        assert GPT2LMHeadModel(GPT2Config()).num_parameters() == 124_439_808
    for cfg, hf in [(CFG, SMALL), (ModelConfig(n_vocab=7, n_ctx=5, D=8, H=2, n_layers=3),
                    {"n_layer": 3, "n_head": 2, "n_embd": 8, "vocab_size": 7, "n_positions": 5})]:  # fmt: skip
        ours = init(cfg, np.random.default_rng(0))
        n = sum(np.size(a) for a in _leaves(ours))
        with torch.device("meta"):
            assert n == GPT2LMHeadModel(GPT2Config(**hf)).num_parameters()


def _leaves(tree: object) -> list[np.ndarray]:
    if isinstance(tree, tuple):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [] if tree is None else [np.asarray(tree)]


@settings(max_examples=25)
@given(split=st.lists(st.integers(1, 6), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_kv_cache_equals_full_forward(split: list[int], seed: int) -> None:
    ids = np.random.default_rng(seed).integers(0, 101, size=(2, sum(split)))
    full, full_cache = forward(_ours(), ids, config=CFG)
    parts, kv, start = [], None, 0
    for n in split:
        logits, kv = forward(_ours(), ids[:, start : start + n], config=CFG, cache=kv)
        parts.append(logits)
        start += n
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=0, atol=1e-12)
    assert kv is not None
    for a, b in zip(kv.keys + kv.values, full_cache.keys + full_cache.values, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
        assert a.shape == (2, CFG.H, sum(split), CFG.D // CFG.H)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(n_vocab=11, n_ctx=9, D=8, H=2, n_layers=2, norm="rms", activation="swiglu",
                    positions="sinusoidal", bias=False, tie_embeddings=False, F=12),
        ModelConfig(n_vocab=11, n_ctx=9, D=8, H=4, n_layers=1, positions="none", activation="relu"),
    ],
)  # fmt: skip
def test_kv_cache_other_configs(cfg: ModelConfig) -> None:
    p = init(cfg, np.random.default_rng(3))
    ids = np.array([1, 5, 2, 9, 0, 3, 3, 10, 4])
    full, _ = forward(p, ids, config=cfg)
    a, kv = forward(p, ids[:4], config=cfg)
    b, _ = forward(p, ids[4:], config=cfg, cache=kv)
    np.testing.assert_allclose(np.concatenate([a, b]), full, rtol=0, atol=1e-12)


def test_block_is_part2_block_forward_with_zero_biases(rng: np.random.Generator) -> None:
    cfg = ModelConfig(n_vocab=5, n_ctx=8, D=8, H=2, n_layers=1, activation="gelu")
    layer = init(cfg, rng).layers[0]
    layer = layer._replace(ln1_beta=rng.normal(size=8), ln2_beta=rng.normal(size=8),
                           mlp=layer.mlp._replace(b_in=rng.normal(size=32)))  # fmt: skip
    x = rng.normal(size=(2, 6, 8))
    bp = BlockParams(layer.ln1_gamma, layer.ln1_beta, layer.w_q, layer.w_k, layer.w_v, layer.w_o,
                     layer.ln2_gamma, layer.ln2_beta, layer.mlp.w_in, layer.mlp.b_in,
                     layer.mlp.w_out, layer.mlp.b_out)  # fmt: skip
    ref, _ = block_forward(x, bp, num_heads=2)
    np.testing.assert_allclose(decoder_block(x, layer, config=cfg), ref, rtol=1e-13, atol=1e-13)


def test_init_is_reproducible_and_gpt2_scaled() -> None:
    a = init(CFG, np.random.default_rng(5))
    b = init(CFG, np.random.default_rng(5))
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.wte, init(CFG, np.random.default_rng(6)).wte)
    assert abs(a.wte.std() - 0.02) < 0.001
    assert abs(a.layers[0].w_o.std() - 0.02 / 2) < 0.002  # 0.02 / sqrt(2 N), N = 2
    assert a.layers[0].b_q is not None and not a.layers[0].b_q.any()


def test_causality() -> None:
    ids = np.array([7, 8, 9, 10, 11])
    changed = ids.copy()
    changed[3] = 50
    a, _ = forward(_ours(), ids, config=CFG)
    b, _ = forward(_ours(), changed, config=CFG)
    np.testing.assert_array_equal(a[:3], b[:3])
    assert np.abs(a[3:] - b[3:]).max() > 1e-6


def test_bad_input() -> None:
    p = _ours()
    with pytest.raises(ValueError, match="ids"):
        forward(p, [0, 101], config=CFG)
    with pytest.raises(ValueError, match="ids"):
        forward(p, [-1], config=CFG)
    with pytest.raises(ValueError, match="n_ctx"):
        forward(p, np.zeros(65, dtype=int), config=CFG)
    _, kv = forward(p, np.zeros(60, dtype=int), config=CFG)
    with pytest.raises(ValueError, match="n_ctx"):
        forward(p, np.zeros(5, dtype=int), config=CFG, cache=kv)
    with pytest.raises(ValueError, match="cache"):
        forward(p, np.zeros((2, 3), dtype=int), config=CFG, cache=kv)  # batch of 2 vs 1
    with pytest.raises(ValueError, match="cache"):
        forward(p, [1], config=CFG, cache=KVCache(kv.keys[:1], kv.values[:1]))
    with pytest.raises(ValueError, match="H must divide D"):
        ModelConfig(n_vocab=5, n_ctx=4, D=10, H=4, n_layers=1)
    with pytest.raises(ValueError, match="D must be even"):
        ModelConfig(n_vocab=5, n_ctx=4, D=5, H=1, n_layers=1, positions="sinusoidal")
    with pytest.raises(ValueError, match="norm"):
        ModelConfig(n_vocab=5, n_ctx=4, D=4, H=1, n_layers=1, norm="batch")
    with pytest.raises(ValueError, match="n_layers"):
        ModelConfig(n_vocab=5, n_ctx=4, D=4, H=1, n_layers=0)
    with pytest.raises(ValueError, match="config"):
        forward(p, [1], config=SMALL)  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"params\.wte"):
        forward(p._replace(wte=p.wte[:, :8]), [1], config=CFG)
    with pytest.raises(ValueError, match=r"params\.layers"):
        forward(p._replace(layers=p.layers[:1]), [1], config=CFG)
    with pytest.raises(ValueError, match="T >= 2"):
        next_token_loss(p, [3], config=CFG)
    with pytest.raises(ValueError, match="state has no"):
        gpt2_params_from_state({}, CFG)
    with pytest.raises(ValueError, match="GPT-2"):
        gpt2_params_from_state({}, ModelConfig(n_vocab=5, n_ctx=4, D=4, H=1, n_layers=1,
                                               norm="rms"))  # fmt: skip
    assert isinstance(p.layers[0].mlp, MLPParams)


def test_chapter_examples() -> None:
    from examples.transformer import model as ex

    assert ex.block_vs_part2()["diff"] == 0.0
    assert ex.mask_demo()["causal"] == 0.0
    assert ex.llama_like_cache() < 1e-12
    w = ex.walk()
    np.testing.assert_allclose(w["logits"], w["forward"], rtol=0, atol=1e-14)
    assert ex.tying_saving()["untied"] - ex.tying_saving()["tied"] == 50257 * 768


def test_gpt2_state_is_huggingfaces_state_and_inverts_the_loader() -> None:
    """Exported names, shapes and values are GPT2LMHeadModel's own; loading them back is exact."""
    ours = gpt2_state_from_params(_ours(), CFG)
    hf = dict(_hf().named_parameters())  # the tied lm_head.weight is wte itself
    assert set(ours) == set(hf)
    for name, t in hf.items():
        np.testing.assert_array_equal(ours[name], t.detach().numpy(), err_msg=name)
    back = gpt2_params_from_state(ours, CFG)
    for a, b in zip(parameters(back), parameters(_ours()), strict=True):
        np.testing.assert_array_equal(a, b)


def test_gpt2_state_of_an_untied_model_has_the_lm_head() -> None:
    c = ModelConfig(n_vocab=11, n_ctx=8, D=8, H=2, n_layers=1, tie_embeddings=False)
    p = init(c, np.random.default_rng(3))
    state = gpt2_state_from_params(p, c)
    np.testing.assert_array_equal(state["lm_head.weight"], p.w_unembed.T)  # type: ignore[union-attr]
    np.testing.assert_array_equal(gpt2_params_from_state(state, c).w_unembed, p.w_unembed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="config must describe a GPT-2"):
        gpt2_state_from_params(
            p, ModelConfig(n_vocab=11, n_ctx=8, D=8, H=2, n_layers=1, norm="rms")
        )
