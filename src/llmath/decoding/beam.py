r"""Beam search: keep the `beam_width` most probable prefixes, extend each by every token.

Greedy decoding is beam search with width 1. Neither finds the most probable sequence in general:
a prefix pruned early can have the best continuation. Sequences end with the end-of-sequence
token `eos` or after `max_new_tokens` tokens; finished sequences are ranked by their total log-
probability, optionally divided by a length penalty, since every extra token lowers the sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    as_float_array,
    check_choice,
    check_positive_int,
    check_real,
    guard,
)
from llmath.decoding._calls import call_model, check_model, check_prefix_in_range, prefix_ids

__all__ = ["BeamResult", "beam_search", "length_penalty"]

_NORM_TOL = 1e-9  # |log sum exp(log p) | above this: not a distribution


class BeamResult(NamedTuple):
    """Finished sequences, best first: new tokens only (the prefix is not repeated)."""

    sequences: list[list[int]]
    scores: NDArray[np.float64]  # (beam_width,): log p / lp(length), the ranking key
    log_probs: NDArray[np.float64]  # (beam_width,): log p of each sequence given the prefix


def length_penalty(length: int, *, alpha: float, kind: str = "wu") -> float:
    r"""The divisor $\mathrm{lp}(n)$ of a length-normalised beam score $\log p / \mathrm{lp}(n)$.

    $$
    \mathrm{lp}_{\text{wu}}(n) = \Bigl(\frac{5 + n}{6}\Bigr)^{\alpha},
    \qquad \mathrm{lp}_{\text{power}}(n) = n^{\alpha}.
    $$

    $\alpha = 0$ gives 1 (the raw log-probability); with `"power"`, $\alpha = 1$ ranks by the
    mean log-probability per token (Hugging Face's `length_penalty`).

    Args:
        length: $n \ge 1$, the number of generated tokens, end-of-sequence included.
        alpha: $\alpha \ge 0$.
        kind: `"wu"` (Wu et al. 2016, Eq. 14) or `"power"`.

    Returns:
        $\mathrm{lp}(n) \ge 1$.

    Raises:
        ValueError: if `length` < 1, `alpha` is not a finite number >= 0 or `kind` is unknown.

    Examples:
        >>> length_penalty(7, alpha=1.0)
        2.0
        >>> length_penalty(4, alpha=0.5, kind="power")
        2.0
    """
    n = check_positive_int(length, name="length")
    a = check_real(alpha, name="alpha", at_least=0.0)
    if check_choice(kind, name="kind", choices=("wu", "power")) == "wu":
        return float(((5.0 + n) / 6.0) ** a)
    return float(float(n) ** a)


def _log_probs(
    fn: Callable[[Sequence[int]], ArrayLike], ids: list[int], nV: int | None
) -> NDArray[np.float64]:
    """Call the model and check that it returned log-probabilities of shape (nV,)."""
    raw = call_model(fn, ids, "next_log_probs")
    lp = as_float_array(raw, name="next_log_probs", expected="(nV,)", ndim=1, finite=False)
    if np.isposinf(lp).any():
        raise ValueError("next_log_probs returned +inf; log-probabilities are <= 0")
    if nV is not None and lp.shape[0] != nV:
        raise ValueError(f"next_log_probs returned {lp.shape[0]} entries, earlier {nV}")
    top = lp.max()
    total = top + math.log(float(np.exp(lp - top).sum())) if top > -np.inf else -np.inf
    if not abs(total) <= _NORM_TOL:
        raise ValueError(
            f"next_log_probs must return log-probabilities (log sum exp = 0); got {total!r}"
        )
    return lp


@guard
def beam_search(
    next_log_probs: Callable[[Sequence[int]], ArrayLike],
    prefix: ArrayLike,
    *,
    beam_width: int,
    max_new_tokens: int,
    eos: int | None = None,
    alpha: float = 0.0,
    penalty: str = "wu",
) -> BeamResult:
    r"""Beam search for a high-probability continuation of `prefix`.

    At each step every live prefix $y_{1:t}$ is extended by every token $v$ with
    $\log p(y_{1:t}, v) = \log p(y_{1:t}) + \log p(v \mid y_{1:t})$, and the `beam_width` best
    extensions survive (ties: the lexicographically smaller sequence). An extension ending in
    `eos` is finished and leaves the beam; after `max_new_tokens` steps the live ones finish too.
    Finished sequences are ranked by

    $$
    \mathrm{score}(y) = \frac{\log p(y)}{\mathrm{lp}(|y|)},
    $$

    with [length_penalty][llmath.decoding.beam.length_penalty] (1 when $\alpha = 0$). Pruning
    uses the raw sum; only the final ranking is normalised (as in Wu et al. 2016).

    Args:
        next_log_probs: maps the ids so far (prefix then generated) to next-token
            log-probabilities, shape `(nV,)`; $-\infty$ marks an impossible token.
        prefix: the prompt ids, shape `(T,)`, possibly empty.
        beam_width: $k \ge 1$, prefixes kept per step.
        max_new_tokens: the longest continuation.
        eos: the end-of-sequence id, or None (every sequence runs `max_new_tokens`).
        alpha: the length-penalty exponent $\alpha \ge 0$.
        penalty: `"wu"` or `"power"`, the form of $\mathrm{lp}$.

    Returns:
        A [BeamResult][llmath.decoding.beam.BeamResult] with up to `beam_width`
            finished sequences, best score first.

    Raises:
        ValueError: if `beam_width` or `max_new_tokens` < 1, an id is out of range, `alpha`
            < 0, or `next_log_probs` returns anything but log-probabilities of shape `(nV,)`.

    Examples:
        >>> import numpy as np
        >>> table = np.log([[0.6, 0.4], [0.1, 0.9]])  # next token given the last one
        >>> r = beam_search(lambda ids: table[ids[-1]], [0], beam_width=2, max_new_tokens=2)
        >>> r.sequences, np.exp(r.log_probs).round(2)
        ([[1, 1], [0, 0]], array([0.36, 0.36]))

    References:
        Wu et al. (2016), Sect. 7, Eq. 14 (the length penalty).
    """
    check_model(next_log_probs, "next_log_probs")
    k = check_positive_int(beam_width, name="beam_width")
    steps = check_positive_int(max_new_tokens, name="max_new_tokens")
    start = prefix_ids(prefix)
    a = check_real(alpha, name="alpha", at_least=0.0)
    check_choice(penalty, name="penalty", choices=("wu", "power"))
    if eos is not None:
        eos = check_positive_int(eos, name="eos", at_least=0)
    nV = _log_probs(next_log_probs, start, None).shape[0]
    check_prefix_in_range(start, nV)
    if eos is not None and eos >= nV:
        raise ValueError(f"eos must lie in [0, nV) = [0, {nV}); got {eos}")
    # --8<-- [start:loop]
    alive: list[tuple[float, list[int]]] = [(0.0, [])]  # (log p, generated ids)
    finished: list[tuple[float, list[int]]] = []
    for _ in range(steps):
        candidates = []
        for logp, seq in alive:
            lp = _log_probs(next_log_probs, start + seq, nV)  # (nV,)
            ok = [v for v in range(nV) if lp[v] > -np.inf]
            candidates += [(logp + lp[v], [*seq, v]) for v in ok]
        # best first; ties: the smaller sequence
        candidates.sort(key=lambda c: (-c[0], c[1]))
        alive = []
        for logp, seq in candidates[:k]:
            (finished if seq[-1] == eos else alive).append((logp, seq))
        if not alive:
            break
    finished += alive  # the length limit ends the rest
    # --8<-- [end:loop]

    def score(c: tuple[float, list[int]]) -> float:
        return c[0] / length_penalty(len(c[1]), alpha=a, kind=penalty)

    best = sorted(finished, key=lambda c: (-score(c), c[1]))[:k]
    return BeamResult(
        [s for _, s in best],
        np.array([score(c) for c in best]),
        np.array([lp for lp, _ in best]),
    )
