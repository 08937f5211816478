"""Worked examples for the information page: inputs chosen here, every result computed by llmath."""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from llmath.attention.softmax import log_softmax, softmax
from llmath.linalg.vectors import one_hot
from llmath.probability.information import (
    cross_entropy_dist,
    entropy,
    kl_divergence,
    mutual_information,
)

Array = NDArray[np.float64]

# Four distributions over V = 4 outcomes, from flat to certain.
DISTRIBUTIONS = np.array(
    [
        [0.25, 0.25, 0.25, 0.25],
        [0.4, 0.3, 0.2, 0.1],
        [0.7, 0.1, 0.1, 0.1],
        [1.0, 0.0, 0.0, 0.0],
    ]
)
DIST_NAMES = ["uniform", "graded", "peaked", "one-hot"]

# A data distribution p and a model q for the decomposition and the asymmetry.
P = np.array([0.5, 0.3, 0.2])
Q = np.array([0.2, 0.2, 0.6])
Q_ZERO = np.array([0.6, 0.4, 0.0])  # q gives the third outcome probability 0, p does not

# Three coins P(heads) = 0.1, 0.5, 0.9: the counterexample to the triangle inequality.
COINS = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])

# Logits of a tiny model for T = 4 positions over V = 5 tokens, and the observed next tokens.
LOGITS = np.array(
    [
        [2.0, 0.5, -1.0, 0.0, 0.3],
        [0.1, 0.2, 3.0, -0.5, 0.0],
        [-1.0, 1.5, 0.5, 0.5, 2.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
TARGETS = np.array([0, 2, 1, 3])

# A joint table p(x, y): X = weather (3 values), Y = umbrella carried (2 values).
JOINT = np.array([[0.30, 0.05], [0.10, 0.15], [0.05, 0.35]])
X_NAMES = ["sun", "cloud", "rain"]
Y_NAMES = ["no umbrella", "umbrella"]

# Forward vs reverse KL: a bimodal p on a grid, fitted by one discretised Gaussian q.
GRID = np.arange(41, dtype=np.float64)
MODES = ((10.0, 2.5, 0.5), (30.0, 2.5, 0.5))  # (centre, width, weight)
MUS = GRID
SIGMAS = np.linspace(1.0, 15.0, 57)

ATTN_SEED = 3
ATTN_T = 5


def _gaussian(mu: Array, sigma: Array) -> Array:
    """Discretised Gaussians on GRID, shape (..., 41), each row normalised (input choice)."""
    w = np.exp(-0.5 * ((GRID - mu[..., None]) / sigma[..., None]) ** 2)
    return w / w.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def bimodal() -> Array:
    """The target p: a mixture of two discretised Gaussians."""
    return sum(  # type: ignore[return-value]
        weight * _gaussian(np.array(c), np.array(s)) for c, s, weight in MODES
    )


def entropy_table() -> Array:
    """Rows: the four distributions. Columns: H in nats, H in bits, ln V, H / ln V."""
    h_nats = np.asarray(entropy(DISTRIBUTIONS))
    h_bits = np.asarray(entropy(DISTRIBUTIONS, unit="bits"))
    log_v = np.full(len(DISTRIBUTIONS), math.log(DISTRIBUTIONS.shape[1]))
    return np.stack([h_nats, h_bits, log_v, h_nats / log_v], axis=1)


def binary_entropy_curve(n: int = 201) -> tuple[Array, Array]:
    """(P(heads), H in bits) for a coin, on n points from 0 to 1."""
    heads = np.linspace(0.0, 1.0, n)
    coins = np.stack([heads, 1.0 - heads], axis=1)
    return heads, np.asarray(entropy(coins, unit="bits"))


def decomposition() -> Array:
    """One row, nats: H(p), KL(p||q), H(p) + KL(p||q), H(p, q)."""
    h = entropy(P)
    kl = kl_divergence(P, Q)
    return np.array([[h, kl, h + kl, cross_entropy_dist(P, Q)]])


def asymmetry() -> Array:
    """Rows (p, q) and (p, q with a zero). Columns: KL(p||q), KL(q||p), in nats."""
    return np.array(
        [
            [kl_divergence(P, Q), kl_divergence(Q, P)],
            [kl_divergence(P, Q_ZERO), kl_divergence(Q_ZERO, P)],
        ]
    )


def triangle() -> Array:
    """One row, nats: KL(a||b), KL(b||c), their sum, and KL(a||c) for the three coins."""
    a, b, c = COINS
    ab, bc = kl_divergence(a, b), kl_divergence(b, c)
    return np.array([[ab, bc, ab + bc, kl_divergence(a, c)]])


def training_loss() -> dict[str, object]:
    """The training loss two ways: from logits (Part 2) and as H(one-hot, softmax) per position."""
    from llmath.calculus.cross_entropy import cross_entropy

    per_position = np.asarray(
        cross_entropy_dist(one_hot(TARGETS, LOGITS.shape[1]), softmax(LOGITS))
    )
    return {
        "per_position": per_position,
        "mean": float(per_position.mean()),
        "from_logits": float(cross_entropy(LOGITS, TARGETS)),
    }


def mutual_information_table() -> Array:
    """One row, nats: H(X), H(X|Y), H(X) - H(X|Y), KL(p(x,y) || p(x)p(y)), H(X,Y)-H(Y)."""
    p_x, p_y = JOINT.sum(axis=1), JOINT.sum(axis=0)
    conditional = (JOINT / p_y).T  # (Y, X): row y is p(x | y)
    h_x_given_y = float(p_y @ np.asarray(entropy(conditional)))
    h_x = entropy(p_x)
    chain = entropy(JOINT.reshape(-1)) - entropy(p_y)
    return np.array([[h_x, h_x_given_y, h_x - h_x_given_y, mutual_information(JOINT), chain]])


@functools.cache
def forward_reverse() -> dict[str, object]:
    """Best (mu, sigma) of q under forward KL(p||q) and reverse KL(q||p), by grid search."""
    p = bimodal()
    q = _gaussian(MUS[:, None], SIGMAS[None, :])  # (mu, sigma, 41)
    forward = np.asarray(kl_divergence(p, q))  # (mu, sigma)
    reverse = np.asarray(kl_divergence(q, p))
    out: dict[str, object] = {"p": p}
    rows = []
    for name, kl in (("forward", forward), ("reverse", reverse)):
        i, j = np.unravel_index(np.argmin(kl), kl.shape)
        out[name] = q[i, j]
        rows.append([MUS[i], SIGMAS[j], forward[i, j], reverse[i, j]])
    out["table"] = np.array(rows)
    return out


def attention_mi() -> dict[str, object]:
    """Causal attention weights A (T, T) from random scores, and the MI of p(i, j) = A_ij / T."""
    from llmath.attention.attention import causal_mask

    rng = np.random.default_rng(ATTN_SEED)
    scores = rng.standard_normal((ATTN_T, ATTN_T)) * 1.5
    weights = softmax(scores, where=causal_mask(ATTN_T))
    joint = weights / ATTN_T  # uniform p(i) times p(j | i)
    s = scores[-1]  # the last query sees every key
    a = softmax(s)
    vertices = np.eye(ATTN_T)[np.argmax(s)]  # the one-hot argmax
    uniform = np.full(ATTN_T, 1.0 / ATTN_T)
    objective = [float(w @ s + entropy(w)) for w in (a, vertices, uniform)]
    return {
        "scores": s,
        "objective": objective,  # <a, s> + H(a) at softmax(s), one-hot argmax, uniform
        "logsumexp": float(s[0] - log_softmax(s)[0]),
        "weights": weights,
        "mi": mutual_information(joint),
        "log_t": math.log(ATTN_T),
        "entropies": np.asarray(entropy(weights)),
    }


def tables() -> dict[str, Array]:
    """Every numeric table on the information page, keyed as on the page."""
    fr = forward_reverse()
    return {
        "information/distributions": DISTRIBUTIONS,
        "information/entropies": entropy_table(),
        "information/decomposition": decomposition(),
        "information/asymmetry": asymmetry(),
        "information/triangle": triangle(),
        "information/loss": np.asarray(training_loss()["per_position"])[None, :],
        "information/joint": JOINT,
        "information/mutual-information": mutual_information_table(),
        "information/forward-reverse": fr["table"],  # type: ignore[dict-item]
        "information/attention": attention_mi()["weights"],  # type: ignore[dict-item]
    }


# ---- figures -------------------------------------------------------------------------------


def figure_binary_entropy() -> str:
    """H(coin) in bits against P(heads)."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    heads, h = binary_entropy_curve()
    fig, ax = new_figure(5.5, 3.0)
    ax.plot(heads, h, color=BLUE, lw=2)
    ax.axhline(1.0, color=ORANGE, ls="--", lw=1)
    ax.text(0.02, 1.02, "max = log2(2) = 1 bit (fair coin)", color=ORANGE, va="bottom")
    ax.set_xlabel("P(heads)")
    ax.set_ylabel("entropy H (bits)")
    ax.set_ylim(0, 1.15)
    return svg(fig, alt="Binary entropy in bits: 0 at P(heads)=0 and 1, maximum 1 bit at 0.5")


def figure_forward_reverse() -> str:
    """The bimodal p and the best single Gaussian under forward and reverse KL."""
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    fr = forward_reverse()
    fig, ax = new_figure(6.0, 3.0)
    ax.bar(GRID, fr["p"], color=BLUE, alpha=0.45, width=0.9, label="p (bimodal)")
    ax.plot(GRID, fr["forward"], color=ORANGE, lw=2, label="argmin KL(p || q): covers")
    ax.plot(GRID, fr["reverse"], color=GREEN, lw=2, label="argmin KL(q || p): seeks")
    ax.set_xlabel("outcome")
    ax.set_ylabel("probability")
    ax.legend(frameon=False, fontsize=8)
    return svg(
        fig, alt="A bimodal p; the forward-KL fit spreads over both modes, reverse sits on one"
    )
