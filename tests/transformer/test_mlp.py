"""Tests for llmath.transformer.mlp: torch oracles for every activation, SwiGLU's width."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from transformers.activations import ACT2FN

from llmath._checks import ShapeError
from llmath.transformer.mlp import MLPParams, mlp, swiglu_width
from tests.oracles import t64


def _params(rng: np.random.Generator, D: int, Fw: int, *, gate: bool) -> MLPParams:
    w = [rng.normal(size=s) for s in ((D, Fw), (Fw,), (Fw, D), (D,))]
    if gate:
        w += [rng.normal(size=(D, Fw)), rng.normal(size=(Fw,))]
    return MLPParams(*w)


def _torch_mlp(x: np.ndarray, p: MLPParams, activation: str) -> np.ndarray:
    """The same MLP in torch float64: F.linear with (out, in) weights, torch's activations."""
    xt = t64(x)
    u = F.linear(xt, t64(p.w_in).T, t64(p.b_in))
    if activation == "relu":
        g = torch.relu(u)
    elif activation == "gelu":
        g = F.gelu(u)
    elif activation == "gelu_tanh":
        g = F.gelu(u, approximate="tanh")
    else:
        g = F.silu(F.linear(xt, t64(p.w_gate).T, t64(p.b_gate))) * u
    return F.linear(g, t64(p.w_out).T, t64(p.b_out)).numpy()


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_tanh", "swiglu"])
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(3,), (2, 3), (2, 1, 4)]))
def test_matches_torch(activation: str, seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    D, Fw = 5, 7
    x = rng.normal(size=(*shape, D)) * 2
    p = _params(rng, D, Fw, gate=activation == "swiglu")
    out = mlp(x, p, activation=activation)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, _torch_mlp(x, p, activation), rtol=1e-12, atol=1e-12)


def test_gelu_tanh_is_transformers_gelu_new(rng: np.random.Generator) -> None:
    # GPT-2's config says activation_function="gelu_new": the tanh approximation.
    x = rng.normal(size=(4, 6)) * 3
    p = MLPParams(np.eye(6), np.zeros(6), np.eye(6), np.zeros(6))
    expected = ACT2FN["gelu_new"](t64(x)).numpy()
    np.testing.assert_allclose(mlp(x, p, activation="gelu_tanh"), expected, rtol=1e-14, atol=1e-15)
    # and the exact GELU is not it: they differ by up to ~1e-3 (here at |x| of a few units)
    assert np.abs(mlp(x, p, activation="gelu") - expected).max() > 1e-5


def test_swiglu_matches_llama_mlp(rng: np.random.Generator) -> None:
    # LLaMA's MLP: down(silu(gate(x)) * up(x)), no biases.
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaMLP

    D, Fw = 8, swiglu_width(8)
    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=D, intermediate_size=Fw)  # type: ignore[no-untyped-call]
    m = LlamaMLP(cfg).double().eval()  # type: ignore[no-untyped-call]
    p = MLPParams(
        m.up_proj.weight.detach().numpy().T,
        np.zeros(Fw),
        m.down_proj.weight.detach().numpy().T,
        np.zeros(D),
        m.gate_proj.weight.detach().numpy().T,
    )
    x = rng.normal(size=(3, D))
    with torch.no_grad():
        expected = m(t64(x)).numpy()
    np.testing.assert_allclose(mlp(x, p, activation="swiglu"), expected, rtol=1e-12, atol=1e-13)


def test_hand_value_relu() -> None:
    # W_in = I, ReLU keeps (1, 0), W_out = 2I, b_out = (1, 1): (3, 1).
    p = MLPParams(np.eye(2), np.zeros(2), 2 * np.eye(2), np.ones(2))
    np.testing.assert_array_equal(mlp([1.0, -1.0], p, activation="relu"), [3.0, 1.0])


def test_positionwise(rng: np.random.Generator) -> None:
    # each row is transformed on its own: permuting the rows permutes the output
    x = rng.normal(size=(5, 4))
    p = _params(rng, 4, 6, gate=False)
    perm = rng.permutation(5)
    np.testing.assert_allclose(mlp(x[perm], p), mlp(x, p)[perm], rtol=1e-15)


def test_swiglu_width() -> None:
    assert swiglu_width(4096, multiple_of=256) == 11008  # LLaMA-7B's intermediate size
    assert swiglu_width(768) == 2048
    for D in (64, 512, 768, 4096):
        Fw = swiglu_width(D)
        assert abs(3 * D * Fw - 2 * D * 4 * D) <= 3 * D  # the same weight count, within a row


@given(D=st.integers(1, 10_000), m=st.integers(1, 512))
def test_swiglu_width_rounds_up(D: int, m: int) -> None:
    Fw = swiglu_width(D, multiple_of=m)
    assert Fw % m == 0 and 8 * D // 3 <= Fw < 8 * D // 3 + m


def test_bad_input(rng: np.random.Generator) -> None:
    p = _params(rng, 3, 4, gate=False)
    x = rng.normal(size=(2, 3))
    with pytest.raises(ValueError, match="activation"):
        mlp(x, p, activation="silu")
    with pytest.raises(ValueError, match="w_gate"):
        mlp(x, p, activation="swiglu")
    with pytest.raises(ValueError, match="w_gate"):
        mlp(x, _params(rng, 3, 4, gate=True), activation="gelu")
    with pytest.raises(ShapeError, match=r"params\.w_in"):
        mlp(rng.normal(size=(2, 5)), p)
    with pytest.raises(ShapeError, match=r"params\.b_out"):
        mlp(x, p._replace(b_out=np.zeros(4)))
    with pytest.raises(ValueError, match="params"):
        mlp(x, (1, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x"):
        mlp([[np.nan, 0.0, 0.0]], p)
    with pytest.raises(ValueError, match="D"):
        swiglu_width(0)
    with pytest.raises(ValueError, match="multiple_of"):
        swiglu_width(8, multiple_of=2.0)  # type: ignore[arg-type]
