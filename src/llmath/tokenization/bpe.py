r"""Byte-pair encoding (Sennrich et al. 2016, Algorithm 1): learn merges from word counts, apply them.

Training starts from each word spelled as characters plus an end-of-word symbol and repeats:
count every adjacent pair of symbols, weighted by the word's frequency,

$$
c(x, y) = \sum_w f_w \sum_i
\mathbb{1}[s_i = x \wedge s_{i+1} = y],
$$

merge the most frequent pair everywhere, and record it. **Overlapping pairs.** The count is
taken over all positions, as in Sennrich et al.'s reference code, Hugging Face `tokenizers` and
minbpe: the word `a a a` contributes 2 to $c(a, a)$. A merge is then applied left to right
without overlap, so `a a a` becomes `aa a`: one merge, not two. The count is an upper bound on the
number of symbols a merge removes, exact when no occurrence overlaps another.

**Ties.** Several pairs can share the largest count (the textbook corpus has ties at the first
merge), and the learned merges depend on how a tie is broken: `tie_break="first"` takes the
pair that occurs first in the corpus (words in the mapping's order, positions left to right;
this is what Sennrich et al.'s code does with an insertion-ordered dict), `"lexicographic"`
the smallest pair in Python's string order.

**Cost.** This is the naive algorithm: every merge recounts every pair of the corpus, so
training costs $O(M \cdot N)$ for $M$ merges over $N$ symbols. Real trainers (Hugging Face
`tokenizers`, [ByteLevelBPE.train][llmath.tokenization.byte_level.ByteLevelBPE.train]) count
once, keep the counts in a priority queue and, after each merge, update only the words that
contain the merged pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import NamedTuple

from llmath._checks import check_choice, check_positive_int

__all__ = ["BPEResult", "bpe_decode", "bpe_encode", "bpe_train"]

Pair = tuple[str, str]


class BPEResult(NamedTuple):
    """What [bpe_train][llmath.tokenization.bpe.bpe_train] learned.

    Attributes:
        merges: the merges in the order learned, each a pair `(x, y)` that becomes `x + y`.
        counts: the pair count $c(x, y)$ of each merge when it was chosen.
        segmentation: every training word spelled in the final symbols.
    """

    merges: list[tuple[str, str]]
    counts: list[int]
    segmentation: dict[str, tuple[str, ...]]


def _check_str(value: object, *, name: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str; got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    return value


def _check_word_freqs(word_freqs: object) -> dict[str, int]:
    if not isinstance(word_freqs, Mapping) or not word_freqs:
        raise ValueError(
            f"word_freqs must be a non-empty mapping from words to counts; got {word_freqs!r:.40}"
        )
    out = {}
    for word, f in word_freqs.items():
        if not isinstance(word, str) or not word:
            raise ValueError(f"word_freqs keys must be non-empty strings; got {word!r:.40}")
        if isinstance(f, bool) or not isinstance(f, int) or f < 1:
            raise ValueError(f"word_freqs[{word!r}] must be a positive integer count; got {f!r}")
        out[word] = int(f)
    return out


def _check_merges(merges: object) -> list[Pair]:
    if isinstance(merges, str | bytes) or not isinstance(merges, Sequence):
        raise ValueError(f"merges must be a sequence of (str, str) pairs; got {merges!r:.40}")
    for m in merges:
        if not (
            isinstance(m, tuple | list) and len(m) == 2 and all(isinstance(s, str) and s for s in m)
        ):
            raise ValueError(f"merges must hold pairs of non-empty strings; got {m!r:.40}")
    return [(m[0], m[1]) for m in merges]


# --8<-- [start:count-pairs]
def _count_pairs(words: dict[tuple[str, ...], int]) -> dict[Pair, int]:
    """c(x, y): every adjacent position counts, weighted by the word's frequency."""
    counts: dict[Pair, int] = {}  # insertion order = first occurrence
    for symbols, f in words.items():
        for pair in pairwise(symbols):
            counts[pair] = counts.get(pair, 0) + f
    return counts


# --8<-- [end:count-pairs]


# --8<-- [start:merge-pair]
def _merge_pair(symbols: tuple[str, ...], pair: Pair) -> tuple[str, ...]:
    """Replace each occurrence of `pair`, left to right, without overlap."""
    out, i = [], 0
    while i < len(symbols):
        if symbols[i : i + 2] == pair:
            out.append(pair[0] + pair[1])
            i += 2  # skip the second symbol: "a a a" -> "aa a"
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


# --8<-- [end:merge-pair]


def _spell(word: str, end_of_word: str) -> tuple[str, ...]:
    return (*word, end_of_word) if end_of_word else tuple(word)


def bpe_train(
    word_freqs: Mapping[str, int],
    num_merges: int,
    *,
    tie_break: str = "first",
    end_of_word: str = "</w>",
) -> BPEResult:
    r"""Learn `num_merges` byte-pair merges from word frequencies (naive, recounting every time).

    $$
    (x, y)^\star = \arg\max_{(x, y)} c(x, y)
    $$

    with $c$ counted over every position (overlapping pairs included) and weighted by the
    frequencies; each merge is applied left to right without overlap. Training stops early
    if no pair is left (every word is one symbol).

    Args:
        word_freqs: words (non-empty strings) and their positive integer counts; the mapping's
            order is the corpus order used by `tie_break="first"`.
        num_merges: the number of merges $M \ge 0$ to learn.
        tie_break: `"first"` (the tied pair occurring first in the corpus) or `"lexicographic"`
            (the smallest tied pair in string order).
        end_of_word: the symbol appended to every word (`"</w>"`), or `""` for none.

    Returns:
        The merges in order, the count of each when chosen, and each word's final symbols.

    Raises:
        ValueError: for an empty mapping, a non-positive or non-integer count, a negative
            `num_merges` or an unknown `tie_break`.

    Examples:
        >>> r = bpe_train({"low": 5, "lower": 2}, 3)
        >>> r.merges, r.counts
        ([('l', 'o'), ('lo', 'w'), ('low', '</w>')], [7, 7, 5])
        >>> r.segmentation["lower"]
        ('low', 'e', 'r', '</w>')

    Sennrich, Haddow and Birch (2016), Sect. 3.2 and Algorithm 1.
    """
    freqs = _check_word_freqs(word_freqs)
    n = check_positive_int(num_merges, name="num_merges", at_least=0)
    rule = check_choice(tie_break, name="tie_break", choices=("first", "lexicographic"))
    eow = _check_str(end_of_word, name="end_of_word", allow_empty=True)
    words: dict[tuple[str, ...], int] = {}
    for w, f in freqs.items():
        words[_spell(w, eow)] = words.get(_spell(w, eow), 0) + f
    merges: list[Pair] = []
    counts: list[int] = []
    # --8<-- [start:train-loop]
    for _ in range(n):
        pairs = _count_pairs(words)  # O(N): the whole corpus, every merge
        if not pairs:
            break  # every word is a single symbol
        top = max(pairs.values())
        tied = [p for p, c in pairs.items() if c == top]  # in order of first occurrence
        best = tied[0] if rule == "first" else min(tied)
        words = {_merge_pair(s, best): f for s, f in words.items()}
        merges.append(best)
        counts.append(top)
    # --8<-- [end:train-loop]
    segmentation = {w: _apply_merges(_spell(w, eow), merges) for w in freqs}
    return BPEResult(merges, counts, segmentation)


def _apply_merges(symbols: tuple[str, ...], merges: Sequence[Pair]) -> tuple[str, ...]:
    """Apply `merges` in learned order to a sequence of symbols (no validation)."""
    # --8<-- [start:encode]
    for pair in merges:  # in the order they were learned
        if len(symbols) < 2:
            break
        symbols = _merge_pair(symbols, pair)
    # --8<-- [end:encode]
    return symbols


def bpe_encode(
    word: str, merges: Sequence[tuple[str, str]], *, end_of_word: str = "</w>"
) -> list[str]:
    r"""Segment a word by applying learned merges in the order they were learned.

    The word is spelled as characters plus `end_of_word`, then every merge, first to last, is
    applied left to right without overlap. A character never seen in training stays a symbol of
    its own (there is no unknown token here). For merges learned by
    [bpe_train][llmath.tokenization.bpe.bpe_train] this gives the same result as GPT-2's rule
    (repeatedly merge the adjacent pair of lowest rank), because a merge only creates pairs
    that contain its new symbol, which were learned later.

    Args:
        word: one word, a non-empty string.
        merges: the merges in learned order, pairs of non-empty strings.
        end_of_word: the end-of-word symbol used in training, or `""`.

    Returns:
        The word's symbols, `(n,)` strings whose concatenation is `word + end_of_word`.

    Raises:
        ValueError: if `word` is not a non-empty string or `merges` is not a list of pairs.

    Examples:
        >>> bpe_encode("lowest", [("l", "o"), ("lo", "w"), ("e", "s"), ("es", "t")])
        ['low', 'est', '</w>']
    """
    w = _check_str(word, name="word")
    ms = _check_merges(merges)
    eow = _check_str(end_of_word, name="end_of_word", allow_empty=True)
    return list(_apply_merges(_spell(w, eow), ms))


def bpe_decode(tokens: Sequence[str], *, end_of_word: str = "</w>") -> str:
    r"""Join symbols back into text: each `end_of_word` ends a word (a space, none after the last).

    Args:
        tokens: the symbols of one or more encoded words, `(n,)` strings.
        end_of_word: the end-of-word symbol used in training, or `""` (then the symbols are
            simply concatenated).

    Returns:
        The words separated by single spaces.

    Raises:
        ValueError: if `tokens` is not a sequence of strings.

    Examples:
        >>> bpe_decode(["low", "</w>", "new", "est</w>"])
        'low newest'
    """
    if isinstance(tokens, str | bytes) or not isinstance(tokens, Sequence):
        raise ValueError(f"tokens must be a list of strings; got {tokens!r:.40}")
    bad = [t for t in tokens if not isinstance(t, str)]
    if bad:
        raise ValueError(f"tokens must be a list of strings; got {bad[0]!r:.40}")
    eow = _check_str(end_of_word, name="end_of_word", allow_empty=True)
    text = "".join(tokens)
    if not eow:
        return text
    return text.removesuffix(eow).replace(eow, " ")
