r"""WordPiece, BERT's tokenizer: a normaliser, a pre-tokeniser and greedy longest-match-first.

BERT (Devlin et al. 2019) segments text in two stages. The *basic tokenizer* cleans the text
(drops control characters, maps whitespace to spaces, puts spaces around CJK ideographs,
lower-cases and strips accents) and splits it on whitespace and punctuation. WordPiece then cuts
each word into vocabulary pieces, longest first from the left; every piece after the first is
spelled with the prefix `##`. If some part of a word matches no piece, the *whole* word becomes
`[UNK]`. This module follows Hugging Face `tokenizers`' `BertNormalizer`, `BertPreTokenizer` and
`WordPiece` model, character for character (tests compare them on all-MiniLM-L6-v2's vocabulary).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from llmath._checks import check_bool, check_positive_int, check_text

__all__ = ["basic_tokenize", "read_wordpiece_vocab", "wordpiece_encode"]

# Rust's char::is_whitespace (the Unicode White_Space property), which `tokenizers` uses; Python's
# str.isspace differs (it counts U+001C..U+001F as spaces).
_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
# The CJK Unified Ideographs blocks BERT surrounds with spaces (one token per ideograph).
# Extension E starts at U+2B820; `tokenizers` writes 0x2B920 (so does this table: it is the
# reference being matched), which leaves U+2B820..U+2B91F to WordPiece as ordinary letters.
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_control(ch: str) -> bool:
    """A character `clean_text` drops: category Cc, Cf or Co, except tab, newline and return.

    Unassigned code points (Cn) are kept, as in `tokenizers`; they end up as [UNK].
    """
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co")


def _is_punctuation(ch: str) -> bool:
    """ASCII punctuation (which includes `$`, `+`, `^`, ...) or any Unicode P* character."""
    return (ch.isascii() and not ch.isalnum() and ch.isprintable() and ch != " ") or (
        unicodedata.category(ch).startswith("P")
    )


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK)


# --8<-- [start:normalize]
def _normalize(text: str, *, lowercase: bool) -> str:
    """BertNormalizer: clean, space out CJK, then (if lowercase) strip accents and
    lower-case."""
    out = []
    for ch in text:
        if ch in "\x00\ufffd" or _is_control(ch):
            continue  # control characters are dropped
        if ch in _WHITE_SPACE:
            out.append(" ")  # every kind of whitespace becomes a space
        elif _is_cjk(ch):
            out.append(f" {ch} ")  # one token per ideograph
        else:
            out.append(ch)
    s = "".join(out)
    if lowercase:  # NFD splits "é" into "e" + U+0301; marks (category Mn) are dropped
        nfd = unicodedata.normalize("NFD", s)
        s = "".join(c for c in nfd if unicodedata.category(c) != "Mn")
        s = "".join(c.lower() for c in s)  # per character: no final-sigma rule
    return s
    # --8<-- [end:normalize]


def basic_tokenize(text: str, *, lowercase: bool = True) -> list[str]:
    r"""Split text into words the way BERT does before WordPiece.

    Cleaning drops NUL, U+FFFD and control or format characters (Unicode category C, except tab,
    newline and carriage return); every whitespace character becomes a space; each CJK ideograph
    gets spaces around it. With `lowercase`, the text is decomposed (NFD), its non-spacing marks
    (category Mn) are dropped, so "é" becomes "e", and each character is lower-cased. The result
    is split on whitespace, and every punctuation character (ASCII punctuation or Unicode
    category P) becomes a word of its own.

    Args:
        text: any Unicode text.
        lowercase: lower-case and strip accents (BERT's uncased models, MiniLM).

    Returns:
        The words, in order; empty if the text has none.

    Raises:
        ValueError: if `text` is not a `str` (bytes included) or holds a lone surrogate.

    Examples:
        >>> basic_tokenize("Héllo, WORLD!")
        ['hello', ',', 'world', '!']
        >>> basic_tokenize("数学is fun", lowercase=False)
        ['数', '学', 'is', 'fun']

    References:
        Devlin et al. (2019), BERT, Sect. 3 and Hugging Face `tokenizers`' `BertNormalizer`
        and `BertPreTokenizer`.
    """
    s = _normalize(check_text(text), lowercase=check_bool(lowercase, name="lowercase"))
    # --8<-- [start:split]
    words: list[str] = []
    for chunk in s.split(" "):  # after cleaning, all whitespace is " "
        current = ""
        for ch in chunk:
            if _is_punctuation(ch):  # punctuation: a word of its own
                words += [current, ch] if current else [ch]
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words
    # --8<-- [end:split]


def _check_vocab(vocab: object, unk_token: object) -> Mapping[str, int]:
    """Check the mapping and its unknown token; each id is checked when it is emitted."""
    if not isinstance(vocab, Mapping):
        raise ValueError(f"vocab must be a mapping from token to id; got {type(vocab).__name__}")
    if not isinstance(unk_token, str):
        raise ValueError(f"unk_token must be a str; got {type(unk_token).__name__}")
    if unk_token not in vocab:
        raise ValueError(f"unk_token {unk_token!r} is not in vocab ({len(vocab)} tokens)")
    return vocab


def _check_ids(ids: list[object], vocab: Mapping[str, int]) -> list[int]:
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or i < 0]
    if bad:
        token = next(t for t, i in vocab.items() if i is bad[0])
        raise ValueError(f"vocab's ids must be integers >= 0; got {token!r}: {bad[0]!r}")
    return [int(i) for i in ids]  # type: ignore[call-overload]


# --8<-- [start:wordpiece]
def _wordpiece(
    word: str,
    vocab: Mapping[str, int],
    unk: int,
    max_chars: int,
) -> list[int]:
    """Greedy longest-match-first; a word with an unmatched part becomes one [UNK]."""
    if len(word) > max_chars:
        return [unk]
    ids, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):  # longest candidate first
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                ids.append(vocab[piece])
                start = end
                break
        else:  # no piece matches at `start`: the whole word is unknown
            return [unk]
    return ids
    # --8<-- [end:wordpiece]


def wordpiece_encode(
    text: str,
    vocab: Mapping[str, int],
    *,
    lowercase: bool = True,
    unk_token: str = "[UNK]",
    max_chars_per_word: int = 100,
) -> list[int]:
    r"""Encode text with WordPiece: BERT's basic tokenizer, then greedy longest-match-first.

    Each word $w = c_1 \dots c_n$ from [basic_tokenize][llmath.tokenization.wordpiece.basic_tokenize]
    is cut from the left: the first piece is the longest prefix $c_1 \dots c_e$ in the vocabulary,
    the next the longest `"##"` $+\, c_{e+1} \dots c_{e'}$, and so on. If at some position no
    piece matches, or $n$ exceeds `max_chars_per_word`, the whole word becomes `unk_token`.
    Greedy matching is not a search: it never reconsiders a piece, even when a shorter first
    piece would let the rest of the word match.
    Special tokens written in the text, such as `"[MASK]"`, are split like any other text;
    Hugging Face's tokenizer matches its added tokens before normalising.

    Args:
        text: any Unicode text.
        vocab: token to id, e.g. from [read_wordpiece_vocab][llmath.tokenization.wordpiece.read_wordpiece_vocab];
            continuation pieces are spelled with the prefix `"##"`.
        lowercase: lower-case and strip accents first (uncased models).
        unk_token: the token for a word that cannot be segmented; it must be in `vocab`.
        max_chars_per_word: longer words become `unk_token` without trying.

    Returns:
        The ids, without `[CLS]` and `[SEP]` (the caller adds them).

    Raises:
        ValueError: if `text` is not a `str`, `vocab` is not a mapping containing
            `unk_token`, an id it yields is not an integer >= 0, or `max_chars_per_word` < 1.

    Examples:
        >>> vocab = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4}
        >>> wordpiece_encode("Unaffable", vocab)
        [1, 2, 3]
        >>> wordpiece_encode("unable unfit", vocab)  # no piece "##fit": the word is [UNK]
        [1, 3, 0]

    References:
        Schuster and Nakajima (2012); Wu et al. (2016), Sect. 4.1; Hugging Face `tokenizers`'
        `WordPiece` model.
    """
    words = basic_tokenize(text, lowercase=lowercase)
    table = _check_vocab(vocab, unk_token)
    limit = check_positive_int(max_chars_per_word, name="max_chars_per_word")
    unk = table[unk_token]
    return _check_ids([i for w in words for i in _wordpiece(w, table, unk, limit)], table)


def read_wordpiece_vocab(path: str) -> dict[str, int]:
    r"""Read a WordPiece `vocab.txt`: one token per line, its id the line number from 0.

    Args:
        path: the file, e.g. a BERT or MiniLM checkpoint's `vocab.txt`.

    Returns:
        Token to id.

    Raises:
        ValueError: if `path` is not a string naming a readable UTF-8 file, or a token repeats.

    Examples:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "vocab.txt"
        >>> _ = f.write_text("[UNK]\nhello\n##s\n", encoding="utf-8")
        >>> read_wordpiece_vocab(str(f))
        {'[UNK]': 0, 'hello': 1, '##s': 2}
    """
    if not isinstance(path, str):
        raise ValueError(f"path must be a str naming a file; got {type(path).__name__}")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"path {path!r} could not be read as UTF-8 text: {exc}") from None
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it starts no token
    vocab: dict[str, int] = {}
    for i, line in enumerate(lines):
        token = line.rstrip("\r")
        if token in vocab:
            raise ValueError(
                f"path {path!r}: token {token!r} repeats at lines {vocab[token]} and {i}"
            )
        vocab[token] = i
    return vocab
