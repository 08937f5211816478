r"""Autoregressive generation from Part 4's decoder with its key-value cache.

The prompt is run once; after that each step feeds only the newest token, and the cache
supplies the keys and values of every earlier position (Part 4, "The whole model"). The next
token is chosen by Part 3's decoding rules: greedy, or temperature, top-$k$ and top-$p$
filtering followed by one draw from `rng`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_int_array,
    check_positive_int,
    check_real,
    check_rng,
    guard,
)
from llmath.probability.sampling import (
    apply_temperature,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)
from llmath.transformer.model import ModelConfig, ModelParams, forward

__all__ = ["generate"]


def _next(
    z: NDArray[np.float64],
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    # --8<-- [start:next]
    if temperature == 0:  # the limit tau -> 0: the argmax, no draw
        return np.asarray(greedy(z), dtype=np.int64)  # (...)
    probs = apply_temperature(z, temperature)  # (..., nV)
    if top_k is not None:
        probs = top_k_filter(probs, top_k)
    if top_p is not None:
        probs = top_p_filter(probs, top_p)
    return np.asarray(sample(probs, rng), dtype=np.int64)  # (...): one draw each
    # --8<-- [end:next]


@guard
# --8<-- [start:generate]
def generate(
    params: ModelParams,
    prompt_ids: ArrayLike,
    *,
    config: ModelConfig,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    # --8<-- [end:generate]
    r"""Extend each prompt by `max_new_tokens` tokens, one at a time, reusing the KV cache.

    $$
    \begin{aligned}
    z_t &= \operatorname{forward}(i_t \mid \text{cache}_{<t}), \\
    i_{t+1} &\sim \operatorname{filter}(\operatorname{softmax}(z_t / \tau)),
    \end{aligned}
    $$

    where the filter is top-$k$, then top-$p$, if given. Step $t$ costs one position's
    attention against $t$ cached keys instead of a forward pass over all $t$ positions; the
    tokens are the same as without a cache (the cache only skips recomputation), and with the
    same `rng` so are the random draws: one `rng.random` call per step for the whole batch.

    Args:
        params: a [ModelParams][llmath.transformer.model.ModelParams] for `config`.
        prompt_ids: the prompts, shape `(..., T0)`: one token or more each, all of one length.
        config: the [ModelConfig][llmath.transformer.model.ModelConfig].
        max_new_tokens: how many tokens to add, $m$, with $T_0 + m - 1 \le$ `n_ctx`
            (the last token is sampled, never fed back).
        temperature: $\tau \ge 0$; $\tau = 0$ means greedy (the argmax, `rng` unused).
        top_k: keep the $k$ most probable tokens ($1 \le k \le n_V$), or `None`.
        top_p: keep the smallest set of mass $\ge p$ ($0 < p \le 1$), or `None`.
        rng: the only source of randomness.

    Returns:
        The prompts followed by the new tokens, int64, shape `(..., T0 + max_new_tokens)`.

    Raises:
        ValueError: if an argument is out of range, the prompts and new tokens exceed the
            context, or `params` does not fit `config`.

    Examples:
        >>> from llmath.transformer.model import init
        >>> c = ModelConfig(n_vocab=5, n_ctx=8, D=4, H=2, n_layers=1)
        >>> p = init(c, np.random.default_rng(0))
        >>> generate(p, [1, 2], config=c, max_new_tokens=3, temperature=0,
        ...          rng=np.random.default_rng(0)).shape
        (5,)
    """
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig; got {type(config).__name__}")
    ids = as_int_array(prompt_ids, name="prompt_ids", expected="(..., T0)", high=config.n_vocab,
                       high_from="config.n_vocab")  # fmt: skip
    if ids.ndim == 0:
        raise ShapeError("prompt_ids must have shape (..., T0), at least one axis; got a scalar")
    n = check_positive_int(max_new_tokens, name="max_new_tokens")
    tau = check_real(temperature, name="temperature", at_least=0)
    if top_k is not None:
        check_positive_int(top_k, name="top_k")
        if top_k > config.n_vocab:
            raise ValueError(f"top_k must be <= config.n_vocab = {config.n_vocab}; got {top_k}")
    if top_p is not None:
        top_p = check_real(top_p, name="top_p", above=0, at_most=1)
    rng = check_rng(rng)
    T0 = ids.shape[-1]
    if T0 + n - 1 > config.n_ctx:
        raise ValueError(
            f"max_new_tokens: {T0} prompt tokens + {n} new need {T0 + n - 1} positions; "
            f"config.n_ctx = {config.n_ctx}"
        )
    # --8<-- [start:loop]
    out = [ids.astype(np.int64)]  # (..., T0), then one (..., 1) per step
    logits, cache = forward(params, ids, config=config)  # the prompt, once: (..., T0, nV)
    for step in range(n):
        nxt = _next(logits[..., -1, :], tau, top_k, top_p, rng)  # (...)
        out.append(nxt[..., None])  # (..., 1)
        if step < n - 1:  # feed only the new token; the cache holds the rest
            logits, cache = forward(params, nxt[..., None], config=config, cache=cache)
    return np.concatenate(out, axis=-1)  # (..., T0 + max_new_tokens)
    # --8<-- [end:loop]
