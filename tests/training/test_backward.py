"""Tests for llmath.training.backward: the whole model's gradient against torch autograd
(Hugging Face's GPT2LMHeadModel and a functional torch twin) and central finite differences."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2LMHeadModel

from llmath._checks import ShapeError
from llmath.training.backward import loss_and_grads, parameters, train_step
from llmath.transformer.model import (
    ModelConfig,
    ModelParams,
    gpt2_params_from_state,
    init,
    next_token_loss,
)

HF = {"n_layer": 2, "n_head": 4, "n_embd": 16, "vocab_size": 23, "n_positions": 12}
GPT = ModelConfig(n_vocab=23, n_ctx=12, D=16, H=4, n_layers=2)


@cache
def _hf(tied: bool) -> GPT2LMHeadModel:
    """A seeded random GPT-2 with non-zero biases and norm shifts, float64, no dropout."""
    torch.manual_seed(1 if tied else 2)
    cfg = GPT2Config(**HF, attn_implementation="eager", tie_word_embeddings=tied,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    model = GPT2LMHeadModel(cfg).double()
    with torch.no_grad():
        for name, t in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                t.add_(0.1 * torch.randn_like(t))
    return model


def _copy(params: ModelParams) -> ModelParams:
    return ModelParams(*(_tree_copy(t) for t in params))


def _tree_copy(t: object) -> object:
    if isinstance(t, tuple):
        items = [_tree_copy(x) for x in t]
        return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
    return None if t is None else np.array(t, dtype=np.float64)


def _ours(tied: bool) -> tuple[ModelParams, ModelConfig]:
    cfg = ModelConfig(n_vocab=23, n_ctx=12, D=16, H=4, n_layers=2, tie_embeddings=tied)
    state = {k: v.detach().numpy() for k, v in _hf(tied).state_dict().items()}
    return _copy(gpt2_params_from_state(state, cfg)), cfg


def _hf_grads(model: GPT2LMHeadModel, ids: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    model.zero_grad()
    t = torch.from_numpy(ids)
    logits = model(t[:, :-1]).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             t[:, 1:].reshape(-1))  # fmt: skip
    loss.backward()
    grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters() if p.grad is not None}
    return loss.item(), grads


def _as_gpt2_state(g: ModelParams, tied: bool) -> dict[str, np.ndarray]:
    """Our gradients under Hugging Face's names and layouts."""
    out = {"transformer.wte.weight": g.wte, "transformer.wpe.weight": g.wpe,
           "transformer.ln_f.weight": g.lnf_gamma, "transformer.ln_f.bias": g.lnf_beta}  # fmt: skip
    for i, lp in enumerate(g.layers):
        h = f"transformer.h.{i}."
        out |= {
            h + "ln_1.weight": lp.ln1_gamma, h + "ln_1.bias": lp.ln1_beta,
            h + "attn.c_attn.weight": np.concatenate([lp.w_q, lp.w_k, lp.w_v], axis=1),
            h + "attn.c_attn.bias": np.concatenate([lp.b_q, lp.b_k, lp.b_v]),
            h + "attn.c_proj.weight": lp.w_o, h + "attn.c_proj.bias": lp.b_o,
            h + "ln_2.weight": lp.ln2_gamma, h + "ln_2.bias": lp.ln2_beta,
            h + "mlp.c_fc.weight": lp.mlp.w_in, h + "mlp.c_fc.bias": lp.mlp.b_in,
            h + "mlp.c_proj.weight": lp.mlp.w_out, h + "mlp.c_proj.bias": lp.mlp.b_out,
        }  # fmt: skip
    if not tied:
        out["lm_head.weight"] = g.w_unembed.T  # type: ignore[union-attr]
    return out  # type: ignore[return-value]


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("shape", [(2, 13), (1, 2), (3, 7)])
def test_every_gradient_matches_gpt2_autograd(tied: bool, shape: tuple[int, int]) -> None:
    params, cfg = _ours(tied)
    ids = np.random.default_rng(sum(shape)).integers(0, 23, size=shape)
    ids[0, : shape[1] // 2] = 5  # repeated tokens: their embedding rows must add up
    loss, grads = loss_and_grads(params, ids, config=cfg)
    ref_loss, ref = _hf_grads(_hf(tied), ids)
    assert loss == next_token_loss(params, ids, config=cfg)  # exactly the model's loss
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    ours = _as_gpt2_state(grads, tied)
    assert set(ours) == set(ref)  # every parameter of the torch model has a gradient
    for name, r in ref.items():
        np.testing.assert_allclose(ours[name], r, rtol=1e-10, atol=1e-12, err_msg=name)


def test_unbatched_ids_equal_a_batch_of_one() -> None:
    params, cfg = _ours(True)
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    l1, g1 = loss_and_grads(params, ids, config=cfg)
    l2, g2 = loss_and_grads(params, ids[None], config=cfg)
    assert l1 == pytest.approx(l2, abs=1e-15)
    for a, b in zip(parameters(g1), parameters(g2), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)


# ---- other configurations: a functional torch twin and finite differences --------------------


def _torch_loss(
    params: list[torch.Tensor], p: ModelParams, ids: np.ndarray, c: ModelConfig
) -> torch.Tensor:
    """The model written in torch ops, on tensors in the order of `parameters(p)`."""
    it = iter(params)

    def nxt(a: object) -> torch.Tensor | None:
        return None if a is None else next(it)

    F = torch.nn.functional
    wte, wpe = nxt(p.wte), nxt(p.wpe)
    layers = []
    for lp in p.layers:
        layers.append([nxt(a) for a in (*lp[:12], *lp.mlp)])
    lnf_g, lnf_b, w_u = nxt(p.lnf_gamma), nxt(p.lnf_beta), nxt(p.w_unembed)

    def norm(x: torch.Tensor, g: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        if c.norm == "rms":
            return g * x / torch.sqrt((x * x).mean(-1, keepdim=True) + c.eps)
        return F.layer_norm(x, (c.D,), g, b, eps=c.eps)

    def aff(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        return x @ w if b is None else x @ w + b

    t = torch.from_numpy(ids)
    inp, tgt = t[..., :-1], t[..., 1:]
    T, H, dk = inp.shape[-1], c.H, c.D // c.H
    x = wte[inp]
    if c.positions == "learned":
        x = x + wpe[:T]
    elif c.positions == "sinusoidal":
        pos = torch.arange(T, dtype=torch.float64)[:, None]
        freq = 10000.0 ** (-torch.arange(0, c.D, 2, dtype=torch.float64) / c.D)
        pe = torch.zeros(T, c.D)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
        x = x + pe
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for g1, b1, wq, wk, wv, wo, bq, bk, bv, bo, g2, b2, w_in, b_in, w_out, b_out, wg, bg in layers:
        n1 = norm(x, g1, b1)
        q, k, v = (aff(n1, w, b).unflatten(-1, (H, dk)).transpose(-3, -2)
                   for w, b in ((wq, bq), (wk, bk), (wv, bv)))  # fmt: skip
        s = (q @ k.transpose(-1, -2) / math.sqrt(dk)).masked_fill(~mask, -math.inf)
        heads = torch.softmax(s, -1) @ v
        x = x + aff(heads.transpose(-3, -2).flatten(-2), wo, bo)
        n2 = norm(x, g2, b2)
        u = aff(n2, w_in, b_in)
        if c.activation == "relu":
            a = torch.relu(u)
        elif c.activation == "gelu":
            a = F.gelu(u)
        elif c.activation == "gelu_tanh":
            a = F.gelu(u, approximate="tanh")
        else:
            a = F.silu(aff(n2, wg, bg)) * u
        x = x + aff(a, w_out, b_out)
    logits = norm(x, lnf_g, lnf_b) @ (wte.T if w_u is None else w_u)
    return F.cross_entropy(logits.reshape(-1, c.n_vocab), tgt.reshape(-1))


CONFIGS = [
    {},
    {"tie_embeddings": False},
    {"positions": "sinusoidal"},
    {"positions": "none", "bias": False},
    {"activation": "relu", "norm": "rms"},
    {"activation": "gelu", "bias": False, "tie_embeddings": False},
    {"activation": "swiglu", "norm": "rms", "bias": False, "positions": "none"},
    {"activation": "swiglu", "F": 12, "n_layers": 3},
]


def _random_model(kw: dict[str, object], seed: int) -> tuple[ModelParams, ModelConfig]:
    base = {"n_vocab": 11, "n_ctx": 9, "D": 8, "H": 2, "n_layers": 2}
    cfg = ModelConfig(**(base | kw))  # type: ignore[arg-type]
    p = init(cfg, np.random.default_rng(seed))
    r = np.random.default_rng(seed + 1)
    for a in parameters(p):  # away from the initialisation's zeros and ones
        a += r.normal(0.0, 0.2, a.shape)
    return p, cfg


@pytest.mark.parametrize(
    "kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "gpt2"
)
def test_every_config_matches_torch_autograd(kw: dict[str, object]) -> None:
    p, cfg = _random_model(kw, 3)
    ids = np.random.default_rng(4).integers(0, 11, size=(2, 9))
    loss, grads = loss_and_grads(p, ids, config=cfg)
    tensors = [torch.from_numpy(a.copy()).requires_grad_() for a in parameters(p)]
    ref = _torch_loss(tensors, p, ids, cfg)
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-13)
    ours = parameters(grads)
    assert len(ours) == len(tensors)
    for i, (a, t) in enumerate(zip(ours, tensors, strict=True)):
        assert t.grad is not None
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=str(i))


@pytest.mark.parametrize("kw", CONFIGS[:1] + CONFIGS[4:7:2])
def test_every_gradient_matches_central_differences(kw: dict[str, object]) -> None:
    """Independent of torch: (L(θ + h e_i) − L(θ − h e_i)) / 2h for every single entry."""
    p, cfg = _random_model(kw | {"n_vocab": 7, "D": 4, "n_ctx": 5}, 5)
    ids = np.random.default_rng(6).integers(0, 7, size=(2, 5))
    _, grads = loss_and_grads(p, ids, config=cfg)
    h = 1e-5
    for a, g in zip(parameters(p), parameters(grads), strict=True):
        num = np.empty_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + h
            up = next_token_loss(p, ids, config=cfg)
            a.flat[i] = old - h
            down = next_token_loss(p, ids, config=cfg)
            a.flat[i] = old
            num.flat[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, num, rtol=0, atol=1e-8)


@settings(max_examples=15)
@given(B=st.integers(1, 4), T=st.integers(2, 10), seed=st.integers(0, 2**16))
def test_batch_gradient_is_the_mean_of_sequence_gradients(B: int, T: int, seed: int) -> None:
    """All sequences have T - 1 targets, so the batch loss is the mean of theirs: so is its gradient."""
    p, cfg = _random_model({}, 7)
    ids = np.random.default_rng(seed).integers(0, 11, size=(B, T))
    loss, grads = loss_and_grads(p, ids, config=cfg)
    singles = [loss_and_grads(p, row, config=cfg) for row in ids]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-13)
    for i, g in enumerate(parameters(grads)):
        mean = np.mean([parameters(s[1])[i] for s in singles], axis=0)
        np.testing.assert_allclose(g, mean, rtol=1e-11, atol=1e-14)


def test_parameters_are_the_arrays_themselves_in_field_order() -> None:
    p, cfg = _random_model({"tie_embeddings": False}, 8)
    arrays = parameters(p)
    assert arrays[0] is p.wte and arrays[1] is p.wpe and arrays[-1] is p.w_unembed
    assert arrays[2] is p.layers[0].ln1_gamma
    assert sum(a.size for a in arrays) == sum(np.size(a) for a in _all(p))
    _, g = loss_and_grads(p, np.arange(6) % 11, config=cfg)
    assert [a.shape for a in parameters(g)] == [a.shape for a in arrays]


def _all(t: object) -> list[object]:
    if isinstance(t, tuple):
        return [x for s in t for x in _all(s)]
    return [] if t is None else [t]


# ---- train_step with AdamW, clipping and a schedule, against torch.optim ----------------------


def test_train_step_follows_torch_adamw_with_clipping_and_schedule() -> None:
    from llmath.training.optimizers import AdamW
    from llmath.training.schedules import cosine_schedule

    tied = True
    params, cfg = _ours(tied)
    model = GPT2LMHeadModel(_hf(tied).config).double()
    model.load_state_dict(_hf(tied).state_dict())
    opt = AdamW(parameters(params), lr=1e-2, weight_decay=0.1)
    ref = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    rng = np.random.default_rng(9)
    for step in range(6):
        ids = rng.integers(0, 23, size=(2, 9))
        lr = cosine_schedule(step, max_lr=1e-2, warmup_steps=2, total_steps=6, min_lr=1e-3)
        loss, norm = train_step(params, ids, opt, config=cfg, lr=lr, max_norm=0.5)
        ref_loss, _ = _hf_grads(model, ids)
        ref_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5).item()
        for group in ref.param_groups:
            group["lr"] = lr
        ref.step()
        assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-12)
        assert norm == pytest.approx(ref_norm, rel=1e-10)
        assert norm > 0.5  # the clipping acted
    ours = _as_gpt2_state(params, tied)
    for name, t in model.state_dict().items():
        if name in ours:
            np.testing.assert_allclose(ours[name], t.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_train_step_without_lr_or_clipping_uses_the_optimizer_as_is() -> None:
    from llmath.training.optimizers import SGD

    p, cfg = _random_model({}, 10)
    before = _copy(p)
    ids = np.random.default_rng(11).integers(0, 11, size=(2, 6))
    loss, grads = loss_and_grads(p, ids, config=cfg)
    got, norm = train_step(p, ids, SGD(parameters(p), lr=0.5), config=cfg)
    assert got == loss
    assert norm == pytest.approx(math.sqrt(sum(np.sum(g * g) for g in parameters(grads))))
    for new, old, g in zip(parameters(p), parameters(before), parameters(grads), strict=True):
        np.testing.assert_allclose(new, old - 0.5 * g, rtol=0, atol=1e-15)


# ---- bad input ----------------------------------------------------------------------------


def test_bad_input_is_refused_naming_the_argument() -> None:
    from llmath.training.optimizers import SGD

    p, cfg = _random_model({}, 12)
    with pytest.raises(ShapeError, match="ids"):
        loss_and_grads(p, [3], config=cfg)
    with pytest.raises(ValueError, match="n_ctx"):
        loss_and_grads(p, np.zeros(11, int), config=cfg)  # 10 inputs > n_ctx = 9
    with pytest.raises(ValueError, match="ids"):
        loss_and_grads(p, [1, 11], config=cfg)
    with pytest.raises(ValueError, match="config"):
        loss_and_grads(p, [1, 2], config="gpt2")  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"params\.wte"):
        loss_and_grads(p._replace(wte=p.wte[:, :3]), [1, 2], config=cfg)
    with pytest.raises(ValueError, match="params"):
        parameters("weights")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float64"):
        parameters(p._replace(wte=p.wte.astype(np.float32)))
    other = SGD([a.copy() for a in parameters(p)], lr=0.1)
    with pytest.raises(ValueError, match="optimizer must be built on parameters"):
        train_step(p, [1, 2], other, config=cfg)
    with pytest.raises(ValueError, match="lr"):
        train_step(p, [1, 2], SGD(parameters(p), lr=0.1), config=cfg, lr=-1.0)
    with pytest.raises(ValueError, match="max_norm"):
        train_step(p, [1, 2], SGD(parameters(p), lr=0.1), config=cfg, max_norm=0.0)
    with pytest.raises(ValueError, match="optimizer"):
        train_step(p, [1, 2], object(), config=cfg)  # type: ignore[arg-type]


@pytest.mark.parametrize("where", ["wte", "layer", "mlp"])
def test_nan_in_a_parameter_is_refused_by_every_entry(where: str) -> None:
    """Validation happens once at the public entry (@vouches): it must still see every array."""
    from llmath.training.optimizers import SGD
    from llmath.transformer.model import forward

    p, cfg = _random_model({}, 13)
    bad = _copy(p)
    target = {"wte": bad.wte, "layer": bad.layers[1].w_k, "mlp": bad.layers[0].mlp.b_in}[where]
    target.flat[3] = np.nan
    ids = [1, 2, 3]
    for call in (
        lambda: loss_and_grads(bad, ids, config=cfg),
        lambda: train_step(bad, ids, SGD(parameters(bad), lr=0.1), config=cfg),
        lambda: next_token_loss(bad, ids, config=cfg),
        lambda: forward(bad, ids, config=cfg),
    ):
        with pytest.raises(ValueError, match="params"):
            call()
