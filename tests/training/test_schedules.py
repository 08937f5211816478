"""Tests for llmath.training.schedules: torch's LinearLR + CosineAnnealingLR (SequentialLR) and
clip_grad_norm_ as oracles, hand-checkable values, Hypothesis invariants and bad input."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given

from llmath._checks import ShapeError
from llmath.training.schedules import clip_grad_norm, cosine_schedule

# ---------------------------------------------------------------- cosine_schedule


def torch_schedule(max_lr: float, warmup: int, total: int, min_lr: float, n: int) -> list[float]:
    """The learning rates torch applies at steps 0..n-1: LinearLR for the warmup (factor
    (s+1)/W), then CosineAnnealingLR from max_lr to min_lr over total - W steps."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=max_lr)
    warm = torch.optim.lr_scheduler.LinearLR(
        opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1
    )
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[warmup])
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(
    ("max_lr", "warmup", "total", "min_lr"),
    [(6e-4, 10, 100, 6e-5), (1.0, 2, 7, 0.0), (0.1, 5, 6, 0.01), (3e-3, 50, 400, 0.0)],
)
def test_cosine_schedule_matches_torch_sequential_lr(
    max_lr: float, warmup: int, total: int, min_lr: float
) -> None:
    ours = [
        cosine_schedule(s, max_lr=max_lr, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
        for s in range(total + 1)
    ]
    np.testing.assert_allclose(
        ours, torch_schedule(max_lr, warmup, total, min_lr, total + 1), rtol=1e-12, atol=1e-15
    )


def test_cosine_schedule_hand_values() -> None:
    kw = {"max_lr": 1.0, "warmup_steps": 4, "total_steps": 8, "min_lr": 0.2}
    got = [cosine_schedule(s, **kw) for s in range(11)]  # type: ignore[arg-type]
    mid = 0.2 + 0.4 * (1 + math.cos(math.pi / 2))
    expected = [0.25, 0.5, 0.75, 1.0, 1.0, 0.2 + 0.4 * (1 + math.cos(math.pi / 4)), mid]
    np.testing.assert_allclose(got[:7], expected, rtol=1e-15)
    assert got[8:] == [0.2, 0.2, 0.2]  # min_lr from total_steps on


def test_no_warmup_starts_at_the_peak() -> None:
    assert cosine_schedule(0, max_lr=0.3, warmup_steps=0, total_steps=10) == 0.3
    assert cosine_schedule(10, max_lr=0.3, warmup_steps=0, total_steps=10) == 0.0


@given(st.integers(0, 50), st.integers(1, 100), st.floats(1e-6, 1.0), st.floats(0.0, 1.0))
def test_cosine_schedule_rises_then_falls_within_its_bounds(
    warmup: int, extra: int, max_lr: float, frac: float
) -> None:
    total, min_lr = warmup + extra, frac * max_lr
    lrs = np.array(
        [
            cosine_schedule(s, max_lr=max_lr, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
            for s in range(total + 3)
        ]
    )
    assert np.all(lrs <= max_lr * (1 + 1e-15)) and np.all(lrs >= 0)
    assert np.all(np.diff(lrs[:warmup]) > 0)  # warmup: increasing
    assert np.all(np.diff(lrs[warmup:]) <= 1e-15 * max_lr)  # decay: non-increasing
    assert np.all(lrs[total:] == min_lr)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"step": -1}, "step"),
        ({"max_lr": -0.1}, "max_lr"),
        ({"warmup_steps": -2}, "warmup_steps"),
        ({"total_steps": 3}, "total_steps"),  # fewer than the warmup
        ({"min_lr": 2.0}, "min_lr"),  # above max_lr
        ({"step": 1.0}, "step"),
    ],
)
def test_cosine_schedule_bad_input(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"step": 0, "max_lr": 1.0, "warmup_steps": 5, "total_steps": 10}
    with pytest.raises(ValueError, match=match):
        cosine_schedule(**{**args, **kw})  # type: ignore[arg-type]


# ---------------------------------------------------------------- clip_grad_norm


def torch_clip(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    ps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(ps, grads, strict=True):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    return [p.grad.numpy() for p in ps], float(total)  # type: ignore[union-attr]


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 5.0, 1e3])
def test_clip_grad_norm_matches_torch(max_norm: float, rng: np.random.Generator) -> None:
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 2, 2)) * 3]
    ours, total = clip_grad_norm(grads, max_norm)
    theirs, ref_total = torch_clip(grads, max_norm)
    assert total == pytest.approx(ref_total, rel=1e-14)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_clip_grad_norm_hand_value_and_no_mutation() -> None:
    g = [np.array([3.0]), np.array([0.0, 4.0])]
    clipped, total = clip_grad_norm(g, 2.5)
    assert total == 5.0
    np.testing.assert_allclose(clipped[0], [3.0 * 2.5 / (5 + 1e-6)], rtol=1e-15)
    np.testing.assert_array_equal(g[0], [3.0])  # copies: the input is unchanged


_grads = st.lists(
    hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-1e6, 1e6)), min_size=1, max_size=4
)


@given(_grads, st.floats(1e-3, 1e3))
def test_clipped_norm_is_at_most_max_norm_and_direction_is_kept(
    grads: list[np.ndarray], max_norm: float
) -> None:
    clipped, total = clip_grad_norm(grads, max_norm)
    flat, flat_c = np.concatenate(grads), np.concatenate(clipped)
    np.testing.assert_allclose(total, math.hypot(*flat), rtol=1e-12)  # no underflow either
    new = math.hypot(*flat_c)
    assert new <= max_norm * (1 + 1e-12)
    if total <= max_norm - 1e-6:  # below the threshold: untouched
        np.testing.assert_array_equal(flat_c, flat)
    else:  # one factor for all: the direction is kept
        np.testing.assert_allclose(flat_c, flat * (max_norm / (total + 1e-6)), rtol=1e-12)


def test_clip_grad_norm_extreme_magnitudes() -> None:
    _, total = clip_grad_norm([np.array([3e200, 4e200])], 1.0)  # squares would overflow
    assert total == pytest.approx(5e200, rel=1e-15)
    _, tiny = clip_grad_norm([np.array([3e-200]), np.array([4e-200])], 1.0)  # or underflow
    assert tiny == pytest.approx(5e-200, rel=1e-15)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([np.array([1.5e308, 1.5e308])], 1.0)


def test_clip_grad_norm_bad_input() -> None:
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([np.ones(2)], 0.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm(np.ones(2), 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([], 1.0)
    with pytest.raises(ShapeError, match=r"grads\[1\]"):
        clip_grad_norm([np.ones(2), np.ones(0)], 1.0)
