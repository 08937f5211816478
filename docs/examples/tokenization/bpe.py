"""Worked examples for the BPE chapter: Sennrich et al.'s corpus merge by merge under both
tie-breaking rules, the overlapping-pair count, encoding new words, and the work of naive
against incremental training.

The corpus {low: 5, lower: 2, newest: 6, widest: 3} is the example of Sennrich, Haddow and Birch
(2016), Sect. 3.2 and Algorithm 1.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, new_figure, svg
from llmath import bpe_encode, bpe_train

Array = NDArray[np.float64]
SENNRICH = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
N_MERGES = 10
RULES = ("first", "lexicographic")
NEW_WORDS = ("lowest", "newer", "wider", "slow")
OVERLAP = {"aaa": 4, "banana": 2}
DOCS = Path(__file__).resolve().parents[2]
READS = "probability/*.md"  # the execution cache re-runs this page when these chapters change
WORK_MERGES = 100


def pair_counts(words: dict[tuple[str, ...], int]) -> Counter[tuple[str, str]]:
    """c(x, y), counted here independently of llmath (a check on its counts)."""
    c: Counter[tuple[str, str]] = Counter()
    for s, f in words.items():
        for i in range(len(s) - 1):
            c[s[i], s[i + 1]] += f
    return c


def state(merges: list[tuple[str, str]], m: int) -> dict[tuple[str, ...], int]:
    """Every word of the corpus after the first m merges."""
    return {tuple(bpe_encode(w, merges[:m])): f for w, f in SENNRICH.items()}


@functools.cache
def steps(tie_break: str) -> list[dict[str, object]]:
    """One row per merge: the pair, its count, where the count comes from, the tied pairs."""
    r = bpe_train(SENNRICH, N_MERGES, tie_break=tie_break)
    rows = []
    for m, (pair, count) in enumerate(zip(r.merges, r.counts, strict=True)):
        words = state(r.merges, m)
        c = pair_counts(words)
        parts = []
        for (s, f), w in zip(words.items(), SENNRICH, strict=True):
            k = sum(1 for i in range(len(s) - 1) if (s[i], s[i + 1]) == pair)
            if k:
                parts.append(f"{f} ({w})" if k == 1 else f"{k}·{f} ({w})")
        top = max(c.values())
        tied = [p for p in c if c[p] == top]
        rows.append({"pair": pair, "count": count, "recount": c[pair], "max": top,
                     "sum": " + ".join(parts), "tied": tied})  # fmt: skip
    return rows


def counts_table() -> Array:
    """Rows: the two rules; columns: the count of merge 1..10."""
    return np.array([bpe_train(SENNRICH, N_MERGES, tie_break=t).counts for t in RULES], float)


def encode_steps(word: str) -> list[tuple[str, ...]]:
    """The symbols of `word` after each merge that changes them, in learned order."""
    merges = bpe_train(SENNRICH, N_MERGES).merges
    out = [tuple(bpe_encode(word, []))]
    for m in range(1, len(merges) + 1):
        s = tuple(bpe_encode(word, merges[:m]))
        if s != out[-1]:
            out.append(s)
    return out


def overlap() -> dict[str, int]:
    """The count of (a, a) against the symbols its merge removes, on OVERLAP."""
    r = bpe_train(OVERLAP, 1)
    before = sum(f * (len(w) + 1) for w, f in OVERLAP.items())
    after = sum(f * len(r.segmentation[w]) for w, f in OVERLAP.items())
    return {"count": r.counts[0], "removed": before - after, "aaa_count": 2 * OVERLAP["aaa"]}


def overlap_table() -> Array:
    o = overlap()
    return np.array([[o["count"], o["removed"]]], float)


# ---- naive against incremental training: the pairs each one looks at ----------------------


@functools.cache
def part3_words() -> dict[str, int]:
    """Frequencies of the lower-cased words (letter runs) of Part 3's chapters."""
    text = " ".join(
        p.read_text(encoding="utf-8") for p in sorted((DOCS / "probability").glob("*.md"))
    )
    return dict(Counter(re.findall("[a-z]+", text.lower())))


@functools.cache
def work() -> tuple[Array, Array]:
    """Pair positions examined by merge m: naive recounting (all), incremental (words with it)."""
    freqs = part3_words()
    r = bpe_train(freqs, WORK_MERGES)
    words = {w: tuple([*w, "</w>"]) for w in freqs}
    where: dict[tuple[str, str], set[str]] = {}
    for w, s in words.items():
        for i in range(len(s) - 1):
            where.setdefault((s[i], s[i + 1]), set()).add(w)
    naive, incremental = [], []
    for pair in r.merges:
        naive.append(sum(len(s) - 1 for s in words.values()))
        touched = where.pop(pair)
        incremental.append(sum(len(words[w]) - 1 for w in touched))
        for w in touched:
            words[w] = _merge(words[w], pair)
            for i in range(len(words[w]) - 1):
                where.setdefault((words[w][i], words[w][i + 1]), set()).add(w)
    assert {w: words[w] for w in freqs} == r.segmentation  # the simulation is bpe_train
    return np.array(naive, float), np.array(incremental, float)


def _merge(s: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(s):
        if s[i : i + 2] == pair:
            out.append(s[i] + s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return tuple(out)


def work_figure() -> str:
    naive, inc = work()
    m = np.arange(1, len(naive) + 1)
    fig, ax = new_figure(6.0, 3.2)
    ax.plot(m, np.cumsum(naive) / 1e6, color=BLUE, label="naive: recount every pair")
    ax.plot(
        m, (naive[0] + np.cumsum(inc)) / 1e6, color=ORANGE, label="incremental: words with the pair"
    )
    ax.set_xlabel("merges learned")
    ax.set_ylabel("pair positions read (millions)")
    ax.legend(frameon=False)
    return svg(
        fig,
        alt="Cumulative pair positions read by naive and incremental BPE training",
        caption=f"Training {WORK_MERGES} merges on the words of Part 3's chapters: the naive "
        "algorithm reads every pair of the corpus for every merge (a straight line); the "
        "incremental one counts the corpus once and then reads only the words that contain "
        "the merged pair.",
    )


def tables() -> dict[str, Array]:
    return {"bpe/counts": counts_table(), "bpe/overlap": overlap_table()}
