"""The capstone's cached training run is honest: a fresh run of a few steps reproduces the cached
trajectory's first steps exactly, and a short run is a prefix of a long one (the schedule depends
on the planned number of steps, not on how many are run)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from examples.cached import result_key, results_dir
from examples.capstone import lm_run, train_lm

FEW = 3


def _cached_run() -> lm_run.Run | None:
    """The stored result of train_lm.trained(), if the build cache holds one for this code."""
    folder = results_dir()
    if folder is None:
        return None
    fn = train_lm.trained.uncached  # type: ignore[attr-defined]
    key = result_key(fn, (), {})
    path = folder / f"{fn.__module__}.{fn.__qualname__}-{key[:32]}.pickle"
    if not path.is_file():
        return None
    with path.open("rb") as f:
        run: lm_run.Run = pickle.load(f)
    return run


def test_a_short_run_is_a_prefix_of_a_longer_one() -> None:
    short, longer = lm_run.run(FEW), lm_run.run(FEW + 2)
    np.testing.assert_array_equal(short.train_loss, longer.train_loss[:FEW])
    np.testing.assert_array_equal(short.grad_norm, longer.grad_norm[:FEW])
    np.testing.assert_array_equal(short.lr, longer.lr[:FEW])


def test_the_cached_run_starts_like_a_fresh_one() -> None:
    cached = _cached_run()
    if cached is None:
        pytest.skip("no cached run for this code yet (the cache is off, or no page computed it)")
    fresh = lm_run.run(FEW)
    assert len(cached.train_loss) == lm_run.STEPS
    np.testing.assert_array_equal(fresh.train_loss, cached.train_loss[:FEW])
    np.testing.assert_array_equal(fresh.grad_norm, cached.grad_norm[:FEW])
    for a, b in zip(lm_run.copy_params(fresh.init_params), cached.init_params, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


def test_initial_weights_and_data_do_not_depend_on_the_run() -> None:
    a, b = lm_run.initial_params(), lm_run.initial_params()
    np.testing.assert_array_equal(a.wte, b.wte)
    np.testing.assert_array_equal(lm_run.batches(np.random.default_rng(0), 2),
                                  lm_run.batches(np.random.default_rng(0), 2))  # fmt: skip
