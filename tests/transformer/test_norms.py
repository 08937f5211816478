"""Tests for llmath.transformer.norms (RMSNorm) and the block chapter's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import llmath
from llmath._checks import ShapeError
from llmath.calculus.layernorm import layer_norm
from llmath.transformer.norms import rms_norm
from tests.oracles import t64

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def _rows(min_d: int = 1) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(st.integers(1, 4), st.integers(min_d, 6)).flatmap(
        lambda s: arrays(np.float64, s, elements=FLOATS)
    )


def _torch_rms(x: np.ndarray, gamma: np.ndarray, eps: float) -> np.ndarray:
    return F.rms_norm(t64(x), (x.shape[-1],), t64(gamma), eps=eps).numpy()


def _orthogonal(rng: np.random.Generator, D: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((D, D)))
    return q * np.sign(np.diag(r))  # (D, D), Haar-distributed


# ---- hand-checkable values ------------------------------------------------------------------


def test_hand_values() -> None:
    # x = (3, -4): mean square 12.5, rms = 5/sqrt(2), x / rms = (0.6, -0.8) * sqrt(2).
    out = rms_norm([[3.0, -4.0]], [1.0, 2.0], eps=0.0)
    np.testing.assert_allclose(out, [[0.6 * math.sqrt(2), -1.6 * math.sqrt(2)]], rtol=1e-15)


def test_eps_enters_under_the_root() -> None:
    # x = (1, -1): mean square 1, so y = x / sqrt(1 + eps).
    np.testing.assert_allclose(rms_norm([1.0, -1.0], [1.0, 1.0], eps=3.0), [0.5, -0.5], rtol=1e-15)


def test_zero_token_with_positive_eps_is_zero() -> None:
    out = rms_norm(np.zeros((2, 3)), [1.0, 2.0, 3.0], eps=1e-6)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


def test_unit_gain_output_has_unit_rms(rng: np.random.Generator) -> None:
    out = rms_norm(rng.standard_normal((4, 7)), np.ones(7), eps=0.0)
    np.testing.assert_allclose((out**2).mean(axis=-1), 1.0, rtol=1e-14)


def test_exported_at_top_level() -> None:
    assert llmath.rms_norm is rms_norm
    assert "rms_norm" in llmath.__all__


# ---- torch float64 oracle -------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, 1e-6, 1e-5, 0.1, 2.0])
def test_matches_torch(rng: np.random.Generator, eps: float) -> None:
    x = rng.standard_normal((2, 3, 5))  # (B, T, D)
    gamma = rng.standard_normal(5)
    np.testing.assert_allclose(rms_norm(x, gamma, eps=eps), _torch_rms(x, gamma, eps), rtol=1e-12)


def test_one_dimensional_input_matches_torch(rng: np.random.Generator) -> None:
    x, gamma = rng.standard_normal((2, 6))
    out = rms_norm(x, gamma)
    assert out.shape == (6,)
    np.testing.assert_allclose(out, _torch_rms(x, gamma, 1e-6), rtol=1e-12)


@given(_rows(), st.one_of(st.just(1e-6), st.floats(1e-4, 5)))
def test_matches_torch_hypothesis(x: np.ndarray, eps: float) -> None:
    gamma = np.linspace(-1.5, 2.0, x.shape[-1])
    np.testing.assert_allclose(
        rms_norm(x, gamma, eps=eps), _torch_rms(x, gamma, eps), rtol=1e-10, atol=1e-12
    )


def test_extreme_magnitudes_do_not_overflow() -> None:
    gamma = np.array([1.0, 2.0])
    for s in (1e-200, 1e200):
        np.testing.assert_allclose(
            rms_norm(s * np.array([3.0, -4.0]), gamma, eps=0.0),
            rms_norm([3.0, -4.0], gamma, eps=0.0),
            rtol=1e-14,
        )


# ---- relation to layer norm, invariances and equivariances -----------------------------------


@given(_rows(min_d=2))
def test_equals_layer_norm_on_centred_tokens(x: np.ndarray) -> None:
    # On a token with mean 0, layer norm's centring does nothing: the two norms agree.
    xc = x - x.mean(axis=-1, keepdims=True)
    assume(np.all((xc * xc).mean(axis=-1) > 1e-4))
    D = x.shape[-1]
    gamma = np.linspace(0.5, 2.0, D)
    ln = layer_norm(xc, gamma, np.zeros(D), eps=1e-5)[0]
    np.testing.assert_allclose(rms_norm(xc, gamma, eps=1e-5), ln, rtol=1e-9, atol=1e-9)


@given(_rows(), st.floats(1e-3, 1e3))
def test_scale_invariance_at_eps_zero(x: np.ndarray, c: float) -> None:
    assume(np.all(np.abs(x).max(axis=-1) > 1e-3))
    gamma = np.linspace(-1.0, 2.0, x.shape[-1])
    out = rms_norm(x, gamma, eps=0.0)
    np.testing.assert_allclose(rms_norm(c * x, gamma, eps=0.0), out, rtol=1e-12, atol=1e-12)


@given(_rows(min_d=2), st.floats(0.5, 5))
def test_not_shift_invariant(x: np.ndarray, s: float) -> None:
    # Layer norm forgets a shift of every feature by s; RMSNorm does not (it has no mean),
    # except on a token along (1, ..., 1), whose direction a positive shift keeps.
    xc = x - x.mean(axis=-1, keepdims=True)
    assume(np.all(np.abs(xc).max(axis=-1) > 1e-2))
    D = x.shape[-1]
    gamma = np.ones(D)
    assert np.abs(rms_norm(x + s, gamma, eps=0.0) - rms_norm(x, gamma, eps=0.0)).max() > 1e-6


@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 5))
def test_token_permutation_equivariance(seed: int, D: int, T: int) -> None:
    rng = np.random.default_rng(seed)
    x, gamma = rng.standard_normal((T, D)), rng.standard_normal(D)
    perm = rng.permutation(T)
    np.testing.assert_array_equal(rms_norm(x[perm], gamma), rms_norm(x, gamma)[perm])


@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_rotation_equivariance_needs_a_uniform_gain(seed: int, D: int) -> None:
    # x -> x Q commutes with RMSNorm when gamma = c 1 (it only rescales x), not otherwise.
    rng = np.random.default_rng(seed)
    x, Q = rng.standard_normal((3, D)), _orthogonal(rng, D)
    c = np.full(D, 1.7)
    np.testing.assert_allclose(rms_norm(x @ Q, c), rms_norm(x, c) @ Q, rtol=1e-12, atol=1e-12)
    gamma = np.arange(1.0, D + 1.0)
    assert np.abs(rms_norm(x @ Q, gamma) - rms_norm(x, gamma) @ Q).max() > 1e-6


def test_inputs_not_mutated(rng: np.random.Generator) -> None:
    x, gamma = rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    copies = x.copy(), gamma.copy()
    rms_norm(x, gamma)
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(gamma, copies[1])


# ---- bad input -------------------------------------------------------------------------------


def test_bad_gamma_shape() -> None:
    with pytest.raises(ShapeError, match="gamma"):
        rms_norm(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ShapeError, match="gamma"):
        rms_norm(np.ones((2, 3)), np.ones((1, 3)))


@pytest.mark.parametrize("eps", [-1e-6, float("nan"), float("inf")])
def test_bad_eps(eps: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        rms_norm(np.ones((2, 3)), np.ones(3), eps=eps)


def test_zero_token_at_eps_zero() -> None:
    with pytest.raises(ValueError, match="eps"):
        rms_norm(np.array([[1.0, 2.0], [0.0, 0.0]]), np.ones(2), eps=0.0)


def test_bad_x() -> None:
    with pytest.raises(ShapeError, match="x"):
        rms_norm(np.float64(1.0), np.ones(1))
    with pytest.raises(ValueError, match="x"):
        rms_norm([[1.0, np.nan]], np.ones(2))


# ---- the block chapter's examples ------------------------------------------------------------


def test_example_pre_ln_block_is_part2_block_forward() -> None:
    from examples.transformer import block as ex

    assert ex.part2_agreement() <= 1e-12


def test_example_backward_passes_match_finite_differences() -> None:
    from examples.transformer import block as ex

    fd = ex.backward_vs_finite_differences()
    assert fd["pre"] < 1e-7 and fd["post"] < 1e-7


def test_example_post_ln_block_matches_torch(rng: np.random.Generator) -> None:
    import torch
    from examples.transformer import block as ex

    x = rng.standard_normal((ex.T, ex.D))
    p = ex.init_layer(rng)
    p = p._replace(b_1=0.1 * rng.standard_normal(ex.F), b_2=0.1 * rng.standard_normal(ex.D))
    tp = [t64(a) for a in p]
    mask = torch.ones(ex.T, ex.T, dtype=torch.bool).tril()
    mha = torch.nn.MultiheadAttention(ex.D, ex.H, bias=False, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([tp[2].T, tp[3].T, tp[4].T]))
        mha.out_proj.weight.copy_(tp[5].T)
    xt = t64(x)[None]
    a = mha(xt, xt, xt, attn_mask=~mask, need_weights=False)[0]
    h = F.layer_norm(xt + a, (ex.D,), tp[0], tp[1], eps=1e-5)
    m = F.gelu(h @ tp[8] + tp[9]) @ tp[10] + tp[11]
    ref = F.layer_norm(h + m, (ex.D,), tp[6], tp[7], eps=1e-5)[0].detach().numpy()
    np.testing.assert_allclose(ex.post_ln_block(x, p), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ex.post_ln_forward(x, p)[0], ref, rtol=1e-12, atol=1e-12)


def test_example_symmetry_table() -> None:
    from examples.transformer import block as ex

    s = ex.symmetry()
    kept = [k for k in s if k.split("/")[1] in {"layer_norm", "rms_norm", "mlp", "attention"}]
    kept = [k for k in kept if not k.startswith("rot/layer_norm")]
    kept += ["rot/rms_norm_unit", "rot/rms_block", "hidden/perm"]
    broken = ["perm/attention_invariant", "perm/causal", "perm/positions", "rot/layer_norm",
              "rot/rms_norm_gain", "rot/pre_ln_block", "hidden/rot"]  # fmt: skip
    assert all(s[k] < 1e-12 for k in kept), {k: s[k] for k in kept}
    assert all(s[k] > 0.1 for k in broken), {k: s[k] for k in broken}


def test_example_residual_writes_sum_to_the_output() -> None:
    from examples.transformer import block as ex

    w = ex.residual_writes()
    np.testing.assert_allclose(w["sum"], w["out"], rtol=0, atol=1e-12)
    assert abs(w["share"].sum() - 1) < 1e-12


def test_example_tables() -> None:
    from examples.transformer import block as ex

    t = ex.tables()
    assert all(k.startswith("block/") and np.all(np.isfinite(v)) for k, v in t.items())
    assert t["block/mlp-counts"][1, 3] == 11008
    assert np.all(np.triu(t["block/dependence"], 1) < 1e-6)
