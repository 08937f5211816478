"""Worked examples for the perplexity page: inputs chosen here, every result computed by llmath."""

from __future__ import annotations

import functools
import math
import re

import numpy as np
from numpy.typing import NDArray

from examples.show import check
from llmath.probability.information import cross_entropy_dist, entropy
from llmath.probability.perplexity import (
    bits_per_byte,
    nats_to_bits,
    perplexity,
    perplexity_from_log_probs,
)

Array = NDArray[np.float64]

# The example text: not all ASCII, so UTF-8 bytes and characters differ in number.
TEXT = "the cat sat on the mat, the dog sat on the log, and the café was naïve."
UNIFORM_VS = (2, 10, 256, 50257)
UNIFORM_T = 1000
SEED = 7

# Data distribution p and a model q over nV = 5 tokens, for "perplexity on data vs entropy".
P_DATA = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
Q_MODEL = np.array([0.3, 0.3, 0.2, 0.1, 0.1])
N_SAMPLES = 20_000

# A distribution with perplexity exactly 10: one token at 1/2, 25 tokens at 1/50.
TEN = np.array([0.5] + [0.02] * 25)


def _char_model() -> dict[str, float]:
    """A character unigram model fitted to TEXT: q(c) = count(c) / number of characters."""
    chars, counts = np.unique(list(TEXT), return_counts=True)
    return dict(zip(chars.tolist(), (counts / counts.sum()).tolist(), strict=True))


def tokenisations() -> dict[str, list[str]]:
    """The same text cut two ways: characters, and words with their leading space."""
    return {"characters": list(TEXT), "words": re.findall(r" ?[^ ]+", TEXT)}


@functools.cache
def token_log_probs() -> dict[str, Array]:
    """Natural log-prob of each token; a word's is the sum over its characters (chain rule)."""
    q = _char_model()
    return {
        name: np.array([sum(math.log(q[c]) for c in tok) for tok in toks])
        for name, toks in tokenisations().items()
    }


def n_words() -> int:
    """The number of words of TEXT: the 'canonical unit' a per-word perplexity divides by."""
    return len(tokenisations()["words"])


def tokenisation_table() -> Array:
    """Rows: characters, words. Columns: tokens, total nats, nats/token, PPL/token,
    PPL per word (total / words), bits/byte."""
    n_bytes = len(TEXT.encode("utf-8"))
    rows = []
    for lp in token_log_probs().values():
        total = float(-lp.sum())
        rows.append(
            [
                lp.size,
                total,
                total / lp.size,
                perplexity_from_log_probs(lp),
                perplexity(total / n_words()),
                bits_per_byte(total, n_bytes),
            ]
        )
    return np.array(rows)


def tokenisation_checks() -> list[str]:
    """The two tokenisations give one total, one per-word PPL, one bits/byte, and the PPL law."""
    t = tokenisation_table()
    return [
        check("|total nats, characters − words|", t[0, 1], t[1, 1], tol=0.0, rtol=1e-14),
        check("|PPL per word from characters − from words|", t[0, 4], t[1, 4], tol=0.0, rtol=1e-13),
        check("|bits/byte, characters − words|", t[0, 5], t[1, 5], tol=0.0, rtol=1e-14),
        check(
            "|PPL_word − PPL_char^(T_char/T_word)|",
            t[1, 3],
            t[0, 3] ** (t[0, 0] / t[1, 0]),
            tol=0.0,
            rtol=1e-12,
        ),
    ]


def compression_table() -> Array:
    """Rows: uniform over 256 bytes, byte unigram fitted to TEXT.

    Columns: bits/byte, total bits, compressed bytes (bits / 8), raw bytes.
    """
    data = TEXT.encode("utf-8")
    n = len(data)
    values, counts = np.unique(np.frombuffer(data, dtype=np.uint8), return_counts=True)
    q = dict(zip(values.tolist(), (counts / n).tolist(), strict=True))
    totals = [n * math.log(256), -sum(math.log(q[b]) for b in data)]  # nats
    rows = []
    for total in totals:
        bpb = bits_per_byte(total, n)
        rows.append([bpb, bpb * n, bpb * n / 8, n])
    return np.array(rows)


def uniform_table() -> Array:
    """Rows: nV. Columns: nV, mean loss (nats), mean loss (bits), PPL from nats, PPL from bits."""
    rows = []
    for v in UNIFORM_VS:  # the tokens themselves do not matter: q(x_t) = 1 / nV for every one
        log_probs = np.full(UNIFORM_T, -math.log(v))
        loss = float(-log_probs.mean())
        bits = float(nats_to_bits(loss))
        rows.append(
            [v, loss, bits, perplexity_from_log_probs(log_probs), perplexity(bits, unit="bits")]
        )
    return np.array(rows)


@functools.cache
def data_table() -> Array:
    """Rows: model = p, model = q, uniform. Columns: PPL on sampled data, exp(H(p, model))."""
    data = _data_sample()  # tokens drawn from p
    uniform = np.full(P_DATA.size, 1.0 / P_DATA.size)
    rows = []
    for model in (P_DATA, Q_MODEL, uniform):
        sampled = perplexity_from_log_probs(np.log(model[data]))
        rows.append([sampled, perplexity(cross_entropy_dist(P_DATA, model))])
    return np.array(rows)


def ten_table() -> Array:
    """Rows: uniform over 10, TEN. Columns: support size, largest probability, H nats, PPL."""
    rows = []
    for p in (np.full(10, 0.1), TEN):
        h = entropy(p)
        rows.append([np.count_nonzero(p), p.max(), h, perplexity(h)])
    return np.array(rows)


@functools.cache
def _data_sample() -> NDArray[np.intp]:
    """N_SAMPLES tokens drawn from P_DATA (seeded)."""
    return np.random.default_rng(SEED).choice(P_DATA.size, size=N_SAMPLES, p=P_DATA)


def data_checks() -> list[str]:
    """Sampled loss against its expectation H(p, model), within 4 standard errors of the mean.

    The sampled loss is a mean of N_SAMPLES independent surprisals -ln q(x), so its standard
    error is their standard deviation over sqrt(N_SAMPLES); 4 standard errors fail by chance with
    probability about 6e-5, and the seed makes the result the same on every build.
    """
    data = _data_sample()
    out = []
    names = ("model = p", "model = q", "model = uniform")
    uniform = np.full(P_DATA.size, 1.0 / P_DATA.size)
    for name, model in zip(names, (P_DATA, Q_MODEL, uniform), strict=True):
        surprisal = -np.log(model[data])
        se = float(surprisal.std() / np.sqrt(N_SAMPLES))
        expected = float(cross_entropy_dist(P_DATA, model))
        out.append(
            check(
                f"{name}: |sampled loss − H(p, model)|",
                surprisal.mean(),
                expected,
                tol=max(4 * se, 1e-15),
            )
        )
    return out


# Unbounded above: a model that is confident about the wrong token.
CONFIDENCES = (0.2, 0.5, 0.9, 0.99, 0.999)


def confident_model(c: float) -> Array:
    """Mass c on the token P_DATA makes least likely, the rest spread evenly over the others."""
    q = np.full(P_DATA.size, (1.0 - c) / (P_DATA.size - 1))
    q[np.argmin(P_DATA)] = c
    return q


def unbounded_table() -> Array:
    """Rows: CONFIDENCES. Columns: c, PPL on the sample from p, exp(H(p, q_c)), PPL / nV."""
    data = _data_sample()
    rows = []
    for c in CONFIDENCES:
        q = confident_model(c)
        ppl = perplexity_from_log_probs(np.log(q[data]))
        rows.append([c, ppl, perplexity(cross_entropy_dist(P_DATA, q)), ppl / P_DATA.size])
    return np.array(rows)


def tables() -> dict[str, Array]:
    """Every numeric table on the perplexity page, keyed as on the page."""
    return {
        "perplexity/uniform": uniform_table()[:, 1:],
        "perplexity/data": data_table(),
        "perplexity/ten": ten_table()[:, 1:],
        "perplexity/compression": compression_table()[:, :3],
        "perplexity/tokenisation": tokenisation_table()[:, 1:],
        "perplexity/unbounded": unbounded_table()[:, 1:],
    }


# ---- figures -------------------------------------------------------------------------------


def figure_surprisal() -> str:
    """Surprisal in bits of each word token of TEXT, with the mean."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    words = tokenisations()["words"]
    bits = np.asarray(nats_to_bits(-token_log_probs()["words"]))
    fig, ax = new_figure(6.4, 3.2)
    ax.bar(np.arange(len(words)), bits, color=BLUE)
    ax.axhline(bits.mean(), color=ORANGE, ls="--", lw=1.5, label=f"mean = {bits.mean():.2f} bits")
    ax.set_xticks(np.arange(len(words)))
    ax.set_xticklabels([w.strip() for w in words], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("surprisal −log₂ q (bits)")
    ax.legend(frameon=False)
    return svg(
        fig,
        alt="Surprisal in bits of each word of the example text under the character model",
        caption="The surprisal of each word of the example text, in bits, and its mean",
    )


def figure_perplexity_vs_loss() -> str:
    """Perplexity = e^loss, with the uniform models' losses ln nV marked."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    loss = np.linspace(0.0, 11.0, 200)
    fig, ax = new_figure(5.5, 3.0)
    ax.semilogy(loss, np.asarray(perplexity(loss)), color=BLUE, lw=2)
    for v in UNIFORM_VS:
        ax.plot([math.log(v)], [perplexity(math.log(v))], "o", color=ORANGE)
        ax.annotate(
            f"uniform, $n_V$ = {v}", (math.log(v), v), textcoords="offset points", xytext=(6, -12)
        )
    ax.set_xlabel("mean loss (nats per token)")
    ax.set_ylabel("perplexity (log scale)")
    return svg(
        fig,
        alt="Perplexity grows exponentially with the mean loss; uniform models sit at ln n_V",
        caption="Perplexity against the mean loss; the uniform models sit at loss ln n<sub>V</sub>",
    )
