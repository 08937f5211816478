"""bpe_train / bpe_encode / bpe_decode against an independent brute force and Hugging Face.

The brute force is Sennrich et al.'s (2016) own formulation: words are space-separated strings
(`"l o w </w>"`), pairs are counted with a Counter over the split symbols and a merge is a
regular-expression substitution that only matches whole symbols. Ties are broken explicitly
by scanning for each tied pair's first position. Hugging Face `tokenizers` breaks ties by the
ids of the pair instead (characters numbered in sorted order, then merges in order of creation)
and has no separate end-of-word symbol: against it the test checks what the conventions share
(every pair it merges has the largest count under this counting, and the counts agree merge by
merge), and, with its tie rule written into the brute force and no marker, its merges exactly.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmath import bpe_decode, bpe_encode, bpe_train

SENNRICH = {"low": 5, "lower": 2, "newest": 6, "widest": 3}


def brute_force(
    freqs: dict[str, int], n: int, tie_break: str, eow: str = "</w>"
) -> tuple[list[tuple[str, str]], list[int], dict[str, str]]:
    vocab = {w: " ".join([*w, eow] if eow else w) for w in freqs}  # word -> "l o w </w>"
    merges, counts = [], []
    for _ in range(n):
        stats: Counter[tuple[str, str]] = Counter()
        first: dict[tuple[str, str], tuple[int, int]] = {}
        for k, (w, spelled) in enumerate(vocab.items()):
            s = spelled.split(" ")
            for i in range(len(s) - 1):
                stats[s[i], s[i + 1]] += freqs[w]
                first.setdefault((s[i], s[i + 1]), (k, i))
        if not stats:
            break
        top = max(stats.values())
        tied = [p for p in stats if stats[p] == top]
        if tie_break == "first":
            best = min(tied, key=first.__getitem__)
        elif tie_break == "ids":  # Hugging Face: characters sorted, then merges in order
            ids = {c: i for i, c in enumerate(sorted({c for w in freqs for c in w}))}
            for a, b in merges:
                ids.setdefault(a + b, len(ids))
            best = min(tied, key=lambda p: (ids[p[0]], ids[p[1]]))
        else:
            best = sorted(tied)[0]
        pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(best)) + r"(?!\S)")
        vocab = {w: pattern.sub("".join(best), s) for w, s in vocab.items()}
        merges.append(best)
        counts.append(top)
    return merges, counts, vocab


def test_sennrich_example_first_occurrence() -> None:
    r = bpe_train(SENNRICH, 10)
    assert r.merges == [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
                        ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>"), ("w", "i")]  # fmt: skip
    assert r.counts == [9, 9, 9, 7, 7, 6, 6, 6, 5, 3]  # e.g. c(e, s) = 6 (newest) + 3 (widest)
    assert r.segmentation["lower"] == ("low", "e", "r", "</w>")
    assert r.segmentation["widest"] == ("wi", "d", "est</w>")


def test_the_tie_breaking_rule_changes_the_merges() -> None:
    first, lex = bpe_train(SENNRICH, 10), bpe_train(SENNRICH, 10, tie_break="lexicographic")
    assert first.merges[:5] == lex.merges[:5]
    assert first.merges[5] == ("n", "e") and lex.merges[5] == ("e", "w")
    assert first.counts == lex.counts


@pytest.mark.parametrize("tie_break", ["first", "lexicographic"])
@pytest.mark.parametrize("eow", ["</w>", ""])
def test_sennrich_corpus_against_the_brute_force(tie_break: str, eow: str) -> None:
    r = bpe_train(SENNRICH, 30, tie_break=tie_break, end_of_word=eow)
    merges, counts, vocab = brute_force(SENNRICH, 30, tie_break, eow)
    assert (r.merges, r.counts) == (merges, counts)
    assert {w: " ".join(s) for w, s in r.segmentation.items()} == vocab
    assert len(r.merges) < 30  # stops once every word is one symbol
    assert all(len(s) == 1 for s in r.segmentation.values())


corpora = st.dictionaries(
    st.text(alphabet="abc", min_size=1, max_size=7), st.integers(1, 5), min_size=1, max_size=6
)


@settings(max_examples=150)
@given(corpora, st.integers(0, 12), st.sampled_from(["first", "lexicographic"]))
def test_random_corpora_against_the_brute_force(
    freqs: dict[str, int], n: int, tie_break: str
) -> None:
    r = bpe_train(freqs, n, tie_break=tie_break)
    merges, counts, vocab = brute_force(freqs, n, tie_break)
    assert r.merges == merges and r.counts == counts
    assert {w: " ".join(s) for w, s in r.segmentation.items()} == vocab
    # a merge cannot create a pair more frequent than itself: counts never increase
    assert all(a >= b for a, b in zip(r.counts, r.counts[1:], strict=False))
    for w in freqs:
        assert tuple(bpe_encode(w, r.merges)) == r.segmentation[w]
        assert bpe_decode(bpe_encode(w, r.merges)) == w
    assert bpe_decode([t for w in freqs for t in r.segmentation[w]]) == " ".join(freqs)


def _by_rank(word: str, merges: list[tuple[str, str]]) -> list[str]:
    """GPT-2's rule: merge the lowest-ranked adjacent pair (all occurrences) until none is left."""
    rank = {m: i for i, m in enumerate(merges)}
    s = [*word, "</w>"]
    while len(s) > 1:
        best = min(itertools.pairwise(s), key=lambda p: rank.get(p, len(rank)))
        if best not in rank:
            break
        out, i = [], 0
        while i < len(s):
            if tuple(s[i : i + 2]) == best:
                out.append("".join(best))
                i += 2
            else:
                out.append(s[i])
                i += 1
        s = out
    return s


@settings(max_examples=100)
@given(corpora, st.text(alphabet="abcd", min_size=1, max_size=10))
def test_learned_order_equals_lowest_rank_first_on_new_words(
    freqs: dict[str, int], word: str
) -> None:
    merges = bpe_train(freqs, 10).merges
    assert bpe_encode(word, merges) == _by_rank(word, merges)


def test_overlapping_pairs_are_counted_twice_and_merged_once() -> None:
    r = bpe_train({"aaa": 1}, 1)
    assert r.merges == [("a", "a")] and r.counts == [2]  # positions 0-1 and 1-2 both count
    assert r.segmentation["aaa"] == ("aa", "a", "</w>")  # left to right, no overlap
    assert bpe_encode("aaaa", [("a", "a")], end_of_word="") == ["aa", "aa"]


def test_encode_new_word_applies_merges_in_learned_order() -> None:
    merges = bpe_train(SENNRICH, 10).merges
    assert bpe_encode("lowest", merges) == ["low", "est</w>"]
    assert bpe_encode("newer", merges) == ["new", "e", "r", "</w>"]
    assert bpe_encode("zzz", merges) == ["z", "z", "z", "</w>"]  # unseen characters stay


def _hf_merges(freqs: dict[str, int]) -> list[tuple[str, str]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(
        vocab_size=10_000, min_frequency=0, show_progress=False, special_tokens=[]
    )
    tok.train_from_iterator([w for w, f in freqs.items() for _ in range(f)], trainer)
    return [tuple(m) for m in json.loads(tok.to_str())["model"]["merges"]]


@pytest.mark.parametrize(
    "freqs", [SENNRICH, {"banana": 4, "bandana": 3, "ananas": 2, "nab": 5}, {"aaaa": 3, "aab": 2}]
)
def test_hugging_face_trainer_picks_a_most_frequent_pair_every_time(freqs: dict[str, int]) -> None:
    """HF counts pairs the same way but breaks ties by ids: its every merge is a maximal pair."""
    hf = _hf_merges(freqs)
    ours = bpe_train(freqs, len(hf) + 5, end_of_word="")
    assert len(ours.merges) == len(hf)  # both run until every word is one symbol
    words = {tuple(w): f for w, f in freqs.items()}
    for k, pair in enumerate(hf):
        stats: Counter[tuple[str, str]] = Counter()
        for s, f in words.items():
            for p in itertools.pairwise(s):
                stats[p] += f
        assert stats[pair] == max(stats.values()) == ours.counts[k]
        words = {tuple(bpe_encode(w, hf[: k + 1], end_of_word="")): f for w, f in freqs.items()}


@settings(max_examples=60)
@given(corpora)
def test_hugging_face_trainer_equals_the_brute_force_with_its_tie_rule(
    freqs: dict[str, int],
) -> None:
    """With HF's rule for ties (smallest ids) and no marker, its merges are the brute force's."""
    hf = _hf_merges(freqs)
    merges, _, _ = brute_force(freqs, len(hf) + 5, "ids", eow="")
    assert hf == merges


def test_decode() -> None:
    assert bpe_decode(["low", "</w>", "new", "est</w>"]) == "low newest"
    assert bpe_decode(["ab", "c"], end_of_word="") == "abc"
    assert bpe_decode([]) == ""


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bpe_train(SENNRICH, -1), "num_merges"),
        (lambda: bpe_train(SENNRICH, 2.0), "num_merges"),
        (lambda: bpe_train(SENNRICH, 3, tie_break="random"), "tie_break"),
        (lambda: bpe_train({}, 3), "word_freqs"),
        (lambda: bpe_train({"low": 0}, 3), "word_freqs"),
        (lambda: bpe_train({"low": True}, 3), "word_freqs"),
        (lambda: bpe_train({"": 2}, 3), "word_freqs"),
        (lambda: bpe_train(["low"], 3), "word_freqs"),
        (lambda: bpe_encode("", [("a", "b")]), "word"),
        (lambda: bpe_encode(b"low", [("a", "b")]), "word"),
        (lambda: bpe_encode("low", "lo"), "merges"),
        (lambda: bpe_encode("low", [("l", "o", "w")]), "merges"),
        (lambda: bpe_decode("low"), "tokens"),
        (lambda: bpe_decode(["low", 3]), "tokens"),
        (lambda: bpe_decode(["low"], end_of_word=None), "end_of_word"),
    ],
)
def test_bad_input(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
