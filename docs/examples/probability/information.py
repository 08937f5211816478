"""Worked examples for the information page: inputs chosen here, every result computed by llmath."""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from examples.show import check
from llmath.attention.softmax import log_softmax, softmax
from llmath.linalg.vectors import one_hot
from llmath.probability.information import (
    cross_entropy_dist,
    entropy,
    kl_divergence,
    mutual_information,
)

Array = NDArray[np.float64]

# Four distributions over nV = 4 outcomes, from flat to certain.
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

# Logits of a tiny model for T = 4 positions over nV = 5 tokens, and the observed next tokens.
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
    """Rows: the four distributions. Columns: H in nats, H in bits, ln nV, H / ln nV."""
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


# ---- checks: every comparison the page prints goes through show.check ---------------------


def entropy_checks() -> list[str]:
    """llmath.entropy against scipy, against the closed forms ln 4 and 0, and bits = nats / ln 2."""
    import scipy.stats

    e = entropy_table()
    return [
        check(
            "max |entropy − scipy.stats.entropy|",
            e[:, 0],
            [scipy.stats.entropy(d) for d in DISTRIBUTIONS],
            tol=1e-14,
        ),
        check("|H(uniform) − ln 4|", e[0, 0], math.log(4), tol=1e-15),
        check("|H(one-hot) − 0|", e[3, 0], 0.0, tol=0.0),
        check("max |H in bits − H in nats / ln 2|", e[:, 1], e[:, 0] / math.log(2), tol=1e-15),
    ]


def decomposition_checks() -> list[str]:
    """H(p) + KL(p || q) against H(p, q), and KL against scipy.stats.entropy(p, q)."""
    import scipy.stats

    d = decomposition()[0]
    a = asymmetry()
    return [
        check("|H(p) + KL(p ‖ q) − H(p, q)|", d[2], d[3], tol=1e-15),
        check(
            "max |kl_divergence − scipy.stats.entropy(p, q)|",
            [a[0, 0], a[0, 1], a[1, 1]],
            [scipy.stats.entropy(P, Q), scipy.stats.entropy(Q, P), scipy.stats.entropy(Q_ZERO, P)],
            tol=1e-15,
        ),
    ]


def training_loss_checks() -> list[str]:
    """The per-position cross-entropies against Part 2's loss, torch, and ln 5 (equal logits)."""
    import torch

    loss = training_loss()
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(LOGITS), torch.from_numpy(TARGETS))
    per = np.asarray(loss["per_position"])
    return [
        check(
            "|mean − cross_entropy(logits, targets)|", loss["mean"], loss["from_logits"], tol=1e-15
        ),
        check("|mean − torch.nn.functional.cross_entropy|", loss["mean"], float(ref), tol=1e-14),
        check("|last position − ln 5|", per[-1], math.log(5), tol=1e-15),
    ]


def mutual_information_checks() -> list[str]:
    """The three routes to I(X; Y) agree, and agree with scipy's KL of the joint table."""
    import scipy.stats

    m = mutual_information_table()[0]
    p_x, p_y = JOINT.sum(axis=1), JOINT.sum(axis=0)
    ref = scipy.stats.entropy(JOINT.reshape(-1), np.outer(p_x, p_y).reshape(-1))
    return [
        check("|(H(X) − H(X | Y)) − KL form|", m[2], m[3], tol=1e-15),
        check("|H(X | Y) − (H(X, Y) − H(Y))|", m[1], m[4], tol=1e-15),
        check("|mutual_information − scipy|", m[3], ref, tol=1e-15),
    ]


# ---- cross-entropy as a proper scoring rule ------------------------------------------------

SCORE_STEP = 100  # the grid of reports: every q with entries in {1, ..., 99} / 100
SCORE_NAMES = ["log score ln q_y", "Brier score −Σ (q_j − [j = y])²", "linear score q_y"]


def report_grid(n: int = SCORE_STEP) -> Array:
    """Every report q over 3 outcomes whose entries are positive multiples of 1/n, shape (M, 3)."""
    i, j = np.meshgrid(np.arange(1, n), np.arange(1, n), indexing="ij")
    keep = i + j < n
    q = np.stack([i[keep], j[keep], n - i[keep] - j[keep]], axis=1) / n  # (M, 3)
    return q  # type: ignore[no-any-return]


def expected_scores(p: Array, q: Array) -> Array:
    """Expected score under outcomes y ~ p for each report q (rows), shape (3, M): log, Brier, linear.

    Higher is better. The log score is minus the cross-entropy (computed by llmath); the Brier
    score is E[-sum_j (q_j - [j = y])^2] = -(sum_j q_j^2 - 2 p.q + 1); the linear score is p.q.
    """
    log = -np.asarray(cross_entropy_dist(p, q))  # (M,)
    brier = -(np.sum(q**2, axis=-1) - 2 * q @ p + 1.0)  # (M,)
    linear = q @ p  # (M,)
    return np.stack([log, brier, linear])


def scoring_table() -> Array:
    """Rows: the three scores. Columns: the best report on the grid (q1, q2, q3), E[S] there, E[S] at q = p."""
    q = report_grid()
    at_p = expected_scores(P, P[None, :])[:, 0]
    rows = []
    for k, s in enumerate(expected_scores(P, q)):
        best = int(np.argmax(s))
        rows.append([*q[best], s[best], at_p[k]])
    return np.array(rows)


def scoring_checks() -> list[str]:
    """The log and Brier scores are maximised on the grid exactly at q = p; the linear score is not."""
    t = scoring_table()
    out = [
        check("log score: max |best report − p|", t[0, :3], P, tol=1e-12),
        check("Brier score: max |best report − p|", t[1, :3], P, tol=1e-12),
    ]
    assert np.argmax(t[2, :3]) == np.argmax(P) and t[2, 4] < t[2, 3], "linear score is proper?"
    # strictly: every other report on the grid scores strictly less than q = p
    s = expected_scores(P, report_grid())
    others = np.abs(report_grid() - P).max(axis=1) > 1e-12
    assert np.all(s[0, others] < t[0, 4]) and np.all(s[1, others] < t[1, 4])
    return out


LOCAL_Y = 0  # the outcome that happened
LOCAL_REPORTS = np.array([[0.5, 0.25, 0.25], [0.5, 0.5, 0.0]])  # same q_y, different elsewhere


def locality() -> Array:
    """Rows: the two reports. Columns: q_y, log score ln q_y, Brier score, for outcome LOCAL_Y."""
    q = LOCAL_REPORTS
    y = one_hot(np.array([LOCAL_Y]), 3)[0]
    log = -np.asarray(cross_entropy_dist(y, q))
    brier = -np.sum((q - y) ** 2, axis=-1)
    out = np.column_stack([q[:, LOCAL_Y], log, brier])
    assert out[0, 1] == out[1, 1] and out[0, 2] != out[1, 2]
    return out


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
        "information/scoring": scoring_table(),
        "information/locality": locality(),
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
    return svg(
        fig,
        alt="Binary entropy in bits: 0 at P(heads)=0 and 1, maximum 1 bit at 0.5",
        caption="The entropy of a coin, in bits, against its probability of heads",
    )


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
        fig,
        alt="A bimodal p; the forward-KL fit spreads over both modes, reverse sits on one",
        caption="The best single Gaussian under forward KL (covers) and reverse KL (seeks)",
    )
