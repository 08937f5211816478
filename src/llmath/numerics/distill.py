r"""Knowledge distillation: the temperature-scaled KL loss of Hinton et al. (2015) and its gradient."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_real, guard
from llmath.attention.softmax import log_softmax

__all__ = ["distillation_grad", "distillation_loss"]

Array = NDArray[np.float64]


def _inputs(
    student: ArrayLike, teacher: ArrayLike, temperature: object
) -> tuple[Array, Array, float]:
    s = as_float_array(student, name="student_logits", expected="(..., V)", min_ndim=1)
    t = as_float_array(teacher, name="teacher_logits", expected="(..., V)", min_ndim=1)
    if s.shape != t.shape:
        raise ShapeError(
            f"student_logits and teacher_logits must have the same shape (..., V); "
            f"got {s.shape} and {t.shape}"
        )
    tau = check_real(temperature, name="temperature", above=0)
    return s, t, tau


@guard
# --8<-- [start:loss]
def distillation_loss(
    student_logits: ArrayLike, teacher_logits: ArrayLike, *, temperature: float = 1.0
) -> float:
    # --8<-- [end:loss]
    r"""Return $\tau^2$ times the mean KL divergence from the teacher's softened distribution.

    $$
    \begin{aligned}
    p &= \operatorname{softmax}(z^{T}/\tau),\quad
    q = \operatorname{softmax}(z^{S}/\tau),\\
    \mathcal{L} &= \tau^2\,\frac1N \sum_{n=1}^{N}
    \mathrm{KL}(p_n \,\|\, q_n) .
    \end{aligned}
    $$

    $N$ is the number of positions (the product of the leading axes). The KL sum is the one
    of [kl_divergence][llmath.probability.information.kl_divergence], computed from
    [log_softmax][llmath.attention.softmax.log_softmax] so that a tiny $q_i$ does not
    underflow to $\log 0$. The gradient with respect to $z^S$ is
    $\tau\,(q - p)/N$ ([distillation_grad][llmath.numerics.distill.distillation_grad]): the
    factor $\tau^2$ keeps its size comparable across temperatures. Equals
    `tau**2 * torch.nn.functional.kl_div(log q, log p, log_target=True, reduction="batchmean")`
    for logits of shape `(N, V)`.

    Args:
        student_logits: $z^S$, shape `(..., V)`.
        teacher_logits: $z^T$, shape `(..., V)`, the same shape.
        temperature: $\tau > 0$ (keyword-only).

    Returns:
        The loss $\mathcal{L} \ge 0$ in nats.

    Raises:
        ValueError: if the logits are not finite real arrays of one shape or $\tau \le 0$.

    Examples:
        >>> round(distillation_loss([0.0, 0.0], [0.0, 0.0], temperature=2.0), 6)
        0.0
        >>> round(distillation_loss([1.0, 0.0], [0.0, 1.0], temperature=1.0), 4)
        0.4621

    Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural Network" (2015),
    section 2 (soft targets at a raised temperature; gradients scaled by its square).
    """
    s, t, tau = _inputs(student_logits, teacher_logits, temperature)
    # --8<-- [start:loss-body]
    log_q = log_softmax(s / tau)  # (..., V): student
    log_p = log_softmax(t / tau)  # (..., V): teacher
    kl = np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)  # (...): KL(p || q)
    return float(tau**2 * kl.mean())
    # --8<-- [end:loss-body]


@guard
# --8<-- [start:grad]
def distillation_grad(
    student_logits: ArrayLike, teacher_logits: ArrayLike, *, temperature: float = 1.0
) -> Array:
    # --8<-- [end:grad]
    r"""Return $\partial\mathcal{L}/\partial z^S = \tau\,(q - p)/N$ for the distillation loss.

    $$
    \frac{\partial \mathcal{L}}{\partial z^S_{n,i}}
    = \frac{\tau^2}{N}\cdot\frac{q_{n,i} - p_{n,i}}{\tau}
    = \frac{\tau}{N}(q_{n,i} - p_{n,i}) .
    $$

    The KL's gradient with respect to its logits $z^S/\tau$ is $q - p$ (the softmax
    cross-entropy gradient of Part 2); the chain rule through $z^S/\tau$ contributes $1/\tau$.
    Without the factor $\tau^2$ the gradient would shrink like $1/\tau$, and for large $\tau$
    like $1/\tau^2$, since $q - p \approx (z^S - z^T - \text{mean})/(\tau V)$.

    Args:
        student_logits: $z^S$, shape `(..., V)`.
        teacher_logits: $z^T$, shape `(..., V)`.
        temperature: $\tau > 0$ (keyword-only).

    Returns:
        `(..., V)`: the gradient, shape of the logits; each row sums to 0.

    Raises:
        ValueError: as for [distillation_loss][llmath.numerics.distill.distillation_loss].

    Examples:
        >>> distillation_grad([[0.0, 0.0]], [[0.0, 0.0]], temperature=2.0).tolist()
        [[0.0, 0.0]]
    """
    s, t, tau = _inputs(student_logits, teacher_logits, temperature)
    # --8<-- [start:grad-body]
    n = s.size // s.shape[-1]  # N positions
    q = np.exp(log_softmax(s / tau))  # (..., V)
    p = np.exp(log_softmax(t / tau))  # (..., V)
    out: Array = tau * (q - p) / n  # (..., V)
    return out
    # --8<-- [end:grad-body]
