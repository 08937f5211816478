r"""n-gram language models with add-$k$ smoothing, and a small grammar to train them on.

An n-gram model makes the Markov assumption: the next token depends only on the $n - 1$ tokens
before it,

$$
P(x_t \mid x_1, \dots, x_{t-1}) \approx P(x_t \mid x_{t-n+1}, \dots, x_{t-1}) ,
$$

and estimates each conditional distribution from counts. Sentences are padded with $n - 1$
begin markers `<s>` and one end marker `</s>`, so that the first words have a context and the
model also learns where sentences stop.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from llmath._checks import (
    check_positive_int,
    check_real,
    check_rng,
    check_sentences,
    check_tokens,
)

__all__ = ["BOS", "EOS", "GRAMMAR", "UNK", "NGramModel", "enumerate_sentences", "generate_corpus"]

Array = NDArray[np.float64]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"

GRAMMAR: dict[str, list[tuple[float, tuple[str, ...]]]] = {
    "S": [(1.0, ("NP", "VP"))],
    "NP": [(0.7, ("Det", "N")), (0.3, ("Det", "Adj", "N"))],
    "Det": [(0.6, ("the",)), (0.4, ("a",))],
    "Adj": [(0.4, ("small",)), (0.3, ("old",)), (0.2, ("happy",)), (0.1, ("grey",))],
    "N": [
        (0.3, ("cat",)),
        (0.25, ("dog",)),
        (0.2, ("child",)),
        (0.15, ("bird",)),
        (0.1, ("teacher",)),
    ],
    "VP": [(0.45, ("Vi",)), (0.35, ("Vt", "NP")), (0.2, ("Vi", "PP"))],
    "Vi": [(0.4, ("sleeps",)), (0.3, ("sits",)), (0.2, ("runs",)), (0.1, ("sings",))],
    "Vt": [(0.4, ("sees",)), (0.3, ("likes",)), (0.2, ("chases",)), (0.1, ("follows",))],
    "PP": [(1.0, ("P", "NP"))],
    "P": [(0.5, ("on",)), (0.3, ("near",)), (0.2, ("under",))],
}
"""A small probabilistic grammar: each symbol maps to `(probability, expansion)` pairs.

Symbols that are not keys are words. It generates sentences such as *the old cat sees a dog*
and *a bird sits under the teacher*.
"""


Grammar = dict[str, list[tuple[float, tuple[str, ...]]]]


def _check_grammar(grammar: object, start: object) -> Grammar:
    """Return `grammar` (default `GRAMMAR`) after checking its form, its weights and `start`.

    Each symbol maps to a non-empty list of `(weight, expansion)` pairs: a weight is a finite
    number > 0 (they are normalised per symbol) and an expansion a tuple of strings, never one
    string, which would be read one character at a time.
    """
    g = GRAMMAR if grammar is None else grammar
    if not isinstance(g, dict) or not g:
        raise ValueError(f"grammar must be a non-empty dict symbol -> rules; got {g!r:.60}")
    for sym, options in g.items():
        where = f"grammar[{sym!r}]"
        if not isinstance(sym, str):
            raise ValueError(f"grammar symbols must be strings; got {sym!r:.60}")
        if not isinstance(options, Sequence) or isinstance(options, str) or not options:
            raise ValueError(f"{where} must be a non-empty list of (weight, expansion) pairs")
        for rule in options:
            if not isinstance(rule, Sequence) or isinstance(rule, str) or len(rule) != 2:
                raise ValueError(f"{where} must hold (weight, expansion) pairs; got {rule!r:.60}")
            weight, expansion = rule
            check_real(weight, name=f"the weight of a rule in {where}", above=0)
            if isinstance(expansion, str) or not isinstance(expansion, Sequence):
                raise ValueError(
                    f"{where}: an expansion must be a tuple of symbols such as ('the',), "
                    f"not {expansion!r:.60}"
                )
            if not all(isinstance(e, str) for e in expansion):
                raise ValueError(f"{where}: an expansion must hold strings; got {expansion!r:.60}")
    if not isinstance(start, str) or start not in g:
        raise ValueError(f"start must be a symbol of the grammar; got {start!r:.60}")
    return g


def _expand(
    symbol: str,
    rules: dict[str, tuple[NDArray[np.float64], list[tuple[str, ...]]]],
    rng: np.random.Generator,
    max_steps: int,
) -> list[str]:
    """Expand `symbol` left to right, drawing each rule by inverse CDF on one uniform number."""
    out: list[str] = []
    stack = [symbol]
    steps = 0
    while stack:
        steps += 1
        if steps > max_steps:
            raise ValueError(
                f"a sentence needed more than max_steps = {max_steps} expansions: the grammar "
                "may never terminate (a recursive rule drawn too often); lower its weight or "
                "raise max_steps"
            )
        sym = stack.pop()
        if sym not in rules:
            out.append(sym)
            continue
        cdf, expansions = rules[sym]
        i = min(int(np.searchsorted(cdf, rng.random(), side="right")), len(expansions) - 1)
        stack.extend(reversed(expansions[i]))  # leftmost symbol is expanded first
    return out


def generate_corpus(
    rng: np.random.Generator,
    n_sentences: int,
    *,
    grammar: Grammar | None = None,
    start: str = "S",
    max_steps: int = 10_000,
) -> list[str]:
    r"""Sample sentences from a probabilistic grammar (by default [GRAMMAR][llmath.probability.ngram.GRAMMAR]).

    Nothing is downloaded: the corpus is generated, so it is the same on every machine for the
    same seed, and its true distribution is known.

    Args:
        rng: the random generator (passed in, so the corpus is reproducible).
        n_sentences: how many sentences to generate.
        grammar: symbol -> list of `(weight, expansion)`; the weights (finite, $> 0$) of each
            symbol's rules are normalised to sum to 1, and an expansion is a tuple of symbols.
        start: the symbol every sentence is expanded from.
        max_steps: the most symbol expansions one sentence may take. A recursive grammar such
            as `S -> S S` (weight 2/3) or `S -> a` grows forever with positive probability;
            this bound turns that hang into an error.

    Returns:
        The sentences, words separated by single spaces.

    Raises:
        ValueError: if `n_sentences` or `max_steps` is not a positive integer, `rng` is not a
            `numpy.random.Generator`, the grammar is malformed (a weight that is not a finite
            number $> 0$, an expansion that is a bare string), `start` is not a symbol of the
            grammar, or a sentence needs more than `max_steps` expansions.

    Examples:
        >>> corpus = generate_corpus(np.random.default_rng(0), 3)
        >>> len(corpus), all(s.split()[0] in ("the", "a") for s in corpus)
        (3, True)
    """
    rng = check_rng(rng)
    n = check_positive_int(n_sentences, name="n_sentences")
    max_steps = check_positive_int(max_steps, name="max_steps")
    g = _check_grammar(grammar, start)
    rules = {}
    for sym, options in g.items():
        weights = np.array([float(w) for w, _ in options])  # finite and > 0: checked
        weights /= weights.max()  # a sum of weights near 1e308 cannot overflow
        rules[sym] = (np.cumsum(weights / weights.sum()), [tuple(e) for _, e in options])
    return [" ".join(_expand(start, rules, rng, max_steps)) for _ in range(n)]


def enumerate_sentences(
    grammar: Grammar | None = None,
    *,
    start: str = "S",
    max_depth: int = 20,
) -> dict[str, float]:
    r"""Return every sentence a non-recursive grammar can produce, with its exact probability.

    The probability of a derivation is the product of the probabilities of the rules it uses;
    a sentence's probability is the sum over its derivations. For the default
    [GRAMMAR][llmath.probability.ngram.GRAMMAR] this lists the whole distribution that
    [generate_corpus][llmath.probability.ngram.generate_corpus] samples from, so exact
    quantities (the source's entropy, true conditional probabilities) can be computed.

    Args:
        grammar: symbol -> list of `(probability, expansion)` (default `GRAMMAR`).
        start: the start symbol.
        max_depth: derivations nested deeper than this raise an error (the grammar is then
            recursive, with infinitely many sentences).

    Returns:
        sentence (words separated by spaces) -> probability; the values sum to 1.

    Raises:
        ValueError: if the grammar is malformed (as for `generate_corpus`), `start` is not a
            symbol of it, `max_depth` is not a positive integer, or the grammar nests deeper
            than `max_depth`.

    Examples:
        >>> g = {"S": [(0.5, ("a",)), (0.5, ("A", "b"))], "A": [(0.2, ("a",)), (0.8, ("c",))]}
        >>> enumerate_sentences(g)
        {'a': 0.5, 'a b': 0.1, 'c b': 0.4}
    """
    g = _check_grammar(grammar, start)
    max_depth = check_positive_int(max_depth, name="max_depth")
    scale = {sym: max(float(w) for w, _ in rules) for sym, rules in g.items()}

    def expand(symbol: str, depth: int) -> dict[tuple[str, ...], float]:
        if symbol not in g:
            return {(symbol,): 1.0}
        if depth > max_depth:
            raise ValueError(f"the grammar nests deeper than max_depth = {max_depth} (recursive?)")
        total = math.fsum(float(w) / scale[symbol] for w, _ in g[symbol])
        out: dict[tuple[str, ...], float] = {}
        for w, expansion in g[symbol]:
            partial: dict[tuple[str, ...], float] = {(): float(w) / scale[symbol] / total}
            for sym in expansion:
                sub = expand(sym, depth + 1)
                partial = {a + b: pa * pb for a, pa in partial.items() for b, pb in sub.items()}
            for words, pw in partial.items():
                out[words] = out.get(words, 0.0) + pw
        return out

    return {" ".join(words): p for words, p in sorted(expand(start, 0).items())}


class NGramModel:
    r"""An n-gram language model estimated from counts, with add-$k$ smoothing.

    $$
    P(w \mid h) = \frac{c(h, w) + k}{c(h) + k n_V} ,
    $$

    where $h$ is the context (the previous $n - 1$ tokens), $c(h, w)$ counts how often $w$
    followed $h$ in training, $c(h) = \sum_w c(h, w)$, and $n_V$ is the size of the prediction
    vocabulary: the training words, `</s>` and `<unk>`. With $k = 0$ this is the
    maximum-likelihood estimate. Words not seen in training are mapped to `<unk>`.

    Args:
        n: the order: 1 for unigram, 2 for bigram, 3 for trigram, ...
        k: the smoothing pseudo-count, $k \ge 0$ (keyword-only).

    Raises:
        ValueError: if `n` is not a positive integer or `k` is negative or not finite.

    Examples:
        >>> m = NGramModel(2, k=0.0).fit(["a b", "a c"])
        >>> m.prob("b", ["a"])
        0.5
        >>> round(m.log_prob("a b"), 6)  # ln(1 * 0.5 * 1)
        -0.693147
    """

    def __init__(self, n: int, *, k: float = 1.0) -> None:
        self.n = check_positive_int(n, name="n")
        self.k = check_real(k, name="k", at_least=0)
        self.vocab: list[str] = []
        self._index: dict[str, int] = {}
        self._counts: dict[tuple[str, ...], Array] = {}

    def _padded(self, sentence: str | Sequence[str]) -> list[str]:
        words = [w if w in self._index else UNK for w in check_tokens(sentence, name="sentence")]
        return [BOS] * (self.n - 1) + words + [EOS]

    def fit(self, sentences: Iterable[str | Sequence[str]]) -> NGramModel:
        """Count every n-gram in `sentences` (strings or lists of tokens) and return the model.

        Args:
            sentences: the training corpus.

        Returns:
            `self`, so that `NGramModel(2).fit(corpus)` reads naturally.

        Raises:
            ValueError: if the corpus is empty, is one bare string instead of a list of
                sentences, holds something that is not a sentence, or uses the reserved tokens
                `<s>`, `</s>`, `<unk>`.

        Examples:
            >>> NGramModel(1).fit(["b a", "a"]).vocab
            ['a', 'b', '</s>', '<unk>']
        """
        corpus = check_sentences(sentences, name="sentences")
        words = sorted({w for s in corpus for w in s})
        reserved = {BOS, EOS, UNK} & set(words)
        if reserved:
            raise ValueError(f"sentences must not contain the reserved tokens {sorted(reserved)}")
        self.vocab = [*words, EOS, UNK]
        self._index = {w: i for i, w in enumerate(self.vocab)}
        grams: Counter[tuple[str, ...]] = Counter()
        for s in corpus:
            padded = self._padded(s)
            for t in range(self.n - 1, len(padded)):
                grams[tuple(padded[t - self.n + 1 : t + 1])] += 1
        self._counts = {}
        for gram, c in grams.items():
            row = self._counts.setdefault(gram[:-1], np.zeros(len(self.vocab)))
            row[self._index[gram[-1]]] += c
        return self

    def _context(self, context: Sequence[str]) -> tuple[str, ...]:
        if not self.vocab:
            raise ValueError("the model has not been fitted: call fit(sentences) first")
        context = check_tokens(context, name="context")
        ctx = [BOS] * (self.n - 1) + [w if w in self._index or w == BOS else UNK for w in context]
        return tuple(ctx[len(ctx) - (self.n - 1) :]) if self.n > 1 else ()

    def counts(self, context: Sequence[str]) -> Array:
        """Return the raw counts $c(h, w)$ for every $w$ in `vocab`, shape `(nV,)`.

        Args:
            context: the preceding tokens (a list, or a string split on spaces); only the last
                $n - 1$ are used, and missing ones are `<s>`.

        Returns:
            The counts, zeros for a context never seen.

        Raises:
            ValueError: if the model has not been fitted.

        Examples:
            >>> NGramModel(2).fit(["a b", "a b", "a c"]).counts(["a"])
            array([0., 2., 1., 0., 0.])
        """
        return self._counts.get(self._context(context), np.zeros(len(self.vocab))).copy()

    @property
    def n_contexts(self) -> int:
        """The number of distinct contexts seen in training."""
        return len(self._counts)

    # --8<-- [start:distribution]
    def distribution(self, context: Sequence[str]) -> Array:
        # --8<-- [end:distribution]
        r"""Return $P(\cdot \mid h)$ over `vocab`, shape `(nV,)`, summing to 1.

        Args:
            context: the preceding tokens; only the last $n - 1$ are used.

        Returns:
            The smoothed conditional distribution. For a context never seen in training it is
                uniform when $k > 0$.

        Raises:
            ValueError: if the model has not been fitted, or $k = 0$ and the context was never
                seen (the maximum-likelihood estimate is then $0/0$).

        Examples:
            >>> NGramModel(2, k=1.0).fit(["a b"]).distribution(["a"])
            array([0.2, 0.4, 0.2, 0.2])
        """
        # --8<-- [start:distribution-body]
        c = self.counts(context)  # (nV,): c(h, w) for every w
        total = c.sum() + self.k * len(self.vocab)  # c(h) + k nV
        if total == 0:
            raise ValueError(
                f"context {self._context(context)} was never seen in training "
                "and k = 0: its maximum-likelihood distribution is undefined "
                "(use k > 0)"
            )
        out: Array = (c + self.k) / total
        return out
        # --8<-- [end:distribution-body]

    def prob(self, token: str, context: Sequence[str]) -> float:
        r"""Return $P(w \mid h)$ for one token (an unknown word is scored as `<unk>`).

        Args:
            token: the next token $w$.
            context: the preceding tokens.

        Returns:
            The smoothed probability.

        Raises:
            ValueError: as for `distribution`.

        Examples:
            >>> NGramModel(1, k=0.0).fit(["a a b"]).prob("a", [])
            0.5
        """
        if not isinstance(token, str):
            raise ValueError(f"token must be a string; got {token!r:.60}")
        return float(self.distribution(context)[self._index.get(token, self._index[UNK])])

    def log_prob(self, sentence: str | Sequence[str]) -> float:
        r"""Return $\ln P(\text{sentence})$ by the chain rule, including the end marker.

        $$
        \ln P(x_1, \dots, x_T) = \sum_{t=1}^{T+1} \ln P(x_t \mid x_{t-n+1}, \dots, x_{t-1}) ,
        \qquad x_{T+1} = \texttt{</s>} .
        $$

        Args:
            sentence: a string (split on spaces) or a list of tokens.

        Returns:
            The natural log-probability; `-inf` if some factor is 0 (possible only with $k = 0$).

        Raises:
            ValueError: as for `distribution`.

        Examples:
            >>> round(NGramModel(1, k=0.0).fit(["a b"]).log_prob("a"), 6)  # ln(1/3 * 1/3)
            -2.197225
        """
        padded = self._padded(sentence)
        total = 0.0
        for t in range(self.n - 1, len(padded)):
            p = self.distribution(padded[t - self.n + 1 : t])[self._index[padded[t]]]
            total += float(np.log(p)) if p > 0 else -np.inf
        return total

    def nll(self, sentences: Iterable[str | Sequence[str]]) -> float:
        """Return the mean negative log-likelihood per predicted token, in nats.

        Every word and every end marker is a predicted token; `exp` of the result is the
        model's perplexity on `sentences`.

        Args:
            sentences: the evaluation corpus.

        Returns:
            The mean NLL (`inf` if some token has probability 0).

        Raises:
            ValueError: if `sentences` is empty or one bare string instead of a list of
                sentences, or as for `distribution`.

        Examples:
            >>> round(NGramModel(1, k=0.0).fit(["a b"]).nll(["a b"]), 6)  # ln 3
            1.098612
        """
        total, count = 0.0, 0
        for s in check_sentences(sentences, name="sentences"):
            total -= self.log_prob(s)
            count += len(s) + 1
        return total / count

    def sample(self, rng: np.random.Generator, *, max_len: int = 30) -> str:
        """Generate one sentence, token by token from the model's distributions.

        Args:
            rng: the random generator (passed in, so samples are reproducible).
            max_len: stop after this many words if `</s>` has not been drawn.

        Returns:
            The sentence, words separated by spaces (`<unk>` may appear when $k > 0$).

        Raises:
            ValueError: if the model has not been fitted, `rng` is not a Generator or `max_len`
                is not a positive integer.

        Examples:
            >>> NGramModel(2, k=0.0).fit(["a b"]).sample(np.random.default_rng(0))
            'a b'
        """
        rng = check_rng(rng)
        max_len = check_positive_int(max_len, name="max_len")
        words: list[str] = []
        while len(words) < max_len:
            p = self.distribution(words)
            word = self.vocab[int(rng.choice(len(self.vocab), p=p))]
            if word == EOS:
                break
            words.append(word)
        return " ".join(words)
