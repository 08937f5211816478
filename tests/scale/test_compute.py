"""Training memory, activation recomputation, the ring all-reduce and MFU: hand-checkable cases,
Part 4's counters, and the simulated ring against numpy's sum and the 2(n-1)/n volume."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmath.scale.compute import (
    activation_memory_bytes,
    mfu,
    ring_allreduce,
    ring_allreduce_volume,
    training_memory_bytes,
)
from llmath.transformer.counting import memory_bytes
from llmath.transformer.model import ModelConfig

TINY = ModelConfig(n_vocab=10, n_ctx=4, D=2, H=1, n_layers=1, activation="relu")
GPT2 = ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12)


def test_sixteen_bytes_per_parameter() -> None:
    m = training_memory_bytes(10)
    assert m == {"weights": 20, "gradients": 20, "master": 40, "optimizer": 80, "total": 160}
    assert training_memory_bytes(10, precision="fp32")["total"] == 160  # 4 + 4 + 8
    assert training_memory_bytes(10, optimizer="sgd")["total"] == 80
    assert training_memory_bytes(10, precision="fp32", optimizer="sgd_momentum")["total"] == 120


def test_zero_and_model_parallel_sharding() -> None:
    """ZeRO (Rajbhandari et al. 2020, Fig. 1): 2 + 2 + 12/Nd, 2 + (2 + 12)/Nd, 16/Nd."""
    N, dp = 7_500_000, 64
    stages = {z: training_memory_bytes(N, data_parallel=dp, zero=z)["total"] for z in
              ("none", "stage1", "stage2", "stage3")}  # fmt: skip
    assert stages["none"] == pytest.approx(16 * N)
    assert stages["stage1"] == pytest.approx((4 + 12 / dp) * N)
    assert stages["stage2"] == pytest.approx((2 + 14 / dp) * N)
    assert stages["stage3"] == pytest.approx(16 * N / dp)
    assert training_memory_bytes(N, model_parallel=8)["total"] == pytest.approx(2 * N)


def test_activations_reuse_part4() -> None:
    for T in (1, 3, 4):
        none = activation_memory_bytes(TINY, T=T, batch=2, dtype_bytes=4)
        assert none == memory_bytes(TINY, T=T, batch=2, dtype_bytes=4)["activations"]
    # by hand, T = 4, b = 2: per token L(8D + HT + 2F) + 2D + nV = 36 + 14 = 50
    assert activation_memory_bytes(TINY, T=4) == 4 * 50 * 2
    assert activation_memory_bytes(TINY, T=4, recompute="selective") == 4 * 46 * 2
    assert activation_memory_bytes(TINY, T=4, recompute="full") == 4 * (2 + 4 + 10) * 2


def test_selective_recompute_removes_the_quadratic_term() -> None:
    """Without the attention weights, activation memory is linear in T."""
    sel = [activation_memory_bytes(GPT2, T=T, recompute="selective") for T in (256, 512, 1024)]
    assert sel[2] - sel[1] == 2 * (sel[1] - sel[0])
    full = [activation_memory_bytes(GPT2, T=T) for T in (256, 512, 1024)]
    assert full[2] - full[1] > 2 * (full[1] - full[0])


@given(st.integers(1, 9), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_ring_allreduce_sums_and_counts(n: int, M: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(n, M))
    out, sent = ring_allreduce(x)
    np.testing.assert_allclose(out, np.broadcast_to(x.sum(axis=0), (n, M)), rtol=1e-12, atol=1e-12)
    # each device sends every chunk but one in each phase: 2(M - its excluded chunk)
    assert sent.sum() == 2 * (n - 1) * M
    if M % n == 0:
        np.testing.assert_array_equal(sent, ring_allreduce_volume(M, n))


def test_ring_volume_by_hand() -> None:
    assert ring_allreduce_volume(100.0, 1) == 0.0
    assert ring_allreduce_volume(100.0, 2) == 100.0
    assert ring_allreduce_volume(100.0, 4) == 150.0


def test_mfu() -> None:
    assert mfu(2.0, flops_per_token=3.0, peak_flops=12.0) == 0.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: training_memory_bytes(-5), "N must be a positive integer"),
        (lambda: training_memory_bytes(5, precision="fp8"), "precision must be"),
        (lambda: training_memory_bytes(5, optimizer="lion"), "optimizer must be"),
        (lambda: training_memory_bytes(5, zero="stage4"), "zero must be"),
        (lambda: training_memory_bytes(5, data_parallel=0), "data_parallel"),
        (lambda: activation_memory_bytes(TINY, T=5), "T must be at most"),
        (lambda: activation_memory_bytes(TINY, T=2, recompute="some"), "recompute must be"),
        (lambda: ring_allreduce([1.0, 2.0]), "xs"),
        (lambda: ring_allreduce_volume(-1.0, 2), "nbytes"),
        (lambda: mfu(-1.0, flops_per_token=1.0, peak_flops=1.0), "tokens_per_second"),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
