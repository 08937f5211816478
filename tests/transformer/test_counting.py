"""Counts of parameters, FLOPs and memory against Hugging Face's GPT-2 and torch's FLOP counter."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode
from transformers import GPT2Config, GPT2LMHeadModel

from llmath.transformer.counting import (
    flops_per_token,
    memory_bytes,
    param_count,
    rnn_vs_attention_macs,
    training_flops_per_token,
)
from llmath.transformer.model import ModelConfig, init

GPT2_SMALL = {"n_vocab": 50257, "n_ctx": 1024, "D": 768, "H": 12, "n_layers": 12}


config = ModelConfig  # its defaults are GPT-2's


def hf(c: Any, *, meta: bool = False) -> GPT2LMHeadModel:
    cfg = GPT2Config(
        vocab_size=c.n_vocab, n_positions=c.n_ctx, n_embd=c.D, n_head=c.H, n_layer=c.n_layers,
        n_inner=c.F, tie_word_embeddings=c.tie_embeddings, attn_implementation="eager",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # type: ignore[no-untyped-call]  # fmt: skip
    if meta:
        with torch.device("meta"):
            return GPT2LMHeadModel(cfg)  # type: ignore[no-untyped-call]
    torch.manual_seed(0)
    return GPT2LMHeadModel(cfg)  # type: ignore[no-untyped-call]


SMALL = {"n_vocab": 97, "n_ctx": 32, "D": 48, "H": 4, "n_layers": 2}


def test_gpt2_small_is_124_439_808() -> None:
    counts = param_count(config(**GPT2_SMALL))
    assert counts["total"] == 124_439_808
    assert counts["token_embedding"] == 50257 * 768 and counts["positions"] == 1024 * 768
    assert counts["attention"] == 12 * (4 * 768**2 + 4 * 768)
    assert counts["mlp"] == 12 * (8 * 768**2 + 5 * 768) and counts["norms"] == 25 * 2 * 768
    model = hf(config(**GPT2_SMALL), meta=True)
    assert model.num_parameters() == counts["total"]
    assert sum(p.numel() for p in model.parameters()) == counts["total"]


@pytest.mark.parametrize(
    "kw",
    [
        SMALL,
        {**SMALL, "tie_embeddings": False},
        {**SMALL, "F": 100, "n_layers": 3},
        {"n_vocab": 5, "n_ctx": 3, "D": 6, "H": 3, "n_layers": 1, "tie_embeddings": False},
    ],
)
def test_param_count_matches_transformers(kw: dict[str, Any]) -> None:
    c = config(**kw)
    model = hf(c, meta=True)
    assert param_count(c)["total"] == model.num_parameters()
    assert param_count(c)["total"] == sum(p.numel() for p in model.parameters())


def test_param_count_options() -> None:
    base = param_count(config(**SMALL))
    D, F, L, V = 48, 192, 2, 97
    rms = param_count(config(**SMALL, norm="rms"))
    assert base["norms"] - rms["norms"] == (2 * L + 1) * D
    assert param_count(config(**SMALL, positions="sinusoidal"))["positions"] == 0
    assert param_count(config(**SMALL, positions="none"))["total"] == base["total"] - 32 * D
    nob = param_count(config(**SMALL, bias=False))
    assert nob["attention"] == L * 4 * D * D and nob["mlp"] == L * 2 * D * F
    assert nob["norms"] == (2 * L + 1) * D
    sw = param_count(config(**SMALL, activation="swiglu", F=128))
    assert sw["mlp"] == L * (3 * D * 128 + 2 * 128 + D)
    untied = param_count(config(**SMALL, tie_embeddings=False))
    assert untied["total"] - base["total"] == V * D == untied["unembedding"]


def _leaves(tree: Any) -> int:
    if isinstance(tree, np.ndarray):
        return tree.size
    if isinstance(tree, tuple | list):
        return sum(_leaves(t) for t in tree)
    return 0


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"tie_embeddings": False, "bias": False},
        {"activation": "swiglu", "F": 40, "norm": "rms", "positions": "none"},
        {"activation": "relu", "norm": "rms", "bias": False, "positions": "sinusoidal"},
        {"activation": "swiglu", "F": 24, "bias": True, "positions": "learned", "norm": "layer"},
    ],
)
def test_param_count_equals_llmath_init(kw: dict[str, Any]) -> None:
    c = config(**{**SMALL, **kw})
    params = init(c, np.random.default_rng(0))
    assert param_count(c)["total"] == _leaves(params)


def test_param_count_matches_a_torch_swiglu_rms_twin() -> None:
    D, F, L, V = 16, 40, 2, 11
    layers = []
    for _ in range(L):
        layers += [
            torch.nn.RMSNorm(D), torch.nn.Linear(D, 3 * D, bias=False),
            torch.nn.Linear(D, D, bias=False), torch.nn.RMSNorm(D),
            torch.nn.Linear(D, F, bias=False), torch.nn.Linear(D, F, bias=False),
            torch.nn.Linear(F, D, bias=False),
        ]  # fmt: skip
    twin = torch.nn.ModuleList([torch.nn.Embedding(V, D), *layers, torch.nn.RMSNorm(D)])
    c = config(n_vocab=V, n_ctx=8, D=D, H=2, n_layers=L, F=F, activation="swiglu", norm="rms",
               positions="none", bias=False)  # fmt: skip
    assert param_count(c)["total"] == sum(p.numel() for p in twin.parameters())


def _counted(fn: Any) -> dict[str, int]:
    with FlopCounterMode(display=False) as counter:
        fn()
    return {str(k): v for k, v in counter.get_flop_counts()["Global"].items()}


@pytest.mark.parametrize("T", [1, 7, 20])
def test_forward_flops_equal_flop_counter(T: int) -> None:
    c = config(**SMALL)
    model = hf(c).eval()  # type: ignore[no-untyped-call]
    ids = torch.randint(0, c.n_vocab, (3, T), generator=torch.Generator().manual_seed(T))
    with torch.no_grad():
        counted = _counted(lambda: model(ids))
    f = flops_per_token(c, T)
    assert sum(counted.values()) == 3 * T * f["total"]
    assert counted["aten.bmm"] == 3 * T * (f["attention_scores"] + f["attention_values"])


def test_backward_flops_are_twice_the_forward() -> None:
    c, T = config(**{**SMALL, "n_layers": 1}), 9
    model = hf(c).train()
    ids = torch.randint(0, c.n_vocab, (2, T), generator=torch.Generator().manual_seed(1))
    loss = model(ids, labels=ids).loss
    counted = _counted(loss.backward)
    tr = training_flops_per_token(c, T)
    assert sum(counted.values()) == 2 * T * tr["backward"]
    assert tr["total"] == 3 * tr["forward"] == 3 * flops_per_token(c, T)["total"]


def test_flops_closed_form_and_swiglu() -> None:
    D, F, L, V, T = 48, 192, 2, 97, 10
    f = flops_per_token(config(**SMALL), T)
    assert f["total"] == L * (24 * D * D + 4 * T * D) + 2 * D * V
    sw = flops_per_token(config(**SMALL, activation="swiglu", F=128), T)
    assert sw["mlp"] == L * 2 * 3 * D * 128
    assert f["mlp"] == L * 2 * 2 * D * F


@pytest.mark.parametrize("batch, T", [(1, 5), (3, 20)])
def test_kv_cache_bytes_equal_transformers(batch: int, T: int) -> None:
    c = config(**SMALL)
    model = hf(c).eval()  # type: ignore[no-untyped-call]
    ids = torch.randint(0, c.n_vocab, (batch, T), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        cache = model(ids, use_cache=True).past_key_values
    layers = cache.to_legacy_cache() if hasattr(cache, "to_legacy_cache") else cache
    actual = sum(t.nbytes for layer in layers for t in layer)
    assert memory_bytes(c, T=T, batch=batch, dtype_bytes=8)["kv_cache"] == actual
    half = memory_bytes(c, T=T, batch=batch, dtype_bytes=2)["kv_cache"]
    assert half == sum(t.to(torch.bfloat16).nbytes for layer in layers for t in layer)


def test_weight_bytes_equal_state_dict() -> None:
    c = config(**SMALL)
    model = hf(c)
    unique = {p.data_ptr(): p.nbytes for p in model.parameters()}
    assert memory_bytes(c, T=4, dtype_bytes=8)["weights"] == sum(unique.values())


def test_activation_bytes_closed_form() -> None:
    D, F, L, V, H, T = 48, 192, 2, 97, 4, 10
    m = memory_bytes(config(**SMALL), T=T, batch=2, dtype_bytes=2)
    assert m["activations"] == 2 * T * (L * (8 * D + H * T + 2 * F) + 2 * D + V) * 2


@given(st.integers(1, 4096), st.integers(1, 4096))
def test_rnn_vs_attention(T: int, D: int) -> None:
    c = rnn_vs_attention_macs(T, D)
    assert c["rnn"] == 2 * T * D * D and c["attention"] == 4 * T * D * D + 2 * T * T * D
    assert (c["attention_pairs"] > c["rnn_recurrent"]) == (2 * T > D)


def test_rnn_macs_match_flop_counter() -> None:
    T, D = 6, 5
    x, w_xh, w_hh = torch.randn(T, D), torch.randn(D, D), torch.randn(D, D)

    def rnn() -> None:
        h = torch.zeros(1, D)
        for t in range(T):
            h = torch.tanh(h @ w_hh + x[t : t + 1] @ w_xh)

    def attention() -> None:
        q, k, v = x @ w_xh, x @ w_hh, x @ w_xh
        torch.softmax(q @ k.T, dim=-1) @ v @ w_hh

    c = rnn_vs_attention_macs(T, D)
    assert sum(_counted(rnn).values()) == 2 * c["rnn"]
    assert sum(_counted(attention).values()) == 2 * c["attention"]


def test_bad_input() -> None:
    c = config(**SMALL)
    with pytest.raises(ValueError, match="config must be a ModelConfig"):
        param_count({"D": 4})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"config\.D"):
        param_count(SimpleNamespace(**{**_fields(c), "D": 0}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"config\.norm"):
        param_count(SimpleNamespace(**{**_fields(c), "norm": "batch"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_ctx = 32"):
        flops_per_token(c, 33)
    with pytest.raises(ValueError, match="T must be a positive integer"):
        training_flops_per_token(c, 0)
    with pytest.raises(ValueError, match="dtype_bytes"):
        memory_bytes(c, T=4, dtype_bytes=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch"):
        memory_bytes(c, T=4, batch=True)
    with pytest.raises(ValueError, match="D must be"):
        rnn_vs_attention_macs(3, -1)


def _fields(c: ModelConfig) -> dict[str, Any]:
    return {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
