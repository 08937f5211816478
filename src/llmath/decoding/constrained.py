r"""Constrained decoding: mask the tokens that would take the text out of a regular language.

A deterministic finite automaton (DFA) reads the generated text character by character. Before
each step, a token is allowed if reading its characters from the current state ends in a *live*
state, one from which an accepting state can still be reached; the end-of-sequence token is
allowed only in an accepting state. The disallowed tokens get probability 0 and the rest are
renormalised: every finished sequence is in the language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_bool_mask, as_float_array, check_positive_int, guard
from llmath.attention.softmax import softmax

__all__ = ["DFA", "constrained_probs", "decimal_dfa", "dfa_advance", "token_mask"]


class DFA(NamedTuple):
    """A deterministic finite automaton: a missing transition means the text left the language."""

    start: int
    accept: frozenset[int]
    transitions: Mapping[tuple[int, str], int]  # (state, character) -> next state


def _check_dfa(dfa: object) -> DFA:
    if isinstance(dfa, tuple) and not isinstance(dfa, DFA) and len(dfa) == 3:
        dfa = DFA(*dfa)
    if not isinstance(dfa, DFA):
        raise ValueError(f"dfa must be a DFA(start, accept, transitions); got {dfa!r:.40}")
    ok = isinstance(dfa.transitions, Mapping) and all(
        isinstance(k, tuple) and len(k) == 2 and isinstance(k[1], str) and len(k[1]) == 1
        and isinstance(k[0], int) and isinstance(v, int)
        for k, v in dfa.transitions.items()
    )  # fmt: skip
    if not ok:
        raise ValueError("dfa.transitions must map (state, one character) to a state")
    if not isinstance(dfa.accept, frozenset | set) or not isinstance(dfa.start, int):
        raise ValueError("dfa must have an int start state and a set of accepting states")
    return dfa


def decimal_dfa() -> DFA:
    r"""The DFA of decimal numbers: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.

    States: 0 start, 1 after the sign, 2 a leading zero, 3 an integer part, 4 after the point,
    5 a fraction. Accepting: 2, 3 and 5. "007", "1." and ".5" are not in the language. The
    automaton is fixed (Args: none; Raises: nothing).

    Returns:
        The automaton.

    Examples:
        >>> d = decimal_dfa()
        >>> dfa_advance(d, d.start, "-12.5") in d.accept, dfa_advance(d, d.start, "01")
        (True, None)
    """
    nonzero = "123456789"
    t: dict[tuple[int, str], int] = {(0, "-"): 1, (0, "0"): 2, (1, "0"): 2}
    for c in nonzero:
        t[0, c] = t[1, c] = 3
    for c in "0" + nonzero:
        t[3, c] = 3
        t[4, c] = t[5, c] = 5
    t[2, "."] = t[3, "."] = 4
    return DFA(0, frozenset({2, 3, 5}), t)


def dfa_advance(dfa: DFA, state: int, text: str) -> int | None:
    r"""The state after reading `text` from `state`, or None if the text leaves the automaton.

    Args:
        dfa: the automaton.
        state: the current state.
        text: the characters to read.

    Returns:
        The new state, or None.

    Raises:
        ValueError: if `dfa` is not a DFA, `state` is not one of its states or `text` is not
            a `str`.

    Examples:
        >>> dfa_advance(decimal_dfa(), 0, "3.")
        4
    """
    d = _check_dfa(dfa)
    s = _check_state(d, state)
    if not isinstance(text, str):
        raise ValueError(f"text must be a str; got {type(text).__name__}")
    return _run(d, s, text)


def _run(d: DFA, state: int | None, text: str) -> int | None:
    for ch in text:
        if state is None:
            return None
        state = d.transitions.get((state, ch))
    return state


def _states(d: DFA) -> set[int]:
    return {d.start, *d.accept, *(s for s, _ in d.transitions), *d.transitions.values()}


def _check_state(d: DFA, state: object) -> int:
    s = check_positive_int(state, name="state", at_least=0)
    if s not in _states(d):
        raise ValueError(f"state must be a state of dfa, one of {sorted(_states(d))}; got {s}")
    return s


def _live(d: DFA) -> set[int]:
    """States from which an accepting state is reachable (backwards search from accept)."""
    live = set(d.accept)
    changed = True
    while changed:
        new = {s for (s, _), t in d.transitions.items() if t in live} - live
        live |= new
        changed = bool(new)
    return live


# --8<-- [start:mask]
def token_mask(
    dfa: DFA, state: int, vocab: Sequence[str], *, eos: int | None = None
) -> NDArray[np.bool_]:
    # --8<-- [end:mask]
    r"""Which tokens keep the text inside the language when generated in `state`.

    $$
    m_v = \bigl[\, \delta^*(s, v) \in \text{live} \,\bigr],
    \qquad m_{\text{eos}} = [\, s \in F \,],
    $$

    where $\delta^*$ reads the token's characters one by one, *live* states can still reach an
    accepting state, and $F$ is the set of accepting states.

    Args:
        dfa: the automaton.
        state: the state after the text generated so far.
        vocab: every token's string, shape `(nV,)`.
        eos: the end-of-sequence id, allowed only in an accepting state (its string is ignored).

    Returns:
        The allowed tokens, booleans of shape `(nV,)`.

    Raises:
        ValueError: if `dfa` is not a DFA, `state` is not one of its states, `vocab` is not a
            sequence of strings or `eos` is not an id in `[0, nV)`.

    Examples:
        >>> d = decimal_dfa()
        >>> token_mask(d, d.start, ["1", "0", ".", "-", "12", "<eos>"], eos=5).tolist()
        [True, True, False, True, True, False]
    """
    d = _check_dfa(dfa)
    s = _check_state(d, state)
    if isinstance(vocab, str | bytes) or not isinstance(vocab, Sequence) or not vocab:
        raise ValueError(f"vocab must be a non-empty sequence of token strings; got {vocab!r:.40}")
    if not all(isinstance(v, str) for v in vocab):
        raise ValueError("vocab must hold strings, one per token id")
    if eos is not None:
        eos = check_positive_int(eos, name="eos", at_least=0)
        if eos >= len(vocab):
            raise ValueError(f"eos must lie in [0, nV) = [0, {len(vocab)}); got {eos}")
    # --8<-- [start:mask-body]
    live = _live(d)
    mask = np.array([_run(d, s, v) in live for v in vocab])  # (nV,)
    if eos is not None:
        mask[eos] = s in d.accept  # stop only inside the language
    return mask
    # --8<-- [end:mask-body]


@guard
def constrained_probs(logits: ArrayLike, mask: ArrayLike) -> NDArray[np.float64]:
    r"""The model's next-token distribution restricted to the allowed tokens and renormalised.

    $$
    \tilde p_v = \frac{p_v\, m_v}{\sum_u p_u\, m_u}
    = \frac{e^{z_v}\, m_v}{\sum_u e^{z_u}\, m_u},
    $$

    the softmax of the logits with the disallowed ones set to $-\infty$ (computed with
    [softmax][llmath.attention.softmax.softmax]'s `where`, so no infinity is ever formed).

    Args:
        logits: $z$, shape `(..., nV)`.
        mask: allowed tokens $m$, booleans broadcastable to `(..., nV)`, at least one per row.

    Returns:
        $\tilde p$, shape `(..., nV)`, zero outside the mask.

    Raises:
        ValueError: if `logits` is not a finite real array, or `mask` is not boolean, does not
            broadcast, or allows no token in some row.

    Examples:
        >>> constrained_probs([0.0, 5.0, 0.0], [True, False, True])
        array([0.5, 0. , 0.5])
    """
    z = as_float_array(logits, name="logits", expected="(..., nV)", min_ndim=1)
    m = as_bool_mask(mask, name="mask", shape=z.shape)
    if not m.any(axis=-1).all():
        raise ValueError("mask allows no token in some row: the language cannot be continued")
    return softmax(z, where=m)  # (..., nV)
