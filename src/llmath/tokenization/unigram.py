r"""The unigram language model tokenizer (Kudo 2018, SentencePiece): segmentation by Viterbi.

A unigram model gives every token $t$ of its vocabulary a probability $p(t)$ and scores a
segmentation $x = (t_1, \dots, t_m)$ of a string by the product $\prod_i p(t_i)$: the tokens are
independent draws, the number of tokens is not modelled. The tokenizer outputs the most probable
segmentation, found by dynamic programming over the string's positions (the Viterbi algorithm);
the same recursion with a sum instead of a max gives the probability of the string, summed over
all its segmentations. Training (EM over a shrinking vocabulary) is not reproduced here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

from llmath._checks import check_text

__all__ = ["unigram_log_likelihood", "unigram_segment"]


def _check_log_probs(log_probs: object) -> Mapping[str, float]:
    if not isinstance(log_probs, Mapping) or not log_probs:
        raise ValueError(
            f"log_probs must be a non-empty mapping from token to log-probability; got "
            f"{type(log_probs).__name__}{' (empty)' if isinstance(log_probs, Mapping) else ''}"
        )
    for token, lp in log_probs.items():
        if not isinstance(token, str) or not token:
            raise ValueError(f"log_probs' tokens must be non-empty strings; got {token!r}")
        ok = isinstance(lp, numbers.Real) and not isinstance(lp, bool)
        if not ok or not math.isfinite(float(lp)) or float(lp) > 0:
            raise ValueError(
                f"log_probs must map each token to a finite log-probability <= 0; "
                f"got {token!r}: {lp!r}"
            )
    return log_probs


# --8<-- [start:viterbi]
def _viterbi(
    text: str,
    log_probs: Mapping[str, float],
    max_len: int,
) -> list[tuple[float, int]]:
    """best[j] = (score of the best segmentation of text[:j], start of its last
    token)."""
    best = [(0.0, -1)] + [(-math.inf, -1)] * len(text)
    for j in range(1, len(text) + 1):
        for i in range(max(0, j - max_len), j):  # last token text[i:j]
            piece = text[i:j]
            if piece in log_probs and best[i][0] > -math.inf:
                score = best[i][0] + log_probs[piece]
                if score > best[j][0]:
                    best[j] = (score, i)
    return best
    # --8<-- [end:viterbi]


def unigram_segment(text: str, log_probs: Mapping[str, float]) -> tuple[list[str], float]:
    r"""The most probable segmentation of `text` under a unigram model, by Viterbi.

    With $\beta_0 = 0$ and, for every end position $j = 1, \dots, n$,

    $$
    \begin{aligned}
    \beta_j &= \max_{i < j,\ s_{i:j} \in V}
        \bigl(\beta_i + \log p(s_{i:j})\bigr),
    \end{aligned}
    $$

    $\beta_n$ is the log-probability of the best segmentation, recovered by following the
    maximising $i$ back from $n$. The work is $O(n L)$ dictionary look-ups for tokens of at most
    $L$ characters, against the $2^{n-1}$ segmentations a brute force would score. Ties go to the
    segmentation whose last token starts earliest (the first maximum found).

    Args:
        text: the string to segment (SentencePiece first replaces spaces by "▁").
        log_probs: token to $\log p(t) \le 0$.

    Returns:
        The tokens, in order, and their summed log-probability $\beta_n$ (0.0 for "").

    Raises:
        ValueError: if `text` is not a `str`, `log_probs` is not a non-empty mapping from
            non-empty strings to finite numbers $\le 0$, or no segmentation of `text` exists.

    Examples:
        >>> lp = {"a": -2.0, "b": -2.0, "ab": -3.0, "abb": -6.0}
        >>> unigram_segment("abb", lp)
        (['ab', 'b'], -5.0)

    References:
        Kudo (2018), Sect. 3.1; Kudo and Richardson (2018), SentencePiece.
    """
    s = check_text(text)
    table = _check_log_probs(log_probs)
    best = _viterbi(s, table, max(len(t) for t in table))
    if best[-1][0] == -math.inf:
        stuck = max(i for i, (b, _) in enumerate(best) if b > -math.inf)
        raise ValueError(
            f"text has no segmentation into tokens of log_probs: nothing covers {s[stuck:]!r}"
        )
    tokens, j = [], len(s)
    while j > 0:  # follow the back-pointers
        i = best[j][1]
        tokens.append(s[i:j])
        j = i
    return tokens[::-1], float(best[-1][0])


def unigram_log_likelihood(text: str, log_probs: Mapping[str, float]) -> float:
    r"""Log-probability of `text` under a unigram model, summed over all its segmentations.

    $$
    \begin{aligned}
    \alpha_j &= \log \sum_{i < j,\ s_{i:j} \in V}
        e^{\alpha_i + \log p(s_{i:j})},
    \end{aligned}
    $$

    the forward algorithm: Viterbi's recursion with log-sum-exp in place of max, so
    $\alpha_n \ge \beta_n$, with equality when one segmentation is the only one. This is the
    marginal likelihood that Kudo's EM maximises; the tokenizer itself outputs the Viterbi
    segmentation.

    Args:
        text: the string.
        log_probs: token to $\log p(t) \le 0$.

    Returns:
        $\alpha_n$, or $-\infty$ if `text` has no segmentation (0.0 for "").

    Raises:
        ValueError: if `text` is not a `str` or `log_probs` is not a non-empty mapping from
            non-empty strings to finite numbers $\le 0$.

    Examples:
        >>> lp = {"a": math.log(0.5), "b": math.log(0.25), "ab": math.log(0.25)}
        >>> round(math.exp(unigram_log_likelihood("ab", lp)), 4)  # 0.5 * 0.25 + 0.25
        0.375

    References:
        Kudo (2018), Sect. 3.1 (the marginal likelihood that EM maximises).
    """
    s = check_text(text)
    table = _check_log_probs(log_probs)
    max_len = max(len(t) for t in table)
    alpha = [0.0] + [-math.inf] * len(s)
    for j in range(1, len(s) + 1):
        terms: Sequence[float] = [
            alpha[i] + table[s[i:j]]
            for i in range(max(0, j - max_len), j)
            if s[i:j] in table and alpha[i] > -math.inf
        ]
        if terms:
            top = max(terms)
            alpha[j] = top + math.log(math.fsum(math.exp(t - top) for t in terms))
    return float(alpha[-1])
