r"""A learning-rate schedule (linear warmup, then cosine decay) and global gradient-norm clipping."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import as_float_array, check_positive_int, check_real

__all__ = ["clip_grad_norm", "cosine_schedule"]

Array = NDArray[np.float64]

_CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_ divides by (norm + 1e-6)


# --8<-- [start:cosine]
def cosine_schedule(
    step: int,
    *,
    max_lr: float,
    warmup_steps: int,
    total_steps: int,
    min_lr: float = 0.0,
) -> float:
    # --8<-- [end:cosine]
    r"""The learning rate at `step` (counted from 0): linear warmup, then a half cosine.

    $$
    \eta_s = \begin{cases}
    \eta_{\max}\,\dfrac{s + 1}{W}, & s < W, \\[4pt]
    \eta_{\min} + \tfrac12 (\eta_{\max} - \eta_{\min})
      (1 + \cos \pi \rho_s), & W \le s < S, \\[4pt]
    \eta_{\min}, & s \ge S,
    \end{cases}
    $$

    with $\rho_s = (s - W) / (S - W)$ the fraction of the decay done, $W$ = `warmup_steps`
    and $S$ = `total_steps`. The warmup reaches $\eta_{\max}$ at its last step $W - 1$, the
    decay starts from it at $s = W$ and ends at $\eta_{\min}$ at $s = S$.

    Args:
        step: $s \ge 0$, the number of steps already taken.
        max_lr: $\eta_{\max} \ge 0$, the peak.
        warmup_steps: $W \ge 0$ (0: no warmup).
        total_steps: $S \ge W$, $S \ge 1$, where the decay ends.
        min_lr: $\eta_{\min} \in [0, \eta_{\max}]$, the floor.

    Returns:
        The learning rate, a float.

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> [round(cosine_schedule(s, max_lr=1.0, warmup_steps=2, total_steps=6), 3)
        ...  for s in range(8)]
        [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]

    Loshchilov and Hutter (2017), Eq. (5), without restarts; the warmup as in Goyal et al.
    (2017), Sect. 2.2 (gradual warmup).
    """
    s = check_positive_int(step, name="step", at_least=0)
    peak = check_real(max_lr, name="max_lr", at_least=0)
    w = check_positive_int(warmup_steps, name="warmup_steps", at_least=0)
    total = check_positive_int(total_steps, name="total_steps")
    floor = check_real(min_lr, name="min_lr", at_least=0, at_most=peak)
    if total < w:
        raise ValueError(f"total_steps must be >= warmup_steps = {w}; got {total}")
    # --8<-- [start:cosine-body]
    if s < w:
        return peak * (s + 1) / w  # linear warmup: peak at step w - 1
    if s >= total:
        return floor
    progress = (s - w) / (total - w)  # 0 at the end of warmup, 1 at total_steps
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))
    # --8<-- [end:cosine-body]


def _norm(x: Array) -> float:
    """The L2 norm without overflow or underflow in the squares (scaled by the largest entry)."""
    top = float(np.abs(x).max())
    if top == 0 or not math.isfinite(top):  # all zero, or a norm that already overflowed
        return top
    return top * float(np.sqrt(np.sum(np.square(x / top))))


# --8<-- [start:clip]
def clip_grad_norm(
    grads: Sequence[ArrayLike],
    max_norm: float,
) -> tuple[list[Array], float]:
    # --8<-- [end:clip]
    r"""Scale all gradients together so that their global L2 norm is at most `max_norm`.

    $$
    \|g\| = \Big(\sum_i \|g_i\|_2^2\Big)^{1/2}, \qquad
    g_i \leftarrow g_i \min\Big(1, \frac{c}{\|g\| + 10^{-6}}\Big),
    $$

    with $c$ = `max_norm`: one factor for every array, so the direction of the whole gradient
    is kept; only its length changes. The $10^{-6}$ and the factor 1 applied below the threshold
    are `torch.nn.utils.clip_grad_norm_`'s. Norms are computed scaled by the largest entry, so
    squares of huge or tiny gradients neither overflow nor underflow.

    Args:
        grads: the gradient arrays, any shapes.
        max_norm: $c > 0$.

    Returns:
        The clipped copies (the inputs are not changed) and $\|g\|$ before clipping.

    Raises:
        ValueError: naming the argument, for a bad value, or if $\|g\|$ overflows float64.

    Examples:
        >>> clipped, total = clip_grad_norm([[3.0], [4.0, 0.0]], max_norm=1.0)
        >>> total, [c.round(6) for c in clipped]
        (5.0, [array([0.6]), array([0.8, 0. ])])

    Pascanu, Mikolov and Bengio (2013), Algorithm 1.
    """
    if isinstance(grads, str | bytes) or not isinstance(grads, Sequence) or not grads:
        raise ValueError(
            f"grads must be a non-empty list of arrays (write [g] for one); got {grads!r:.40}"
        )
    gs = [as_float_array(g, name=f"grads[{i}]", expected="(...)") for i, g in enumerate(grads)]
    c = check_real(max_norm, name="max_norm", above=0)
    # --8<-- [start:clip-body]
    total = _norm(np.array([_norm(g) for g in gs]))  # the norm of the per-array norms
    if not math.isfinite(total):
        raise ValueError(f"the global norm of grads overflows float64; got {total}")
    scale = min(1.0, c / (total + _CLIP_EPS))  # one factor for all: direction kept
    return [g * scale for g in gs], total
    # --8<-- [end:clip-body]
