r"""Vectors: Euclidean norm, cosine similarity, and embeddings as rows of a matrix."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import (
    ShapeError,
    as_float_array,
    as_int_array,
    broadcast_leading,
    check_positive_int,
    guard,
)

__all__ = ["cosine_similarity", "embed", "norm", "one_hot"]


@guard
# --8<-- [start:norm]
def norm(x: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:norm]
    r"""Return the Euclidean length of each vector along the last axis.

    $$
    \lVert x \rVert_2 = \sqrt{\sum_{i=1}^{D} x_i^2}
    = s \sqrt{\sum_{i=1}^{D} (x_i / s)^2}, \qquad s = \max_i |x_i| .
    $$

    The scaled form is what is computed: squaring $10^{200}$ overflows to infinity in float64,
    while $x_i / s$ lies in $[-1, 1]$, so every square is at most 1.

    Args:
        x: vectors, shape `(..., D)`.

    Returns:
        Lengths, shape `(...)`.

    Raises:
        ShapeError: if `x` is a scalar.
        ValueError: if `x` contains NaN or infinity.

    Examples:
        >>> float(norm([3.0, 4.0]))
        5.0
        >>> float(norm([3e200, 4e200]) / 1e200)  # squaring 3e200 would overflow
        5.0
    """
    # --8<-- [start:norm-body]
    x = as_float_array(x, name="x", expected="(..., D)", min_ndim=1)
    s = np.abs(x).max(axis=-1, keepdims=True, initial=0.0)  # (..., 1)
    safe = np.where(s > 0, s, 1.0)  # a zero vector has length 0, not 0/0
    sum_sq = ((x / safe) ** 2).sum(axis=-1)  # (...)
    out: NDArray[np.float64] = s[..., 0] * np.sqrt(sum_sq)  # (...)
    return out
    # --8<-- [end:norm-body]


@guard
# --8<-- [start:cosine]
def cosine_similarity(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:cosine]
    r"""Return the cosine of the angle between vectors, along the last axis.

    $$
    \cos\theta = \frac{a \cdot b}{\lVert a \rVert_2 \, \lVert b \rVert_2} \in [-1, 1] .
    $$

    Each vector is divided by its length *before* the dot product, so the result cannot
    overflow and is clipped to $[-1, 1]$ against rounding. The angle to a zero vector is
    undefined, so a zero vector is an error rather than a silent 0 or NaN.

    Args:
        a: shape `(..., D)`.
        b: shape `(..., D)`, broadcastable against `a`; e.g. `a[:, None]` and `b[None]` give
            every pair.

    Returns:
        Cosines, shape `(...)` (the broadcast of the leading axes).

    Raises:
        ShapeError: if the last axes differ or the leading axes do not broadcast.
        ValueError: if a vector is zero or an input contains NaN or infinity.

    Examples:
        >>> float(cosine_similarity([1.0, 0.0], [1.0, 1.0]).round(4))
        0.7071
        >>> float(cosine_similarity([1.0, 2.0], [-2.0, -4.0]).round(12))
        -1.0
    """
    # --8<-- [start:cosine-body]
    a = as_float_array(a, name="a", expected="(..., D)", min_ndim=1)
    b = as_float_array(b, name="b", expected="(..., D)", min_ndim=1)
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(
            f"a (..., D) and b (..., D) must share D; got {a.shape} and {b.shape}",
        )
    broadcast_leading("a", a.shape, "b", b.shape, skip=1)
    na, nb = norm(a), norm(b)  # (...), (...)
    for name, n in (("a", na), ("b", nb)):
        if np.any(n == 0):
            raise ValueError(
                f"cosine similarity is undefined for a zero vector; {name} has one",
            )
    dots = ((a / na[..., None]) * (b / nb[..., None])).sum(axis=-1)  # (...)
    out: NDArray[np.float64] = np.clip(dots, -1.0, 1.0)  # (...)
    return out
    # --8<-- [end:cosine-body]


@guard
def one_hot(ids: ArrayLike, nV: int) -> NDArray[np.float64]:
    r"""Return one-hot rows: row $t$ is the standard basis vector $e_{\text{ids}_t}$ of length $n_V$.

    Args:
        ids: integer token ids, shape `(...)`, each in `[0, nV)`.
        nV: the vocabulary size $n_V$ (the length of each row).

    Returns:
        Shape `(..., nV)`, float64 zeros with a single 1 per row.

    Raises:
        ShapeError: if `ids` is empty.
        ValueError: if `ids` are not integers or lie outside `[0, nV)`, or `nV` is not a positive
            integer.

    Examples:
        >>> one_hot([2, 0], 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    nV = check_positive_int(nV, name="nV")
    idx = as_int_array(ids, name="ids", expected="(...)", high=nV, high_name="nV", allow_empty=True)
    hot: NDArray[np.float64] = (idx[..., None] == np.arange(nV)).astype(np.float64)  # (..., nV)
    return hot


@guard
# --8<-- [start:embed]
def embed(ids: ArrayLike, table: ArrayLike) -> NDArray[np.float64]:
    # --8<-- [end:embed]
    r"""Look up the embedding row of each token id.

    $$
    \operatorname{embed}(i) = E_{i,:} = e_i E, \qquad E \in \mathbb{R}^{n_V \times D},\;
    e_i \in \mathbb{R}^{1 \times n_V} \text{ one-hot} .
    $$

    The lookup *is* a matrix product with a one-hot vector, `one_hot(ids, nV) @ table`, but
    indexing costs $O(D)$ per token instead of $O(n_V D)$.

    Args:
        ids: integer token ids, shape `(...)`, each in `[0, nV)`.
        table: the embedding matrix $E$, shape `(nV, D)`.

    Returns:
        Shape `(..., D)`.

    Raises:
        ShapeError: if `table` is not 2-D or an input is empty.
        ValueError: if `ids` are not integers or lie outside `[0, nV)`, or `table` is not a
            finite real array.

    Examples:
        >>> embed([1, 1, 0], [[0.0, 1.0], [2.0, 3.0]])
        array([[2., 3.],
               [2., 3.],
               [0., 1.]])
    """
    # --8<-- [start:embed-body]
    E = as_float_array(table, name="table", expected="(nV, D)", ndim=2)
    idx = as_int_array(
        ids,
        name="ids",
        expected="(...)",
        high=E.shape[0],
        allow_empty=True,
        high_from="the number of rows of table (nV, D)",
    )
    return E[idx]  # (..., D)
    # --8<-- [end:embed-body]
