"""Worked examples for "Tokenization meets probability": one held-out text scored by trigram
models over characters, byte-level BPE tokens and words (per-token perplexity against bits per
byte, with the grammar's exact entropy rate as the floor); GPT-2's pre-tokeniser and merges as
a string-rewriting system; constrained decoding of decimal numbers, computed exactly.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, ORANGE, new_figure, svg
from llmath import (
    GPT2_PATTERN,
    ByteLevelBPE,
    NGramModel,
    bits_per_byte,
    bytes_to_unicode,
    constrained_probs,
    decimal_dfa,
    dfa_advance,
    enumerate_sentences,
    generate_corpus,
    perplexity,
    token_mask,
)

Array = NDArray[np.float64]
TRAIN_SEED, TEST_SEED = 1, 2
N_TRAIN, N_TEST = 3000, 1000
ORDER, K = 3, 0.01
N_MERGES = 60
NAMES = ("characters", "BPE tokens", "words")

# --- one text, three tokenizers ----------------------------------------------------------


@functools.cache
def corpora() -> tuple[list[str], list[str]]:
    train = generate_corpus(np.random.default_rng(TRAIN_SEED), N_TRAIN)
    test = generate_corpus(np.random.default_rng(TEST_SEED), N_TEST)
    return train, test


@functools.cache
def bpe() -> ByteLevelBPE:
    """Byte-level BPE (GPT-2's pre-tokeniser) trained on the training sentences, one a line."""
    return ByteLevelBPE.train("\n".join(corpora()[0]), num_merges=N_MERGES)


def tokenizers() -> dict[str, Callable[[str], list[str]]]:
    return {
        "characters": list,
        "BPE tokens": lambda s: [str(i) for i in bpe().encode(s)],
        "words": str.split,
    }


def n_bytes(sentences: list[str]) -> int:
    """UTF-8 bytes of the text, one newline per sentence (what the end marker predicts)."""
    return sum(len(s.encode("utf-8")) + 1 for s in sentences)


@functools.cache
def scores() -> Array:
    """Rows: characters, BPE, words. Columns: tokens per sentence (with the end marker),
    per-token perplexity, total bits, bits per byte."""
    train, test = corpora()
    rows = []
    for cut in tokenizers().values():
        model = NGramModel(ORDER, k=K).fit([cut(s) for s in train])
        known = set(model.vocab)
        cuts = [cut(s) for s in test]
        assert all(t in known for c in cuts for t in c)  # no <unk>: every token is scored
        log_probs = np.array([model.log_prob(c) for c in cuts])  # ln P(sentence)
        n_tokens = sum(len(c) + 1 for c in cuts)
        total = float(-log_probs.sum())
        bpb = bits_per_byte(total, n_bytes(test))
        rows.append([n_tokens / len(test), perplexity(total / n_tokens), total / math.log(2), bpb])
    return np.array(rows)


@functools.cache
def entropy_rate() -> float:
    """The grammar's exact entropy per byte: H(sentence) / E[bytes], from every sentence."""
    dist = enumerate_sentences()
    h = -sum(p * math.log2(p) for p in dist.values())
    mean_bytes = sum(p * (len(s.encode("utf-8")) + 1) for s, p in dist.items())
    return h / mean_bytes


def figure() -> str:
    t = scores()
    fig, (a, b) = new_figure(6.4, 2.8, ncols=2)
    y = np.arange(len(NAMES))
    a.barh(y, t[:, 1], color=BLUE)
    a.set_yticks(y, NAMES)
    a.invert_yaxis()
    a.set_xlabel("perplexity per token")
    b.barh(y, t[:, 3], color=ORANGE)
    b.axvline(entropy_rate(), color="#000000", ls="--", lw=1)
    b.set_yticks(y, [])
    b.invert_yaxis()
    b.set_xlabel("bits per byte")
    return svg(
        fig,
        alt="Per-token perplexity and bits per byte of three trigram models",
        caption="Trigram models over characters, BPE tokens and words, scored on the same "
        f"{N_TEST} held-out sentences. Left: perplexity per token ranks the character model "
        "best. Right: bits per byte, the same for every tokenizer's unit of text, ranks it "
        "worst; the dashed line is the grammar's exact entropy rate, a floor no model can beat "
        "on average.",
    )


# --- tokenization as string rewriting ----------------------------------------------------

REWRITE_TEXT = "Tokenization isn't 100% differentiable!"


def pretokens(text: str) -> list[str]:
    import regex

    return regex.findall(GPT2_PATTERN, text)


def rewrite_trace(piece: str) -> list[tuple[int, str, str, list[str]]]:
    """Apply GPT-2's merges as rewrite rules in rank order, each everywhere, left to right:
    (rank, left, right, symbols after the rule) for every rule that fires."""
    tok = ByteLevelBPE.gpt2()
    chars = bytes_to_unicode()
    symbols = [chars[b] for b in piece.encode("utf-8")]
    trace = []
    for (a, b), rank in sorted(tok.ranks.items(), key=lambda kv: kv[1]):
        if len(symbols) == 1:
            break
        if not any(symbols[i] == a and symbols[i + 1] == b for i in range(len(symbols) - 1)):
            continue
        out, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                out.append(a + b)
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
        trace.append((rank, a, b, symbols))
    return trace


# --- constrained decoding --------------------------------------------------------------------

NUMBER_STRINGS = ["3.14", "-2", "10", "0.5", "42", "x7", "1e3", "-0.25", "007", "1.", "2.5", "-x"]
MAX_LEN = 4


@functools.cache
def number_model() -> NGramModel:
    """A character bigram model of number-like strings, some of them not decimal numbers."""
    return NGramModel(2, k=0.2).fit([list(s) for s in NUMBER_STRINGS])


def _eos() -> int:
    return number_model().vocab.index("</s>")


def exact_distributions() -> tuple[dict[str, float], dict[str, float]]:
    """Over decimal numbers of at most MAX_LEN characters: the model conditioned on the
    language, P(s) / P(L), and the masked sampler's Q(s), each renormalised over this set."""
    m, d = number_model(), decimal_dfa()
    vocab, eos = m.vocab, _eos()
    logits_of = lambda ctx: np.log(m.distribution(ctx))  # noqa: E731
    p: dict[str, float] = {}
    q: dict[str, float] = {}

    def walk(text: str, state: int, lp: float, lq: float) -> None:
        logits = logits_of(list(text))
        probs = np.exp(logits)
        masked = constrained_probs(logits, token_mask(d, state, vocab, eos=eos))
        if state in d.accept and text:
            p[text] = math.exp(lp + math.log(probs[eos]))
            q[text] = math.exp(lq + math.log(masked[eos]))
        if len(text) == MAX_LEN:
            return
        for v, tok in enumerate(vocab):
            if v == eos or masked[v] == 0:
                continue
            nxt = dfa_advance(d, state, tok)
            assert nxt is not None
            walk(text + tok, nxt, lp + math.log(probs[v]), lq + math.log(masked[v]))

    walk("", d.start, 0.0, 0.0)
    zp, zq = sum(p.values()), sum(q.values())
    return {s: v / zp for s, v in p.items()}, {s: v / zq for s, v in q.items()}


def finish_prob(prefix: str) -> float:
    """Z(prefix): the model's probability, given the prefix, of going on to a decimal number of
    at most MAX_LEN characters and stopping (the lookahead masking lacks)."""
    m, d = number_model(), decimal_dfa()
    eos = _eos()
    state = dfa_advance(d, d.start, prefix)
    if state is None:
        return 0.0
    probs = m.distribution(list(prefix))
    total = probs[eos] if state in d.accept and prefix else 0.0
    if len(prefix) < MAX_LEN:
        for v, tok in enumerate(m.vocab):
            if v != eos and tok not in ("<unk>",) and dfa_advance(d, state, tok) is not None:
                total += probs[v] * finish_prob(prefix + tok)
    return float(total)


def first_step() -> dict[str, tuple[float, float, float]]:
    """For each allowed first character: masked probability, lookahead-weighted probability
    q(c) Z(c) / Z(""), and the conditional's first-character marginal."""
    m, d = number_model(), decimal_dfa()
    p, _ = exact_distributions()
    probs = m.distribution([])
    mask = token_mask(d, d.start, m.vocab, eos=_eos())
    masked = probs * mask / (probs * mask).sum()
    z0 = finish_prob("")
    out = {}
    for v, c in enumerate(m.vocab):
        if mask[v]:
            marginal = sum(pv for x, pv in p.items() if x.startswith(c))
            out[c] = (float(masked[v]), float(probs[v] * finish_prob(c) / z0), marginal)
    return out


def constrained_table() -> Array:
    """The six most probable numbers under the conditional: P(s | L), Q(s), Q / P."""
    p, q = exact_distributions()
    top = sorted(p, key=lambda s: -p[s])[:6]
    return np.array([[p[s], q[s], q[s] / p[s]] for s in top])


def top_numbers() -> list[str]:
    p, _ = exact_distributions()
    return sorted(p, key=lambda s: -p[s])[:6]


def sample_constrained(rng: np.random.Generator, n: int) -> list[str]:
    """Sample with masking (no length limit but 20 characters)."""
    m, d = number_model(), decimal_dfa()
    out = []
    for _ in range(n):
        text, state = "", d.start
        for _ in range(20):
            probs = constrained_probs(
                np.log(m.distribution(list(text))), token_mask(d, state, m.vocab, eos=_eos())
            )
            v = int(rng.choice(len(probs), p=probs))
            if v == _eos():
                break
            text += m.vocab[v]
            state = dfa_advance(d, state, m.vocab[v])  # type: ignore[assignment]
        out.append(text)
    return out


DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def tables() -> dict[str, Array]:
    return {"tokprob/scores": scores(), "tokprob/constrained": constrained_table()}
