r"""Speculative decoding: a cheap draft model proposes, the target model accepts or corrects.

A draft token $x \sim q$ is kept with probability $\min(1, p(x)/q(x))$; otherwise a replacement
is drawn from the residual $\operatorname{norm}(\max(0, p - q))$. The token that comes out is
distributed exactly as $p$, whatever $q$ is (Leviathan et al. 2023; Chen et al. 2023); a good
draft only makes acceptance, and so speed, more likely. With $\gamma$ drafted tokens per call of
the target, one call yields between 1 and $\gamma + 1$ tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    as_float_array,
    as_int_array,
    check_positive_int,
    check_real,
    check_rng,
    guard,
)
from llmath.decoding._calls import call_model, check_model, check_prefix_in_range, prefix_ids
from llmath.probability.information import check_distribution

__all__ = [
    "acceptance_rate",
    "expected_tokens_per_step",
    "residual_distribution",
    "speculative_decode",
    "speculative_step",
]


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pp = check_distribution(as_float_array(p, name="p", expected="(nV,)", ndim=1), name="p")
    qq = check_distribution(as_float_array(q, name="q", expected="(nV,)", ndim=1), name="q")
    if pp.shape != qq.shape:
        raise ValueError(f"p and q must have the same shape (nV,); got {pp.shape} and {qq.shape}")
    return pp, qq


@guard
def acceptance_rate(p: ArrayLike, q: ArrayLike) -> float:
    r"""The probability that a draft $x \sim q$ is accepted: $\alpha = \sum_x \min(p(x), q(x))$.

    $$
    \alpha = \sum_x q(x) \min\Bigl(1, \frac{p(x)}{q(x)}\Bigr)
    = 1 - \tfrac12 \lVert p - q \rVert_1 ,
    $$

    one minus the total-variation distance: 1 exactly when $q = p$.

    Args:
        p: the target distribution, shape `(nV,)`.
        q: the draft distribution, shape `(nV,)`.

    Returns:
        $\alpha \in [0, 1]$.

    Raises:
        ValueError: if `p` or `q` is not a probability vector, or their shapes differ.

    Examples:
        >>> acceptance_rate([0.5, 0.5, 0.0], [0.25, 0.25, 0.5])
        0.5

    References:
        Leviathan et al. (2023), Sect. 3 (the acceptance rate and its relation to $p - q$).
    """
    pp, qq = _pair(p, q)
    return float(np.minimum(pp, qq).sum())


@guard
def residual_distribution(p: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    r"""The distribution a rejected draft is replaced from: $\operatorname{norm}(\max(0, p - q))$.

    $$
    r(x) = \frac{\max(0,\, p(x) - q(x))}{\sum_y \max(0,\, p(y) - q(y))}
    = \frac{\max(0,\, p(x) - q(x))}{1 - \alpha}.
    $$

    If $p = q$ the numerator is 0 everywhere, but then no draft is ever rejected; $p$ is returned.

    Args:
        p: the target distribution, shape `(nV,)`.
        q: the draft distribution, shape `(nV,)`.

    Returns:
        $r$, shape `(nV,)`.

    Raises:
        ValueError: if `p` or `q` is not a probability vector, or their shapes differ.

    Examples:
        >>> residual_distribution([0.5, 0.5, 0.0], [0.25, 0.25, 0.5])
        array([0.5, 0.5, 0. ])

    References:
        Leviathan et al. (2023), Sect. 2.3; Chen et al. (2023), Algorithm 2.
    """
    pp, qq = _pair(p, q)
    excess = np.maximum(pp - qq, 0.0)  # (nV,)
    total = excess.sum()
    return pp.copy() if total <= 0 else excess / total


@guard
# --8<-- [start:step]
def speculative_step(
    p: ArrayLike, q: ArrayLike, *, rng: np.random.Generator, draft: int | None = None
) -> tuple[int, bool]:
    # --8<-- [end:step]
    r"""One draft token checked against the target: accept with $\min(1, p/q)$, else resample.

    For every token $x$ the output probability is

    $$
    \begin{aligned}
    P(x) &= q(x) \min\Bigl(1, \tfrac{p(x)}{q(x)}\Bigr)
       + (1 - \alpha)\, r(x) \\
    &= \min(p(x), q(x)) + \max(0, p(x) - q(x)) \\
    &= p(x),
    \end{aligned}
    $$

    with $\alpha$ from [acceptance_rate][llmath.decoding.speculative.acceptance_rate] and $r$ from
    [residual_distribution][llmath.decoding.speculative.residual_distribution].

    Args:
        p: the target distribution, shape `(nV,)`.
        q: the draft distribution, shape `(nV,)`.
        rng: the source of randomness.
        draft: the drafted token if already drawn from `q` (else one is drawn here).

    Returns:
        The output token and whether the draft was accepted.

    Raises:
        ValueError: if `p` or `q` is not a probability vector, their shapes differ, or `draft`
            is not an id in `[0, nV)` with $q(\text{draft}) > 0$.

    Examples:
        >>> import numpy as np
        >>> speculative_step([0.0, 1.0], [0.5, 0.5], rng=np.random.default_rng(0), draft=1)
        (1, True)
        >>> speculative_step([0.0, 1.0], [0.5, 0.5], rng=np.random.default_rng(0), draft=0)
        (1, False)

    References:
        Leviathan et al. (2023), Sect. 2.3 and Appendix A.1; Chen et al. (2023), Theorem 1.
    """
    pp, qq = _pair(p, q)
    gen = check_rng(rng)
    # --8<-- [start:accept]
    if draft is None:
        x = int(gen.choice(len(qq), p=qq))  # the draft model's proposal
    else:
        x = int(as_int_array(draft, name="draft", expected="()", high=len(qq)))
        if qq[x] <= 0:
            raise ValueError(f"draft must be a token q can propose; q[{x}] = 0")
    if gen.random() * qq[x] < pp[x]:  # u < p(x)/q(x), without dividing
        return x, True
    excess = np.maximum(pp - qq, 0.0)  # (nV,): where p exceeds q
    return int(gen.choice(len(pp), p=excess / excess.sum())), False
    # --8<-- [end:accept]


def expected_tokens_per_step(alpha: float, gamma: int) -> float:
    r"""Expected tokens one target call yields with $\gamma$ drafts and acceptance rate $\alpha$.

    If each draft is accepted independently with probability $\alpha$, a call yields the
    accepted drafts up to the first rejection plus one token from the target (the correction,
    or a bonus token after $\gamma$ acceptances):

    $$
    \mathbb{E}[N] = \sum_{i=0}^{\gamma} \alpha^{i}
    = \frac{1 - \alpha^{\gamma + 1}}{1 - \alpha},
    $$

    which is $\gamma + 1$ at $\alpha = 1$.

    Args:
        alpha: $\alpha \in [0, 1]$.
        gamma: $\gamma \ge 1$ drafted tokens per call.

    Returns:
        $\mathbb{E}[N] \in [1, \gamma + 1]$.

    Raises:
        ValueError: if `alpha` is outside [0, 1] or `gamma` < 1.

    Examples:
        >>> expected_tokens_per_step(0.8, 4)
        3.3616
        >>> expected_tokens_per_step(1.0, 4)
        5.0

    References:
        Leviathan et al. (2023), Sect. 3, Eq. (1).
    """
    a = check_real(alpha, name="alpha", at_least=0.0, at_most=1.0)
    g = check_positive_int(gamma, name="gamma")
    return float(round(sum(a**i for i in range(g + 1)), 12))


def _dist(
    fn: Callable[[Sequence[int]], ArrayLike], ids: list[int], name: str, nV: int | None
) -> NDArray[np.float64]:
    raw = call_model(fn, ids, name)
    d = check_distribution(as_float_array(raw, name=name, expected="(nV,)", ndim=1), name=name)
    if nV is not None and d.shape[0] != nV:
        raise ValueError(f"{name} returned {d.shape[0]} probabilities; the other model {nV}")
    return d


@guard
def speculative_decode(
    target: Callable[[Sequence[int]], ArrayLike],
    draft: Callable[[Sequence[int]], ArrayLike],
    prefix: ArrayLike,
    *,
    gamma: int,
    rng: np.random.Generator,
) -> tuple[list[int], int]:
    r"""One round of speculative decoding: $\gamma$ drafts, then one (parallel) target check.

    The draft model proposes $x_1, \dots, x_\gamma$ autoregressively; the target's
    distributions $p_1, \dots, p_{\gamma+1}$ after each draft prefix are what one forward pass
    of the target computes. Drafts are accepted in order with
    [speculative_step][llmath.decoding.speculative.speculative_step]; at the first rejection the
    residual's token ends the round; if all $\gamma$ are accepted a bonus token is drawn from
    $p_{\gamma+1}$. The tokens produced are distributed as sampling from the target alone.

    Args:
        target: ids so far to the target's next-token probabilities, shape `(nV,)`.
        draft: ids so far to the draft's next-token probabilities, shape `(nV,)`.
        prefix: the ids so far, shape `(T,)`, possibly empty.
        gamma: $\gamma \ge 1$, drafts per round.
        rng: the source of randomness.

    Returns:
        The new tokens (1 to $\gamma + 1$ of them) and the number of accepted drafts.

    Raises:
        ValueError: if `gamma` < 1, an id is out of range, or a model returns anything but a
            probability vector of shape `(nV,)`.

    Examples:
        >>> import numpy as np
        >>> same = lambda ids: [0.5, 0.5]
        >>> new, accepted = speculative_decode(same, same, [], gamma=3, rng=np.random.default_rng(1))
        >>> len(new), accepted  # a perfect draft: all 3 accepted plus a bonus token
        (4, 3)

    References:
        Leviathan et al. (2023), Algorithm 1; Chen et al. (2023), Algorithm 2.
    """
    check_model(target, "target")
    check_model(draft, "draft")
    g = check_positive_int(gamma, name="gamma")
    gen = check_rng(rng)
    ids = prefix_ids(prefix)
    # --8<-- [start:decode]
    drafts: list[int] = []
    qs: list[NDArray[np.float64]] = []
    for _ in range(g):  # the draft model runs alone, gamma times
        q = _dist(draft, ids + drafts, "draft", None)  # (nV,)
        qs.append(q)
        drafts.append(int(gen.choice(len(q), p=q)))
    nV = len(qs[0])
    check_prefix_in_range(ids, nV)
    ps = [_dist(target, ids + drafts[:i], "target", nV) for i in range(g + 1)]
    for i in range(g):  # one target pass scores every draft prefix
        token, accepted = speculative_step(ps[i], qs[i], rng=gen, draft=drafts[i])
        if not accepted:
            return [*drafts[:i], token], i
    bonus = int(gen.choice(len(ps[g]), p=ps[g]))  # all accepted: one more from p
    return [*drafts, bonus], g
    # --8<-- [end:decode]
