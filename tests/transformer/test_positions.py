"""Tests for llmath.transformer.positions: sinusoidal encodings, their shift, and RoPE."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import LlamaConfig
from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb as gptj_apply
from transformers.models.llama.modeling_llama import (
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
    rotate_half,
)
from transformers.models.roformer.modeling_roformer import RoFormerSelfAttention

import llmath
from llmath._checks import ShapeError
from llmath.transformer.positions import rope, sinusoidal_positions, sinusoidal_shift
from tests.oracles import t64

WIDTHS = st.integers(1, 8).map(lambda h: 2 * h)  # even D or dk
TWO: Any = 2.0  # a float where an integer belongs
ONE_AND_A_HALF: Any = 1.5
BASES = st.sampled_from([10.0, 100.0, 10000.0, 500000.0])


def _angles(positions: np.ndarray, dk: int, base: float) -> torch.Tensor:
    """p * theta_i in float64, computed as Hugging Face's LlamaRotaryEmbedding does (inv_freq)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, dk, 2, dtype=torch.int64).double() / dk))
    return torch.tensor(positions, dtype=torch.float64)[:, None] * inv_freq  # (T, dk/2)


def _hf_cos_sin(positions: np.ndarray, dk: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of shape (1, T, dk), the layout `apply_rotary_pos_emb` expects."""
    freqs = _angles(positions, dk, base)
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, dk): the rotate_half layout
    return emb.cos()[None], emb.sin()[None]


# ---- hand-checkable values ------------------------------------------------------------------


def test_sinusoidal_hand_values() -> None:
    pe = sinusoidal_positions(3, 4)
    # pair 0 turns at 1 rad/position, pair 1 at 10000^(-1/2) = 0.01 rad/position
    expected = [
        [0.0, 1.0, 0.0, 1.0],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ]
    np.testing.assert_allclose(pe, expected, rtol=0, atol=1e-15)


def test_sinusoidal_matches_the_paper_formula_elementwise() -> None:
    T, D, base = 50, 12, 10000.0
    pe = sinusoidal_positions(T, D, base=base)
    for p in range(T):
        for i in range(D // 2):
            angle = p / base ** (2 * i / D)
            assert pe[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-13)
            assert pe[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-13)


def test_sinusoidal_matches_gptj_table_after_deinterleaving() -> None:
    # GPT-J's create_sinusoidal_positions stores [sin | cos] halves instead of interleaving.
    from transformers.models.gptj.modeling_gptj import create_sinusoidal_positions

    T, D = 40, 16
    ref = create_sinusoidal_positions(T, D).numpy()  # (T, D), float32 inside
    pe = sinusoidal_positions(T, D)
    np.testing.assert_allclose(pe[:, 0::2], ref[:, : D // 2], atol=1e-5)
    np.testing.assert_allclose(pe[:, 1::2], ref[:, D // 2 :], atol=1e-5)


def test_every_pair_has_unit_norm() -> None:
    pe = sinusoidal_positions(100, 10)
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, rtol=1e-15)


def test_shift_hand_values() -> None:
    c, s = math.cos(2.0), math.sin(2.0)
    r = sinusoidal_shift(2, 2)
    np.testing.assert_allclose(r, [[c, -s], [s, c]], atol=1e-16)
    np.testing.assert_array_equal(sinusoidal_shift(0, 6), np.eye(6))


def test_rope_hand_values() -> None:
    # one pair, position 1: rotation by 1 radian; position 0: identity
    np.testing.assert_allclose(rope([[1.0, 0.0]], [1]), [[math.cos(1), math.sin(1)]], atol=1e-16)
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(rope(x, [0, 0]), x)


def test_exported_at_top_level() -> None:
    for name in ("sinusoidal_positions", "sinusoidal_shift", "rope"):
        assert name in llmath.__all__
    assert llmath.rope is rope
    assert llmath.sinusoidal_positions is sinusoidal_positions
    assert llmath.sinusoidal_shift is sinusoidal_shift


# ---- torch / transformers float64 oracles ---------------------------------------------------


@pytest.mark.parametrize(
    ("dk", "base"), [(2, 10000.0), (8, 10000.0), (64, 10000.0), (16, 500000.0)]
)
def test_half_pairing_matches_hf_apply_rotary_pos_emb(
    rng: np.random.Generator, dk: int, base: float
) -> None:
    B, H, T = 2, 3, 9
    q, k = rng.standard_normal((2, B, H, T, dk))
    positions = rng.permutation(40)[:T]  # not necessarily increasing
    cos, sin = _hf_cos_sin(positions, dk, base)
    q_ref, k_ref = apply_rotary_pos_emb(t64(q), t64(k), cos, sin)  # type: ignore[no-untyped-call]
    np.testing.assert_allclose(rope(q, positions, base=base), q_ref.numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(rope(k, positions, base=base), k_ref.numpy(), rtol=0, atol=1e-14)


def test_half_pairing_is_rotate_half(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 6))
    cos, sin = _hf_cos_sin(np.arange(5), 6, 10000.0)
    ref = t64(x) * cos[0] + rotate_half(t64(x)) * sin[0]  # type: ignore[no-untyped-call]
    np.testing.assert_allclose(rope(x, np.arange(5)), ref.numpy(), rtol=0, atol=1e-15)


def test_hf_rotary_module_computes_angles_in_float32(rng: np.random.Generator) -> None:
    # LlamaRotaryEmbedding forces float32 for its angles even for a float64 model: agreement is
    # then float32's, about 1e-7, not float64's.
    H, dk, T = 2, 8, 30
    config = LlamaConfig(hidden_size=H * dk, num_attention_heads=H, head_dim=dk)  # type: ignore[no-untyped-call]
    module = LlamaRotaryEmbedding(config)
    q = rng.standard_normal((1, H, T, dk))
    positions = np.arange(T)
    cos, sin = module(t64(q), torch.tensor(positions)[None])
    q_ref, _ = apply_rotary_pos_emb(t64(q), t64(q), cos, sin)  # type: ignore[no-untyped-call]
    err = np.abs(rope(q, positions) - q_ref.numpy()).max()
    assert 1e-10 < err < 1e-5


@pytest.mark.parametrize("dk", [2, 8, 32])
def test_interleaved_pairing_matches_gptj(rng: np.random.Generator, dk: int) -> None:
    B, T, H = 2, 7, 3
    x = rng.standard_normal((B, T, H, dk))  # GPT-J's layout: heads after positions
    positions = np.arange(3, 3 + T)
    freqs = _angles(positions, dk, 10000.0)  # (T, dk/2)
    ref = gptj_apply(t64(x), freqs.sin()[None], freqs.cos()[None]).numpy()  # (B, T, H, dk)
    mine = rope(np.swapaxes(x, 1, 2), positions, pairing="interleaved")  # (B, H, T, dk)
    np.testing.assert_allclose(np.swapaxes(mine, 1, 2), ref, rtol=0, atol=1e-14)


def test_interleaved_pairing_matches_roformer(rng: np.random.Generator) -> None:
    B, H, T, dk = 2, 2, 6, 10
    q, k = rng.standard_normal((2, B, H, T, dk))
    positions = np.arange(T)
    freqs = _angles(positions, dk, 10000.0)  # (T, dk/2)
    sinusoidal_pos = torch.cat((freqs.sin(), freqs.cos()), dim=-1)[None, None]  # (1, 1, T, dk)
    apply = RoFormerSelfAttention.apply_rotary_position_embeddings
    q_ref, k_ref = apply(sinusoidal_pos, t64(q), t64(k))  # type: ignore[no-untyped-call]
    np.testing.assert_allclose(rope(q, positions, pairing="interleaved"), q_ref.numpy(), atol=1e-14)
    np.testing.assert_allclose(rope(k, positions, pairing="interleaved"), k_ref.numpy(), atol=1e-14)


def test_pairings_differ_by_a_fixed_permutation(rng: np.random.Generator) -> None:
    dk = 12
    x = rng.standard_normal((3, 5, dk))
    positions = np.array([0, 4, 1, 9, 2])
    perm = np.concatenate([np.arange(0, dk, 2), np.arange(1, dk, 2)])  # evens, then odds
    half = rope(x[..., perm], positions, pairing="half")
    inter = rope(x, positions, pairing="interleaved")
    np.testing.assert_array_equal(half, inter[..., perm])
    assert np.abs(half - inter).max() > 0.1  # the same map, not the same numbers


# ---- hypothesis properties ------------------------------------------------------------------


@given(D=WIDTHS, base=BASES, p=st.integers(0, 10**6), k=st.integers(-(10**4), 10**4))
def test_shift_moves_every_encoding_by_k(D: int, base: float, p: int, k: int) -> None:
    if p + k < 0:
        k = -k
    pe = sinusoidal_positions(p + max(k, 0) + 1, D, base=base)
    err_budget = 1e-15 * (p + abs(k) + 1) + 1e-13  # angles are p * omega: rounding grows with p
    np.testing.assert_allclose(
        pe[p] @ sinusoidal_shift(k, D, base=base), pe[p + k], atol=err_budget
    )


@given(D=WIDTHS, base=BASES, j=st.integers(-500, 500), k=st.integers(-500, 500))
def test_shift_is_an_orthogonal_group_action(D: int, base: float, j: int, k: int) -> None:
    rj, rk = sinusoidal_shift(j, D, base=base), sinusoidal_shift(k, D, base=base)
    np.testing.assert_allclose(rj @ rk, sinusoidal_shift(j + k, D, base=base), atol=1e-12)
    np.testing.assert_allclose(rk.T, sinusoidal_shift(-k, D, base=base), atol=1e-15)
    np.testing.assert_allclose(rk @ rk.T, np.eye(D), atol=1e-14)


@given(D=WIDTHS, base=BASES, p=st.integers(0, 2000), q=st.integers(0, 2000), s=st.integers(0, 2000))
def test_sinusoidal_dot_product_depends_only_on_the_offset(
    D: int, base: float, p: int, q: int, s: int
) -> None:
    pe = sinusoidal_positions(max(p, q) + s + 1, D, base=base)
    k = q - p
    closed = np.cos(k * base ** (-np.arange(0, D, 2) / D)).sum()  # sum_i cos(k omega_i)
    assert pe[p] @ pe[q] == pytest.approx(closed, abs=1e-11)
    assert pe[p + s] @ pe[q + s] == pytest.approx(closed, abs=1e-11)


@given(
    dk=WIDTHS,
    base=BASES,
    pairing=st.sampled_from(["half", "interleaved"]),
    m=st.integers(0, 5000),
    n=st.integers(0, 5000),
    s=st.integers(0, 5000),
    seed=st.integers(0, 2**32 - 1),
)
def test_rope_dot_product_depends_only_on_the_offset(
    dk: int, base: float, pairing: str, m: int, n: int, s: int, seed: int
) -> None:
    q, k = np.random.default_rng(seed).standard_normal((2, 1, dk))

    def at(a: int, b: int) -> float:
        return float(
            rope(q, [a], base=base, pairing=pairing)[0]
            @ rope(k, [b], base=base, pairing=pairing)[0]
        )

    scale = float(np.linalg.norm(q) * np.linalg.norm(k))
    assert at(m + s, n + s) == pytest.approx(at(m, n), abs=1e-10 * scale)
    assert at(m, n) == pytest.approx(at(0, n - m) if n >= m else at(m - n, 0), abs=1e-10 * scale)


@given(
    dk=WIDTHS,
    pairing=st.sampled_from(["half", "interleaved"]),
    T=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_rope_preserves_norms(dk: int, pairing: str, T: int, seed: int) -> None:
    r = np.random.default_rng(seed)
    x = r.standard_normal((2, T, dk)) * 10.0 ** r.uniform(-3, 3)
    positions = r.integers(0, 10**5, size=T)
    y = rope(x, positions, pairing=pairing)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-13)


@given(dk=WIDTHS, pairing=st.sampled_from(["half", "interleaved"]), seed=st.integers(0, 2**32 - 1))
def test_rope_is_the_sinusoidal_rotation(dk: int, pairing: str, seed: int) -> None:
    # In the interleaved layout RoPE at position p is x R(p)^T with the sinusoidal R of the
    # same frequencies: the two encodings share their rotations.
    x = np.random.default_rng(seed).standard_normal((1, dk))
    p = 37
    r = sinusoidal_shift(p, dk)
    inter = rope(x, [p], pairing="interleaved")
    np.testing.assert_allclose(inter, x @ r.T, atol=1e-13)
    perm = np.concatenate([np.arange(0, dk, 2), np.arange(1, dk, 2)])
    if pairing == "half":
        np.testing.assert_allclose(rope(x[:, perm], [p]), (x @ r.T)[:, perm], atol=1e-13)


# ---- shapes and bad input -------------------------------------------------------------------


def test_rope_keeps_leading_axes(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 6))  # (B, H, T, dk)
    y = rope(x, np.arange(4))
    assert y.shape == x.shape
    np.testing.assert_allclose(y[1, 2], rope(x[1, 2], np.arange(4)), rtol=0, atol=0)


def test_inputs_are_not_mutated(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    before = x.copy()
    rope(x, [0, 1, 2])
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: sinusoidal_positions(0, 4), "T"),
        (lambda: sinusoidal_positions(-3, 4), "T"),
        (lambda: sinusoidal_positions(TWO, 4), "T"),
        (lambda: sinusoidal_positions(4, 5), "D"),
        (lambda: sinusoidal_positions(4, 0), "D"),
        (lambda: sinusoidal_positions(4, 4, base=0.0), "base"),
        (lambda: sinusoidal_positions(4, 4, base=float("nan")), "base"),
        (lambda: sinusoidal_shift(ONE_AND_A_HALF, 4), "k"),
        (lambda: sinusoidal_shift(True, 4), "k"),
        (lambda: sinusoidal_shift(1, 3), "D"),
        (lambda: rope(np.ones((3, 5)), [0, 1, 2]), "dk"),
        (lambda: rope(np.ones((3, 4)), [0.0, 1.0, 2.0]), "positions"),
        (lambda: rope(np.ones((3, 4)), [0.5, 1, 2]), "positions"),
        (lambda: rope(np.ones((3, 4)), [0, -1, 2]), "positions"),
        (lambda: rope(np.ones((3, 4)), [True, False, True]), "positions"),
        (lambda: rope(np.ones((3, 4)), [0, 1, 2], pairing="neox"), "pairing"),
        (lambda: rope(np.ones((3, 4)), [0, 1, 2], base=-1.0), "base"),
        (lambda: rope(np.ones(4), [0], base=-1.0), "x"),
    ],
)
def test_bad_input_names_the_argument(call: object, name: str) -> None:
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()  # type: ignore[operator]


def test_positions_must_match_T() -> None:
    with pytest.raises(ShapeError, match=r"positions must have shape \(T,\) = \(3,\)"):
        rope(np.ones((3, 4)), [0, 1])
    with pytest.raises(ShapeError, match="positions"):
        rope(np.ones((3, 4)), [[0, 1, 2]])


# ---- the chapter's worked examples (docs/examples/transformer/positions.py) -----------------


def test_chapter_examples_hold() -> None:
    from examples.transformer import positions as ex

    np.testing.assert_allclose(ex.counting()[:, 1], 1 / np.arange(1, 9), rtol=1e-15)
    assert ex.permutation()["unmasked"] < 1e-14 < 0.1 < ex.permutation()["causal"]
    assert max(ex.shift_check().values()) < 1e-13
    assert ex.nearest(4, 1024)[0] == pytest.approx(ex.brute_force_nearest(4, 1024), abs=1e-12)
    assert ex.first_collisions() == {"float16": 2049, "float32": 2**24 + 1, "bfloat16": 257}
    assert ex.toeplitz_spread(ex.rope_scores()) < 1e-13
    assert set(ex.tables()) == {
        "positions/counting",
        "positions/pe-small",
        "positions/frequencies",
        "positions/nearest",
        "positions/float32",
        "positions/rope-scores",
        "positions/rope-far",
    }


def test_chapter_agreement_with_transformers() -> None:
    from examples.transformer import positions as ex

    hf = ex.hf_agreement()
    for key in ("llama_q", "llama_k", "gptj", "roformer", "perm", "scores"):
        assert hf[key] < 1e-12, key
    assert 1e-8 < hf["llama_module"] < 1e-4  # LlamaRotaryEmbedding's float32 angles
    assert ex.gpt2_embeddings()["diff"] < 1e-15
