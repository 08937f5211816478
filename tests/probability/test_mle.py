"""Maximum-likelihood and MAP estimates, against optimisers, torch and closed forms."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.optimize
import scipy.stats
import torch
from hypothesis import given

from llmath.probability.mle import (
    categorical_map,
    categorical_mle,
    gaussian_neg_log_posterior,
    map_linear_regression,
    negative_log_likelihood,
)

COUNTS = st.lists(st.integers(0, 50), min_size=2, max_size=8).filter(lambda c: sum(c) > 0)


def _maximise_on_simplex(log_density: object, v: int) -> np.ndarray:
    """Maximise a function of q over the simplex with scipy, through a softmax parametrisation."""

    def objective(z: np.ndarray) -> float:
        q = np.exp(z - z.max())
        return -log_density(q / q.sum())  # type: ignore[operator]

    res = scipy.optimize.minimize(objective, np.zeros(v), method="BFGS", options={"gtol": 1e-10})
    q = np.exp(res.x - res.x.max())
    return q / q.sum()


def test_mle_hand_value() -> None:
    np.testing.assert_array_equal(categorical_mle([3, 1, 0]), [0.75, 0.25, 0.0])


def test_mle_matches_numerical_maximisation() -> None:
    c = np.array([5.0, 2.0, 9.0, 1.0])
    q = _maximise_on_simplex(lambda q: float(c @ np.log(q)), 4)
    np.testing.assert_allclose(categorical_mle(c), q, atol=1e-6)


def test_map_matches_numerical_maximisation_of_dirichlet_posterior() -> None:
    c = np.array([5.0, 0.0, 9.0, 1.0])
    for alpha in (1.5, 2.0, 4.0):
        posterior = scipy.stats.dirichlet(c + alpha)
        q = _maximise_on_simplex(lambda q, p=posterior: float(p.logpdf(q)), 4)
        np.testing.assert_allclose(categorical_map(c, alpha), q, atol=1e-6)


def test_map_alpha_one_is_mle_and_add_k_is_alpha_k_plus_one() -> None:
    c = np.array([[4.0, 0.0, 1.0], [2.0, 2.0, 6.0]])
    np.testing.assert_allclose(categorical_map(c, 1.0), categorical_mle(c), rtol=1e-15)
    k = 0.5
    add_k = (c + k) / (c.sum(axis=-1, keepdims=True) + 3 * k)
    np.testing.assert_allclose(categorical_map(c, k + 1), add_k, rtol=1e-15)


@given(COUNTS, hnp.arrays(np.float64, 8, elements=st.floats(0.01, 1.0)))
def test_mle_minimises_the_nll(counts: list[int], w: np.ndarray) -> None:
    c = np.array(counts)
    obs = np.repeat(np.arange(len(c)), c)
    q_mle = categorical_mle(c)
    assert q_mle.sum() == pytest.approx(1.0, abs=1e-12)
    other = w[: len(c)] / w[: len(c)].sum()
    assert negative_log_likelihood(q_mle, obs) <= negative_log_likelihood(other, obs) + 1e-12


def test_nll_against_torch(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(3, 5, 7))
    targets = rng.integers(0, 7, size=(3, 5))
    q = torch.softmax(torch.from_numpy(logits), dim=-1)
    ref = torch.nn.functional.nll_loss(
        torch.log(q).reshape(-1, 7), torch.from_numpy(targets).reshape(-1)
    )
    assert negative_log_likelihood(q.numpy(), targets) == pytest.approx(float(ref), rel=1e-13)


def test_nll_shared_distribution_and_zero_probability() -> None:
    q = np.array([0.5, 0.25, 0.25, 0.0])
    assert negative_log_likelihood(q, [0, 0, 1, 2]) == pytest.approx(1.5 * np.log(2), rel=1e-15)
    assert negative_log_likelihood(q, [0, 3]) == np.inf


def test_ridge_against_augmented_least_squares_in_torch(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(15, 4)), rng.normal(size=15)
    noise_var, prior_var = 0.3, 2.0
    lam = noise_var / prior_var
    x_aug = torch.from_numpy(np.vstack([x, np.sqrt(lam) * np.eye(4)]))
    y_aug = torch.from_numpy(np.r_[y, np.zeros(4)])[:, None]
    ref = torch.linalg.lstsq(x_aug, y_aug).solution[:, 0].numpy()
    w = map_linear_regression(x, y, noise_var=noise_var, prior_var=prior_var)
    np.testing.assert_allclose(w, ref, rtol=1e-10)


def test_ridge_minimises_the_neg_log_posterior(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    kw = {"noise_var": 0.5, "prior_var": 0.2}
    res = scipy.optimize.minimize(
        lambda w: gaussian_neg_log_posterior(w, x, y, **kw),
        np.zeros(3),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-12},
    )
    np.testing.assert_allclose(map_linear_regression(x, y, **kw), res.x, atol=1e-8)


def test_ridge_tends_to_least_squares(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(
        map_linear_regression(x, y, noise_var=1.0, prior_var=1e12), ols, rtol=1e-9
    )


def test_neg_log_posterior_gradient_against_autograd(rng: np.random.Generator) -> None:
    x, y, w = rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)
    tw = torch.tensor(w, requires_grad=True)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss = ((ty - tx @ tw) ** 2).sum() / (2 * 0.7) + (tw**2).sum() / (2 * 1.3)
    loss.backward()
    value, grad = gaussian_neg_log_posterior(w, x, y, noise_var=0.7, prior_var=1.3)
    assert value == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(grad, tw.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: categorical_mle([1, -1]), "non-negative"),
        (lambda: categorical_mle([0, 0]), "sum to 0"),
        (lambda: categorical_mle(3), r"\(\.\.\., nV\)"),
        (lambda: categorical_mle([1, np.nan]), "finite"),
        (lambda: categorical_map([1, 2], 0.5), "alpha must be a finite number >= 1"),
        (lambda: categorical_map([1, 2], None), "alpha must be a real number >= 1; got None"),  # type: ignore[arg-type]
        (lambda: negative_log_likelihood([0.5, 0.5], [0, 2]), r"\[0, 2\)"),
        (lambda: negative_log_likelihood([0.5, 0.5], [0.0, 1.0]), "observations must be integers"),
        (lambda: negative_log_likelihood([0.5, 0.6], [0]), "sum to 1"),
        (lambda: negative_log_likelihood(np.full((2, 2), 0.5), [0, 1, 1]), "observations.shape"),
        (lambda: negative_log_likelihood([1.0], []), "observations must not be empty"),
        (lambda: map_linear_regression(np.eye(2), [1.0], noise_var=1, prior_var=1), r"N = 2"),
        (
            lambda: map_linear_regression(np.eye(2), [1.0, 2.0], noise_var=0, prior_var=1),
            "noise_var",
        ),
        (
            lambda: map_linear_regression(np.eye(2), [1.0, 2.0], noise_var=1, prior_var="1"),  # type: ignore[arg-type]
            "prior_var must be a real number > 0; got '1'",
        ),
        (
            lambda: gaussian_neg_log_posterior(
                [1.0], np.eye(2), [1.0, 2.0], noise_var=1, prior_var=1
            ),
            r"\(D,\)",
        ),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_examples_module_against_independent_computation() -> None:
    from examples.probability import maximum_likelihood as ex

    t = ex.tables()
    train, _ = ex.data()
    counts = np.bincount(train, minlength=6)
    np.testing.assert_array_equal(t["maximum-likelihood/probabilities"][0], counts)
    # NLL of each candidate = scipy's cross-entropy from the empirical distribution
    p_hat = counts / counts.sum()
    for row, q in zip(t["maximum-likelihood/candidates"], ex.candidates().values(), strict=True):
        assert row[1] == pytest.approx(scipy.stats.entropy(p_hat) + scipy.stats.entropy(p_hat, q))
        assert row[3] == pytest.approx(scipy.stats.entropy(p_hat, q), abs=1e-12)
        assert row[0] == pytest.approx(-np.mean(np.log(q[train])))
    # the Monte Carlo posterior mean agrees with the closed form (c + 1)/(T + V) to MC accuracy
    d = t["maximum-likelihood/dirichlet"]
    np.testing.assert_allclose(d[2], (counts + 1) / (counts.sum() + 6), atol=2e-3)
    x, y = ex.regression_data()
    ridge = t["maximum-likelihood/ridge"]
    np.testing.assert_allclose(ridge[-1, :3], scipy.linalg.lstsq(x, y)[0], rtol=1e-10)


# ---- extreme but finite inputs -----------------------------------------------------------------


def test_categorical_estimates_at_extreme_counts_and_alpha() -> None:
    np.testing.assert_allclose(categorical_mle([1e308, 1e308, 0.0]), [0.5, 0.5, 0.0], rtol=1e-15)
    # alpha = 1e308 swamps any count: the posterior mode is uniform (not 0 / inf = 0).
    np.testing.assert_allclose(
        categorical_map([3, 1, 0], alpha=1e308), np.full(3, 1 / 3), rtol=1e-15
    )
    np.testing.assert_allclose(
        categorical_map([1e308, 0.0], alpha=1e308), [2 / 3, 1 / 3], rtol=1e-15
    )


def test_ridge_at_extreme_prior_variances() -> None:
    x, y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 0.5])
    tiny = map_linear_regression(x, y, noise_var=1.0, prior_var=1e-320)  # lambda = 1e320
    assert np.isfinite(tiny).all() and np.abs(tiny).max() < 1e-300  # the prior pins w at 0
    huge = map_linear_regression(x, y, noise_var=1e-300, prior_var=1e300)  # least squares
    np.testing.assert_allclose(huge, np.linalg.lstsq(x, y, rcond=None)[0], rtol=1e-12)
