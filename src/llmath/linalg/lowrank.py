r"""Truncated SVD (the best rank-r approximation) and LoRA's low-rank weight updates."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_positive_int, check_real, guard

__all__ = ["lora_merge", "lora_param_count", "low_rank_approx"]


@guard
# --8<-- [start:lowrank]
def low_rank_approx(w: ArrayLike, r: int) -> NDArray[np.float64]:
    # --8<-- [end:lowrank]
    r"""Return the best rank-`r` approximation of `w`: keep the `r` largest singular values.

    $$
    W = U \Sigma V^\top = \sum_{i} \sigma_i u_i v_i^\top, \qquad
    W_r = \sum_{i=1}^{r} \sigma_i u_i v_i^\top .
    $$

    By the Eckart–Young–Mirsky theorem no matrix of rank at most $r$ is closer to $W$, in
    both norms: $\lVert W - W_r \rVert_F = \sqrt{\sum_{i>r} \sigma_i^2}$ and
    $\lVert W - W_r \rVert_2 = \sigma_{r+1}$.

    Args:
        w: shape `(N, M)`.
        r: the rank to keep, `1 <= r <= min(N, M)`.

    Returns:
        $W_r$, shape `(N, M)`.

    Raises:
        ShapeError: if `w` is not 2-D.
        ValueError: if `r` is not an integer in `[1, min(N, M)]`, or `w` is not finite.

    Examples:
        >>> low_rank_approx([[3.0, 0.0], [0.0, 1.0]], 1)
        array([[3., 0.],
               [0., 0.]])

    Eckart and Young, "The approximation of one matrix by another of lower rank" (1936).
    """
    # --8<-- [start:lowrank-body]
    W = as_float_array(w, name="w", expected="(N, M)", ndim=2)
    r = check_positive_int(r, name="r")
    if r > min(W.shape):
        raise ValueError(
            f"r must be at most min(N, M) = {min(W.shape)} for w {W.shape}; got {r}",
        )
    # k = min(N, M)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)  # (N, k), (k,), (k, M)
    out: NDArray[np.float64] = (U[:, :r] * s[:r]) @ Vt[:r]  # (N, r) @ (r, M) -> (N, M)
    return out
    # --8<-- [end:lowrank-body]


def lora_param_count(d_in: int, d_out: int, r: int) -> int:
    r"""Count LoRA's trainable parameters for one `(d_in, d_out)` weight.

    $$
    \#\text{LoRA} = r\,(d_\text{in} + d_\text{out}), \qquad
    \#\text{full} = d_\text{in}\, d_\text{out} .
    $$

    A full update $\Delta W$ has $d_\text{in} d_\text{out}$ entries; LoRA trains
    $A \in \mathbb{R}^{d_\text{in} \times r}$ and $B \in \mathbb{R}^{r \times d_\text{out}}$
    instead, which for a square $d \times d$ weight is $2dr$ against $d^2$ (a saving of
    $d / (2r)$; for a non-square weight the saving is $d_\text{in} d_\text{out} /
    (r (d_\text{in} + d_\text{out}))$). Exact integer arithmetic: no overflow for any width.

    Args:
        d_in: input width of the weight.
        d_out: output width of the weight.
        r: the adapter rank.

    Returns:
        The number of trainable parameters, an `int`.

    Raises:
        ValueError: if an argument is not a positive integer.

    Examples:
        >>> lora_param_count(4096, 4096, 8)
        65536
    """
    d_in = check_positive_int(d_in, name="d_in")
    d_out = check_positive_int(d_out, name="d_out")
    r = check_positive_int(r, name="r")
    return r * (d_in + d_out)


@guard
# --8<-- [start:lora]
def lora_merge(
    w: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    *,
    alpha: float,
) -> NDArray[np.float64]:
    # --8<-- [end:lora]
    r"""Fold a LoRA adapter into its frozen weight: $W' = W + \frac{\alpha}{r} A B$.

    $$
    x W' = x W + \frac{\alpha}{r}\,(x A) B, \qquad A \in \mathbb{R}^{N \times r},\;
    B \in \mathbb{R}^{r \times M} ,
    $$

    written for row vectors as everywhere in the book; the paper's column form is
    $W_0 + \frac{\alpha}{r} B A$ with its $A$ and $B$ the transposes of these. The update
    $AB$ has rank at most $r$, and with $B = 0$ at initialisation training starts from $W$.

    Args:
        w: the frozen weight $W$, shape `(N, M)`.
        a: the down-projection $A$, shape `(N, r)`.
        b: the up-projection $B$, shape `(r, M)`.
        alpha: the scale $\alpha$ (keyword-only); the update is multiplied by $\alpha / r$.

    Returns:
        $W'$, shape `(N, M)`.

    Raises:
        ShapeError: if the shapes do not chain, or the adapter rank $r$ is 0.
        ValueError: if an input or `alpha` is not a finite real number.

    Examples:
        >>> lora_merge(np.zeros((2, 2)), [[1.0], [0.0]], [[0.0, 2.0]], alpha=1.0)
        array([[0., 2.],
               [0., 0.]])

    Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models" (2021), section 4.1.
    """
    # --8<-- [start:lora-body]
    W = as_float_array(w, name="w", expected="(N, M)", ndim=2)
    A = as_float_array(a, name="a", expected="(N, r)", ndim=2)
    B = as_float_array(b, name="b", expected="(r, M)", ndim=2)
    if A.shape[0] != W.shape[0] or B.shape[1] != W.shape[1] or A.shape[1] != B.shape[0]:
        got = f"got w {W.shape}, a {A.shape}, b {B.shape}"
        raise ShapeError(f"need w (N, M), a (N, r), b (r, M); {got}")
    r = A.shape[1]
    if r == 0:
        raise ShapeError(
            f"the adapter rank r must be at least 1; got a {A.shape}, b {B.shape}",
        )
    scale = check_real(alpha, name="alpha") / r
    out: NDArray[np.float64] = W + scale * (A @ B)  # (N, M)
    return out
    # --8<-- [end:lora-body]
