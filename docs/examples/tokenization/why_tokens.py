"""Worked examples for the why-tokens chapter: one real text cut into bytes, characters, words and
GPT-2's subwords, and what each costs a GPT-2-small-shaped model (Part 4's counters).

The text is the plain-prose lines of this book's own Markdown sources (see
examples.tokenization.gpt2.prose_and_rest), split into a first and a second half; the UTF-8
ranges are those of RFC 3629, Sect. 3.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, RED, new_figure, svg
from examples.tokenization import gpt2
from llmath import ByteLevelBPE, flops_per_token, param_count
from llmath.transformer.model import ModelConfig

Array = NDArray[np.float64]
GPT2_SMALL = ModelConfig(n_vocab=50257, n_ctx=1024, D=768, H=12, n_layers=12)
T = 1024
CODE_POINTS = 0x110000  # U+0000 .. U+10FFFF
UNITS = ("bytes", "characters (in this text)", "characters (all of Unicode)",
         "words (in this text)", "GPT-2 subwords")  # fmt: skip
MERGES = (0, 250, 500, 1000, 2000, 4000)
VARIANTS = (" tokenization", " tokenisation", " Tokenization", " tokenizations", " tokenizatoin")
UTF8_EDGES = (0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF)


@functools.cache
def text() -> str:
    return gpt2.prose_and_rest()[0]


@functools.cache
def halves() -> tuple[str, str]:
    lines = text().splitlines(keepends=True)
    return "".join(lines[: len(lines) // 2]), "".join(lines[len(lines) // 2 :])


def words(s: str) -> list[str]:
    """Word-level units: GPT-2's pre-tokens (a word with its leading space, digits, symbols)."""
    return gpt2.pieces(s)


def with_vocab(n_vocab: int) -> ModelConfig:
    return dataclasses.replace(GPT2_SMALL, n_vocab=n_vocab)


@functools.cache
def unit_table() -> Array:
    """Rows: UNITS; columns: n_V, tokens, bytes per token, embedding parameters (millions),
    share of the parameters in the embedding (%), forward GFLOPs for the whole text."""
    s = text()
    n_bytes = len(s.encode("utf-8"))
    rows = [
        (256, n_bytes),
        (len(set(s)), len(s)),
        (CODE_POINTS, len(s)),
        (len(set(words(s))), len(words(s))),
        (gpt2.tokenizer().n_vocab, len(gpt2.tokenizer().encode(s))),
    ]
    out = []
    for V, n in rows:
        c = with_vocab(V)
        p = param_count(c)
        out.append([V, n, n_bytes / n, p["token_embedding"] / 1e6,
                    100 * p["token_embedding"] / p["total"],
                    n * flops_per_token(c, T)["total"] / 1e9])  # fmt: skip
    return np.array(out, float)


@functools.cache
def unseen() -> dict[str, float]:
    """Share of the second half's units that never occur in the first half."""
    a, b = halves()
    wa, wb, ca = set(words(a)), words(b), set(a)
    return {
        "words": sum(w not in wa for w in wb) / len(wb),
        "characters": sum(ch not in ca for ch in b) / len(b),
        "distinct new words": len(set(wb) - wa),
    }


def unicode_table() -> Array:
    """Rows: gpt2.SAMPLES plus an English sentence; columns: code points, bytes, GPT-2 tokens."""
    tok = gpt2.tokenizer()
    return np.array(
        [[len(s), len(s.encode("utf-8")), len(tok.encode(s))] for s in samples().values()], float
    )


def samples() -> dict[str, str]:
    return {"English": "Language is the house of being, the philosopher wrote.",
            **{k: gpt2.SAMPLES[k] for k in ("Greek", "Russian", "Chinese", "Hindi", "emoji")}}  # fmt: skip


def utf8_lengths() -> list[int]:
    return [len(chr(c).encode("utf-8", "surrogatepass")) for c in UTF8_EDGES]


@functools.cache
def tradeoff() -> Array:
    """Train byte-level BPE on the first half; rows: MERGES; columns: n_V, bytes/token on the
    second half."""
    b = halves()[1]
    out = []
    for m in MERGES:
        tok = trained(m)
        out.append([tok.n_vocab, len(b.encode()) / len(tok.encode(b))])
    return np.array(out, float)


@functools.cache
def trained(num_merges: int) -> ByteLevelBPE:
    return ByteLevelBPE.train(halves()[0], num_merges=num_merges)


def words_left_in_pieces(num_merges: int) -> int:
    """How many distinct pre-tokens of the first half are still more than one token."""
    tok = trained(num_merges)
    return sum(len(tok.encode(w)) > 1 for w in set(words(halves()[0])))


def gpt2_on_second_half() -> float:
    b = halves()[1]
    return len(b.encode()) / len(gpt2.tokenizer().encode(b))


def tradeoff_figure() -> str:
    tr = tradeoff()
    g = gpt2_on_second_half()
    V_words = len(set(words(halves()[0])))
    fig, ax = new_figure(6.0, 3.4)
    ax.plot(tr[:, 0], tr[:, 1], "o-", color=BLUE, label="BPE trained on the first half")
    ax.plot([gpt2.tokenizer().n_vocab], [g], "s", color=ORANGE, label="GPT-2 (50,257)")
    ax.axvline(V_words, color=RED, ls=":", lw=1.2, label="words of the first half")
    ax.set_xscale("log")
    ax.set_xlabel("vocabulary size n_V")
    ax.set_ylabel("bytes per token (second half)")
    ax.legend(frameon=False, loc="lower right")
    return svg(
        fig,
        alt="Bytes per token on held-out text against vocabulary size for byte-level BPE",
        caption="Compression against vocabulary size: byte-level BPE trained with 0 to 4,000 "
        "merges on the first half of the book's prose and measured on the second half, with "
        "GPT-2's tokenizer for comparison. The dotted line is the size a word-level vocabulary "
        "of the first half would need, and it would still miss words of the second half.",
    )


def variants() -> dict[str, list[int]]:
    tok = gpt2.tokenizer()
    return {v: tok.encode(v) for v in VARIANTS}


def tables() -> dict[str, Array]:
    return {
        "why/units-counts": unit_table()[:, :2],
        "why/units-costs": unit_table()[:, 2:],
        "why/unicode": unicode_table(),
        "why/tradeoff": tradeoff(),
    }
