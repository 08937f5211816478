"""Tests for llmath.training.initialization: variances against their formulas with large-sample
tolerances (5 standard errors of the sample variance), torch.nn.init's bounds, a
Kolmogorov–Smirnov test of the distribution, variance preservation through a ReLU stack, and
bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from llmath.training.initialization import he_init, xavier_init

FAN_IN, FAN_OUT = 300, 500  # 150 000 entries


def var_tolerance(n: int, distribution: str) -> float:
    """5 relative standard errors of a sample variance of n draws: Var(s²)/σ⁴ ≈ (κ - 1)/n with
    kurtosis κ = 3 for a normal and 9/5 for a uniform distribution."""
    kurtosis = 3.0 if distribution == "normal" else 9 / 5
    return 5 * math.sqrt((kurtosis - 1) / n)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_variance(distribution: str, gain: float, rng: np.random.Generator) -> None:
    w = xavier_init(FAN_IN, FAN_OUT, rng=rng, distribution=distribution, gain=gain)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    target = gain**2 * 2 / (FAN_IN + FAN_OUT)
    assert w.var() == pytest.approx(target, rel=var_tolerance(w.size, distribution))
    assert abs(w.mean()) < 5 * math.sqrt(target / w.size)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_he_variance(distribution: str, rng: np.random.Generator) -> None:
    w = he_init(FAN_IN, FAN_OUT, rng=rng, distribution=distribution)
    assert w.shape == (FAN_IN, FAN_OUT)
    target = 2 / FAN_IN  # fan_out does not enter
    assert w.var() == pytest.approx(target, rel=var_tolerance(w.size, distribution))


def test_uniform_bounds_are_torch_nn_init_bounds(rng: np.random.Generator) -> None:
    """torch.nn.init's uniform bounds √(6/(fan_in+fan_out))·gain and √(6/fan_in), with weights
    stored (fan_out, fan_in): the largest |w| of 150 000 draws is within 0.1% of the bound."""
    tw = torch.empty(FAN_OUT, FAN_IN)
    torch.nn.init.xavier_uniform_(tw, gain=2.0, generator=torch.Generator().manual_seed(0))
    ours = xavier_init(FAN_IN, FAN_OUT, rng=rng, distribution="uniform", gain=2.0)
    bound = 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))
    for top in (float(tw.abs().max()), float(np.abs(ours).max())):
        assert bound * (1 - 1e-3) < top <= bound
    torch.nn.init.kaiming_uniform_(
        tw, nonlinearity="relu", generator=torch.Generator().manual_seed(1)
    )
    ours = he_init(FAN_IN, FAN_OUT, rng=rng, distribution="uniform")
    bound = math.sqrt(6 / FAN_IN)
    for top in (float(tw.abs().max()), float(np.abs(ours).max())):
        assert bound * (1 - 1e-3) < top <= bound


def test_normal_draws_pass_a_kolmogorov_smirnov_test(rng: np.random.Generator) -> None:
    w = he_init(200, 100, rng=rng)
    result = scipy.stats.kstest(w.ravel(), scipy.stats.norm(scale=math.sqrt(2 / 200)).cdf)
    assert result.pvalue > 1e-3


def test_same_generator_state_same_weights() -> None:
    a = xavier_init(4, 3, rng=np.random.default_rng(5))
    b = xavier_init(4, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_he_keeps_the_second_moment_through_a_relu_stack(rng: np.random.Generator) -> None:
    """E[x²] after 20 ReLU layers of width 256: He keeps it near the input's (each layer
    multiplies it by fan_in·Var(w)/2 = 1 in expectation); Xavier (Var(w) = 1/256 here)
    halves it at every layer, 2^-20 overall."""
    x0 = rng.normal(size=(512, 256))
    second = {}
    for name, init in (("he", he_init), ("xavier", xavier_init)):
        x = x0
        for _ in range(20):
            x = np.maximum(x @ init(256, 256, rng=rng), 0.0)
        second[name] = float(np.mean(x**2))
    assert 0.5 < second["he"] < 2.0
    assert 2.0**-20 / 2 < second["xavier"] < 2.0**-20 * 2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda r: xavier_init(0, 3, rng=r), "fan_in"),
        (lambda r: xavier_init(3, 2.0, rng=r), "fan_out"),
        (lambda r: xavier_init(3, 3, rng=0), "rng"),
        (lambda r: xavier_init(3, 3, rng=r, distribution="gaussian"), "distribution"),
        (lambda r: xavier_init(3, 3, rng=r, gain=0.0), "gain"),
        (lambda r: he_init(-1, 3, rng=r), "fan_in"),
        (lambda r: he_init(3, 3, rng=r, distribution="truncated"), "distribution"),
    ],
)
def test_bad_input(call: object, match: str, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=match):
        call(rng)  # type: ignore[operator]
