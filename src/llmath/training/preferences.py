r"""Learning from preferences: the Bradley–Terry loss, the KL-regularised optimum and DPO.

A reward model is fitted to pairwise comparisons with the Bradley–Terry likelihood; a policy is
then tuned to maximise reward while staying close to a reference policy,
$\max_\pi \mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi \,\|\, \pi_\text{ref})$, whose optimum has a
closed form; DPO substitutes that optimum back into the Bradley–Terry loss. Scores and
log-probabilities are float64 arrays; the losses are means over the `(N,)` comparison pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_real, guard
from llmath.probability.information import check_distribution, kl_divergence

__all__ = [
    "bradley_terry_loss",
    "dpo_loss",
    "kl_regularised_objective",
    "kl_regularised_policy",
    "kl_regularised_value",
]

Array = NDArray[np.float64]


def _same_shape(**arrays: Array) -> None:
    """Raise `ShapeError` naming every array unless all have the first one's shape."""
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        got = ", ".join(f"{name} {s}" for name, s in shapes.items())
        raise ShapeError(f"{', '.join(shapes)} must have the same shape (N,); got {got}")


def _log_sigmoid_mean(d: Array) -> float:
    r"""Return the mean of $-\log\sigma(d) = \log(1 + e^{-d})$, without overflow for any $d$."""
    return float(np.mean(np.logaddexp(0.0, -d)))


@guard
# --8<-- [start:bt]
def bradley_terry_loss(r_chosen: ArrayLike, r_rejected: ArrayLike) -> float:
    # --8<-- [end:bt]
    r"""Return the Bradley–Terry negative log-likelihood of observed pairwise preferences.

    The model says item $a$ is preferred to item $b$ with probability
    $P(a \succ b) = \sigma(r_a - r_b)$; over $N$ observed pairs (chosen $w_n$, rejected $l_n$)
    the mean negative log-likelihood is

    $$
    \mathcal{L} = -\frac{1}{N} \sum_{n=1}^{N} \log \sigma(r_{w_n} - r_{l_n}) .
    $$

    $-\log\sigma(d)$ is computed as `logaddexp(0, -d)`, which neither overflows for a large
    negative margin nor loses the small tail $e^{-d}$ for a large positive one.

    Args:
        r_chosen: scores $r_w$ of the preferred items, shape `(N,)` (any shape, matching
            `r_rejected`).
        r_rejected: scores $r_l$ of the rejected items, same shape.

    Returns:
        The mean loss, a float $> 0$; $\log 2$ when every margin is 0.

    Raises:
        ShapeError: if the shapes differ or the arrays are empty.
        ValueError: if an entry is not a finite real number, or a margin overflows float64.

    Examples:
        >>> round(bradley_terry_loss([0.0], [0.0]), 6)  # log 2
        0.693147
        >>> round(bradley_terry_loss([2.0, 1.0], [0.0, 1.5]), 6)
        0.550502

    Bradley and Terry, "Rank Analysis of Incomplete Block Designs" (1952), Eq. (1); Ouyang et
    al. (2022), Eq. (1).
    """
    # --8<-- [start:bt-body]
    rw = as_float_array(r_chosen, name="r_chosen", expected="(N,)")
    rl = as_float_array(r_rejected, name="r_rejected", expected="(N,)")
    _same_shape(r_chosen=rw, r_rejected=rl)
    return _log_sigmoid_mean(rw - rl)  # margin r_w - r_l, shape (N,)
    # --8<-- [end:bt-body]


def _policy_inputs(pi_ref: ArrayLike, reward: ArrayLike, beta: float) -> tuple[Array, Array, float]:
    p = check_distribution(pi_ref, name="pi_ref")
    r = as_float_array(reward, name="reward", expected="(..., nV)", min_ndim=1)
    b = check_real(beta, name="beta", above=0)
    if r.shape[-1] != p.shape[-1]:
        raise ShapeError(
            f"pi_ref and reward must have the same last axis nV; got {p.shape} and {r.shape}"
        )
    try:
        np.broadcast_shapes(p.shape, r.shape)
    except ValueError:
        raise ShapeError(f"pi_ref and reward must broadcast; got {p.shape} and {r.shape}") from None
    return p, r, b


def _scaled_logits(p: Array, r: Array, b: float) -> Array:
    r"""$\log \pi_\text{ref} + r/\beta$, with $-\infty$ where $\pi_\text{ref} = 0$."""
    with np.errstate(divide="ignore"):  # log 0 = -inf: such a token keeps probability 0
        return np.log(p) + r / b  # (..., nV)


@guard
# --8<-- [start:policy]
def kl_regularised_policy(
    pi_ref: ArrayLike,
    reward: ArrayLike,
    *,
    beta: float,
) -> Array:
    # --8<-- [end:policy]
    r"""Return the maximiser of $\mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi \,\|\, \pi_\text{ref})$.

    $$
    \pi^*(y) = \frac{\pi_\text{ref}(y)\, e^{r(y)/\beta}}{Z},
    \quad Z = \sum_{y} \pi_\text{ref}(y)\, e^{r(y)/\beta} .
    $$

    Computed as a softmax of $\log\pi_\text{ref} + r/\beta$ with the maximum subtracted, so a
    large $r/\beta$ cannot overflow; a token with $\pi_\text{ref}(y) = 0$ keeps probability 0.

    Args:
        pi_ref: the reference distribution $\pi_\text{ref}$, shape `(..., nV)`.
        reward: the rewards $r(y)$, shape `(..., nV)`, broadcasting against `pi_ref`.
        beta: the KL weight $\beta > 0$ (keyword-only).

    Returns:
        $\pi^*$, shape the broadcast of the two; each row sums to 1.

    Raises:
        ShapeError: if the last axes differ or the shapes do not broadcast.
        ValueError: if `pi_ref` is not a distribution, `reward` is not finite, or `beta` is
            not a real number $> 0$.

    Examples:
        >>> kl_regularised_policy([0.5, 0.5], [0.0, np.log(3.0)], beta=1.0)
        array([0.25, 0.75])

    Rafailov et al., "Direct Preference Optimization" (2023), Eq. (4).
    """
    # --8<-- [start:policy-body]
    p, r, b = _policy_inputs(pi_ref, reward, beta)
    s = _scaled_logits(p, r, b)  # (..., nV)
    s = s - s.max(axis=-1, keepdims=True)  # the largest term becomes e^0 = 1
    w = np.exp(s)  # (..., nV), exp(-inf) = 0 where pi_ref = 0
    return w / w.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]
    # --8<-- [end:policy-body]


@guard
# --8<-- [start:value]
def kl_regularised_value(pi_ref: ArrayLike, reward: ArrayLike, *, beta: float) -> Any:
    # --8<-- [end:value]
    r"""Return the optimal value $\beta \log Z$ of the KL-regularised objective.

    $$
    \max_\pi \mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi\,\|\,\pi_\text{ref})
    = \beta \log \sum_y \pi_\text{ref}(y)\, e^{r(y)/\beta} .
    $$

    A log-sum-exp with the maximum taken out, so it is exact for any $r/\beta$. It lies between
    $\mathbb{E}_{\pi_\text{ref}}[r]$ (Jensen) and $\max_{y:\,\pi_\text{ref}(y)>0} r(y)$.

    Args:
        pi_ref: the reference distribution, shape `(..., nV)`.
        reward: the rewards, shape `(..., nV)`.
        beta: the KL weight $\beta > 0$ (keyword-only).

    Returns:
        $\beta \log Z$, shape the broadcast leading axes `(...)`; a float for 1-D inputs.

    Raises:
        ShapeError: if the shapes do not match.
        ValueError: as for [kl_regularised_policy][llmath.training.preferences.kl_regularised_policy].

    Examples:
        >>> round(kl_regularised_value([0.5, 0.5], [0.0, np.log(3.0)], beta=1.0), 6)  # log 2
        0.693147
    """
    # --8<-- [start:value-body]
    p, r, b = _policy_inputs(pi_ref, reward, beta)
    s = _scaled_logits(p, r, b)  # (..., nV)
    m = s.max(axis=-1)  # (...), finite: some pi_ref(y) > 0
    log_z = m + np.log(np.exp(s - m[..., None]).sum(axis=-1))  # (...)
    out = b * log_z
    return float(out) if out.ndim == 0 else out
    # --8<-- [end:value-body]


@guard
def kl_regularised_objective(
    pi: ArrayLike, pi_ref: ArrayLike, reward: ArrayLike, *, beta: float
) -> Any:
    r"""Return $J(\pi) = \mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi\,\|\,\pi_\text{ref})$ in nats.

    The objective that [kl_regularised_policy][llmath.training.preferences.kl_regularised_policy]
    maximises; $J(\pi) = -\infty$ if $\pi$ puts mass where $\pi_\text{ref}$ has none.

    Args:
        pi: the policy $\pi$, shape `(..., nV)`.
        pi_ref: the reference distribution, shape `(..., nV)`.
        reward: the rewards, shape `(..., nV)`.
        beta: the KL weight $\beta > 0$ (keyword-only).

    Returns:
        $J(\pi)$, shape `(...)`; a float for 1-D inputs.

    Raises:
        ShapeError: if the shapes do not match.
        ValueError: if `pi` or `pi_ref` is not a distribution, `reward` is not finite, or
            `beta` is not a real number $> 0$.

    Examples:
        >>> kl_regularised_objective([0.5, 0.5], [0.5, 0.5], [1.0, 3.0], beta=0.1)
        2.0
    """
    q = check_distribution(pi, name="pi")
    p, r, b = _policy_inputs(pi_ref, reward, beta)
    if q.shape[-1] != p.shape[-1]:
        raise ShapeError(f"pi and pi_ref must have the same last axis nV; got {q.shape}, {p.shape}")
    expected = np.sum(q * r, axis=-1)  # (...)
    out = expected - b * np.asarray(kl_divergence(q, p))
    return float(out) if out.ndim == 0 else out


@guard
# --8<-- [start:dpo]
def dpo_loss(
    logp_chosen: ArrayLike,
    logp_rejected: ArrayLike,
    ref_logp_chosen: ArrayLike,
    ref_logp_rejected: ArrayLike,
    *,
    beta: float,
) -> float:
    # --8<-- [end:dpo]
    r"""Return the DPO loss: Bradley–Terry on the implicit rewards $\beta\log(\pi/\pi_\text{ref})$.

    $$
    \begin{aligned}
    \hat r(y) &= \beta\,\big(\log\pi(y) - \log\pi_\text{ref}(y)\big), \\
    \mathcal{L} &= -\frac1N \sum_n \log\sigma\big(\hat r(w_n) - \hat r(l_n)\big) .
    \end{aligned}
    $$

    The log-probabilities are those of whole responses (sums over their tokens), so each is
    $\le 0$. Computed with the same stable $\log(1 + e^{-d})$ as the Bradley–Terry loss.

    Args:
        logp_chosen: $\log\pi(w_n)$ under the policy being trained, shape `(N,)`.
        logp_rejected: $\log\pi(l_n)$, shape `(N,)`.
        ref_logp_chosen: $\log\pi_\text{ref}(w_n)$, shape `(N,)`.
        ref_logp_rejected: $\log\pi_\text{ref}(l_n)$, shape `(N,)`.
        beta: the KL weight $\beta > 0$ of the objective DPO is derived from (keyword-only).

    Returns:
        The mean loss, a float; $\log 2$ when the policy equals the reference.

    Raises:
        ShapeError: if the four shapes differ or the arrays are empty.
        ValueError: if a log-probability is positive, NaN or infinite, or `beta` is not a real
            number $> 0$.

    Examples:
        >>> round(dpo_loss([-1.0], [-2.0], [-1.0], [-2.0], beta=0.1), 6)  # policy = reference
        0.693147
        >>> round(dpo_loss([-1.0], [-3.0], [-1.5], [-2.0], beta=1.0), 6)  # margin 1.5
        0.201413

    Rafailov et al., "Direct Preference Optimization" (2023), Eq. (7).
    """
    # --8<-- [start:dpo-body]
    logps = {}
    for name, x in (
        ("logp_chosen", logp_chosen),
        ("logp_rejected", logp_rejected),
        ("ref_logp_chosen", ref_logp_chosen),
        ("ref_logp_rejected", ref_logp_rejected),
    ):
        a = as_float_array(x, name=name, expected="(N,)")
        if (a > 0).any():
            top = a.max()
            raise ValueError(f"{name} must hold log-probabilities (<= 0); got {top!r}")
        logps[name] = a
    _same_shape(**logps)
    b = check_real(beta, name="beta", above=0)
    r_w = b * (logps["logp_chosen"] - logps["ref_logp_chosen"])  # (N,) implicit rewards
    r_l = b * (logps["logp_rejected"] - logps["ref_logp_rejected"])  # (N,)
    return _log_sigmoid_mean(r_w - r_l)
    # --8<-- [end:dpo-body]
