"""Worked examples for the softmax and cross-entropy gradients chapter: inputs chosen here,
every result computed by llmath."""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

import llmath
from llmath.calculus.cross_entropy import cross_entropy, cross_entropy_grad
from llmath.calculus.numerical import numerical_grad
from llmath.calculus.softmax_grad import softmax_backward, softmax_jacobian

Array = NDArray[np.float64]

# One row of three logits for the Jacobian, and an upstream gradient g = dloss/ds to push back.
Z = np.array([2.0, 1.0, 0.1])
G = np.array([1.0, -2.0, 0.5])

# Three tokens, vocabulary of four, and the id of the correct next token for each.
LOGITS = np.array(
    [
        [2.0, 0.5, -1.0, 0.0],
        [0.1, 0.2, 0.3, 1.5],
        [-0.5, 1.0, 3.0, 0.2],
    ]
)
TARGETS = np.array([0, 3, 1])

GPT2_VOCAB = 50_257


@cache
def jacobian_example() -> dict[str, Array]:
    """s, J, its eigenvalues, the diagonal-only 'derivative', and three ways to compute g J."""
    s = llmath.softmax(Z)  # (N,)
    J = softmax_jacobian(Z)  # (N, N)
    diag_only = np.diag(s * (1 - s))  # (N, N): what the claim "s_i (1 - s_i)" gives
    full = G @ J  # (N,)
    vjp = softmax_backward(G, s)  # (N,)
    wrong = G @ diag_only  # (N,)
    compare = np.array([[*v, v.sum()] for v in (full, vjp, wrong)])  # (3, N + 1)
    return {
        "s": np.stack([Z, s]),
        "J": J,
        "eig": np.linalg.eigvalsh(J),
        "diag_only": diag_only,
        "compare": compare,
    }


def vocab_cost(nV: int = GPT2_VOCAB) -> dict[str, float]:
    """Entries and bytes of a float64 (nV, nV) Jacobian, against the nV numbers of the VJP."""
    return {
        "nV": nV,
        "entries": float(nV) * nV,
        "gib": float(nV) * nV * 8 / 2**30,
        "vjp_entries": float(nV),
        "ratio": float(nV),
    }


@cache
def ce_example() -> dict[str, Array | float]:
    """The three-token loss, probabilities, one-hot targets and gradients (mean and per token)."""
    n = TARGETS.size
    probs = llmath.softmax(LOGITS)  # (n, nV)
    hot = llmath.one_hot(TARGETS, LOGITS.shape[-1])  # (n, nV)
    grad = cross_entropy_grad(LOGITS, TARGETS)  # (n, nV)
    per_token = -np.take_along_axis(llmath.log_softmax(LOGITS), TARGETS[:, None], -1)[:, 0]
    return {
        "loss": cross_entropy(LOGITS, TARGETS),
        "per_token": per_token,
        "probs": probs,
        "onehot": hot,
        "grad": grad,
        "sum_grad": grad * n,
    }


def chain_rule_grad() -> Array:
    """Cross-entropy gradient of token 1 the long way: dloss/ds = -e_y / s_y, then softmax_backward."""
    s = llmath.softmax(LOGITS[0])  # (nV,)
    y = TARGETS[0]
    dout = -llmath.one_hot(y, s.size) / s[y]  # (nV,): d(-log s_y)/ds
    return softmax_backward(dout, s)


def naive_cross_entropy(z: Array, y: int) -> float:
    """The textbook formula -log(exp(z_y) / sum exp(z)), evaluated literally (it can overflow)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z)
        return float(-np.log(e[y] / e.sum()))


def stability() -> list[dict[str, object]]:
    """Naive formula against llmath's cross_entropy on large and widely spread logits."""
    cases = [([1.0, 2.0], 1), ([1000.0, 1001.0], 1), ([0.0, 800.0], 0), ([-1000.0, -1001.0], 0)]
    return [
        {
            "z": z,
            "y": y,
            "naive": naive_cross_entropy(np.array(z), y),
            "stable": cross_entropy(z, y),
        }
        for z, y in cases
    ]


@cache
def margin_curve() -> dict[str, Array]:
    """Loss and gradient for logits (x, 1, 0.1), target 0, as the first logit x varies."""
    xs = np.linspace(-6.0, 8.0, 141)
    rows = np.stack([xs, np.full_like(xs, 1.0), np.full_like(xs, 0.1)], axis=-1)  # (141, 3)
    loss = np.array([cross_entropy(r, 0) for r in rows])  # (141,)
    grad = np.array([cross_entropy_grad(r, 0) for r in rows])  # (141, 3)
    return {"x": xs, "loss": loss, "grad": grad}


def uniform_jacobian_eigenvalues(N: int = 4) -> Array:
    """Eigenvalues of the softmax Jacobian at z = 0 (uniform probabilities 1/N)."""
    return np.linalg.eigvalsh(softmax_jacobian(np.zeros(N)))


def jacobian_from_vjps(z: Array = Z) -> Array:
    """Build J one row at a time: row i is the VJP of the basis vector e_i."""
    s = llmath.softmax(z)
    return np.stack([softmax_backward(e, s) for e in np.eye(z.size)])


# ---- what cannot be differentiated -------------------------------------------------------------

REWARD = np.array([1.0, 0.0, 3.0])  # a reward per token id, for the score-function check
SLIDE = np.linspace(-1.0, 5.0, 121)  # values of token 3's target logit z[2, 1]


def accuracy(logits: Array, targets: Array = TARGETS) -> float:
    """Fraction of tokens whose argmax is the target: the quantity we care about, not smooth."""
    return float(np.mean(np.argmax(logits, axis=-1) == targets))


@cache
def not_differentiable() -> dict[str, Array | float]:
    """Finite-difference gradients of accuracy (zero) and of cross-entropy (not), and both curves
    as token 3's target logit slides past its rival's logit 3.0."""
    acc_grad = numerical_grad(accuracy, LOGITS)  # (n, nV)
    ce_grad_fd = numerical_grad(lambda z: cross_entropy(z, TARGETS), LOGITS)  # (n, nV)
    acc_curve, ce_curve = [], []
    for v in SLIDE:
        z = LOGITS.copy()
        z[2, 1] = v
        acc_curve.append(accuracy(z))
        ce_curve.append(cross_entropy(z, TARGETS))
    return {
        "acc": accuracy(LOGITS),
        "acc_grad": acc_grad,
        "ce_grad_fd": ce_grad_fd,
        "acc_curve": np.array(acc_curve),
        "ce_curve": np.array(ce_curve),
    }


def score_function(z: Array = Z, reward: Array = REWARD) -> dict[str, Array]:
    """Gradient of the expected reward E_{y ~ softmax(z)}[R(y)] three ways: the exact expectation
    of the REINFORCE estimator R(y) (e_y - s), softmax_backward(R, s), finite differences."""
    s = llmath.softmax(z)  # (N,)
    hot = llmath.one_hot(np.arange(z.size), z.size)  # (N, N): row y is e_y
    reinforce = (s * reward) @ (hot - s)  # (N,): sum_y s_y R(y) (e_y - s)
    return {
        "reinforce": reinforce,
        "vjp": softmax_backward(reward, s),
        "fd": numerical_grad(lambda r: float(llmath.softmax(r) @ reward), z),
    }


def tables() -> dict[str, Array]:
    j = jacobian_example()
    ce = ce_example()
    return {
        "softmax-ce/z-s": j["s"],
        "softmax-ce/jacobian": j["J"],
        "softmax-ce/eigenvalues": j["eig"],
        "softmax-ce/diag-only": j["diag_only"],
        "softmax-ce/vjp-compare": j["compare"],
        "softmax-ce/logits": LOGITS,
        "softmax-ce/probs": ce["probs"],
        "softmax-ce/grad": ce["grad"],
        "softmax-ce/sum-vs-mean": np.stack([ce["sum_grad"][0], ce["grad"][0]]),
        "softmax-ce/uniform-eig": uniform_jacobian_eigenvalues(),
        "softmax-ce/from-vjps": jacobian_from_vjps(),
    }
