r"""The backward pass of a LoRA adapter: the gradients of $A$ and $B$ from the merged weight's.

Part 1's [lora_merge][llmath.linalg.lowrank.lora_merge] folds an adapter into its frozen weight,
$W' = W + \frac{\alpha}{r} A B$. Training the adapter needs only the gradient of the loss with
respect to $W'$, which any backward pass of the merged model already computes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_real, guard

__all__ = ["lora_backward"]

Array = NDArray[np.float64]


@guard
# --8<-- [start:lora-backward]
def lora_backward(
    grad_w: ArrayLike, a: ArrayLike, b: ArrayLike, *, alpha: float
) -> tuple[Array, Array]:
    # --8<-- [end:lora-backward]
    r"""Return the gradients of $A$ and $B$ from the gradient $G$ of the merged weight $W'$.

    With $W' = W + s\,AB$ and $s = \alpha/r$, a change $dA$ changes $W'$ by $s\,dA\,B$, so
    $d\mathcal{L} = \langle G, s\,dA\,B\rangle = \langle s\,G B^\top, dA\rangle$, and likewise
    for $B$:

    $$
    \frac{\partial \mathcal{L}}{\partial A} = s\, G B^\top, \qquad
    \frac{\partial \mathcal{L}}{\partial B} = s\, A^\top G .
    $$

    The frozen $W$ gets no gradient. With $B = 0$ (LoRA's initialisation) the gradient of $A$
    is 0 on the first step: only $B$ moves until it is nonzero.

    Args:
        grad_w: $G$, the gradient with respect to the merged weight, shape `(N, M)`.
        a: the down-projection $A$, shape `(N, r)`.
        b: the up-projection $B$, shape `(r, M)`.
        alpha: the scale $\alpha$ (keyword-only), as in `lora_merge`.

    Returns:
        `(grad_a, grad_b)`, shapes `(N, r)` and `(r, M)`.

    Raises:
        ShapeError: if the shapes do not chain.
        ValueError: if an entry or `alpha` is not a finite real number.

    Examples:
        >>> ga, gb = lora_backward(np.ones((2, 3)), np.ones((2, 1)), np.zeros((1, 3)), alpha=2.0)
        >>> ga.ravel().tolist(), gb.ravel().tolist()
        ([0.0, 0.0], [4.0, 4.0, 4.0])

    Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models" (2021), Sect. 4.1.
    """
    # --8<-- [start:lora-backward-body]
    G = as_float_array(grad_w, name="grad_w", expected="(N, M)", ndim=2)
    A = as_float_array(a, name="a", expected="(N, r)", ndim=2)
    B = as_float_array(b, name="b", expected="(r, M)", ndim=2)
    if A.shape[0] != G.shape[0] or B.shape[1] != G.shape[1] or A.shape[1] != B.shape[0]:
        got = f"got grad_w {G.shape}, a {A.shape}, b {B.shape}"
        raise ShapeError(f"need grad_w (N, M), a (N, r), b (r, M); {got}")
    s = check_real(alpha, name="alpha") / A.shape[1]  # alpha / r
    grad_a = s * (G @ B.T)  # (N, r)
    grad_b = s * (A.T @ G)  # (r, M)
    return grad_a, grad_b
    # --8<-- [end:lora-backward-body]
