"""Worked examples for the eigenvalues chapter: inputs chosen here, every result computed by llmath.

The attention matrices are real ones, built by `llmath.scaled_dot_product_attention` from seeded
random queries and keys; the eigen-decompositions use `numpy.linalg`, the chapter's subject.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import llmath
from examples.show import BLUE, GREEN, ORANGE, PURPLE, new_figure, svg

S, DK = 5, 4  # key positions (= query positions: self-attention) and head width d_k
K = DK  # the old name, still used by tests/linalg/test_eigen.py
SEED = 7
N_STEPS = 30  # how many times mu^T A^n is iterated for "the limit"
BETAS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # inverse temperatures of the sharpness sweep
A2 = np.array([[2.0, 1.0], [3.0, 1.0]])  # the 2x2 worked example
POWER = 6
COLUMN_SEED, COLUMN_BETA = 8, 2.0  # the example where column sums and pi disagree


def _inputs() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Seeded random queries and keys, shape `(S, dk)` each."""
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((S, DK)), rng.standard_normal((S, DK))


def _by_modulus(lam: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Eigenvalues sorted by modulus, largest first (ties: larger real part, then +imag first)."""
    r = np.round(lam, 12)  # sort keys only: a conjugate pair then ties on modulus and real part
    return lam[np.lexsort((-r.imag, -r.real, -np.abs(r)))]


def spectrum(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows (Re lambda, Im lambda, |lambda|) of every eigenvalue, largest modulus first."""
    lam = _by_modulus(np.linalg.eigvals(a))
    return np.column_stack([lam.real, lam.imag, np.abs(lam)])


def row_entropy(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Entropy of every row in nats (Part 3's llmath.entropy): how spread a row is."""
    return np.asarray(llmath.entropy(a, unit="nats"))


# --8<-- [start:two-by-two]
def two_by_two() -> dict[str, NDArray[np.float64]]:
    """Eigenvalues of A2 from numpy.linalg.eig and from the quadratic formula."""
    lam, U = np.linalg.eig(A2)  # (2,), (2, 2): columns of U are right eigenvectors
    order = np.argsort(lam)[::-1]
    lam, U = lam[order], U[:, order]
    tr, det = np.trace(A2), np.linalg.det(A2)
    root = np.sqrt(tr**2 - 4 * det)
    closed = np.array([(tr + root) / 2, (tr - root) / 2])
    U_closed = np.array(
        [[1.0, 1.0], (closed - A2[0, 0]) / A2[0, 1]]
    )  # row 1 of (A - lambda I) u = 0
    return {
        "eigenvalues": np.stack([lam, closed]),  # rows: numpy, closed form
        "U": U / U[0],  # rescale each column so its first entry is 1, to compare
        "U_closed": U_closed,
        "residual": np.abs(A2 @ U - U * lam).max(keepdims=True),  # |A u - lambda u|
    }


# --8<-- [end:two-by-two]


def powers(n: int = POWER) -> dict[str, NDArray[np.float64]]:
    """A2^n by repeated multiplication and by U Lambda^n U^{-1}; the dominant rank-1 term."""
    lam, U = np.linalg.eig(A2)  # (2,), (2, 2)
    by_eig = U @ np.diag(lam**n) @ np.linalg.inv(U)  # (2, 2)
    i = int(np.argmax(np.abs(lam)))
    dominant = lam[i] ** n * np.outer(U[:, i], np.linalg.inv(U)[i])  # lambda_1^n u_1 v_1^T
    u2v2 = np.outer(U[:, 1 - i], np.linalg.inv(U)[1 - i])  # the term left out, without lambda_2^n
    return {
        "direct": np.linalg.matrix_power(A2, n),
        "by_eig": by_eig,
        "dominant": dominant,
        "u2v2_max": np.abs(u2v2).max(),
    }


def attention(beta: float = 1.0) -> NDArray[np.float64]:
    """The chapter's attention matrix: softmax(beta Q K^T / sqrt(d_k)), shape `(S, S)`."""
    q, k = _inputs()
    return llmath.scaled_dot_product_attention(beta * q, k, k).weights


def self_focused(beta: float) -> NDArray[np.float64]:
    """Attention where every query is its own key (rows scaled to norm sqrt(d_k)), scores times beta.

    beta = 0 is uniform attention; as beta grows, A tends to the identity.
    """
    x, _ = _inputs()
    x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(DK)  # (S, dk)
    return llmath.scaled_dot_product_attention(beta * x, x, x).weights


def shift_focused(beta: float) -> NDArray[np.float64]:
    """Like `self_focused`, but query t is key t+1 (cyclically): A tends to a cyclic shift."""
    x, _ = _inputs()
    x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(DK)  # (S, dk)
    return llmath.scaled_dot_product_attention(beta * np.roll(x, -1, axis=0), x, x).weights


def uniform() -> NDArray[np.float64]:
    """All scores equal (queries zero): A = 1 1^T / S."""
    _, k = _inputs()
    return llmath.scaled_dot_product_attention(np.zeros((S, DK)), k, k).weights


def causal() -> NDArray[np.float64]:
    """The chapter's queries and keys under the causal mask: lower triangular A."""
    q, k = _inputs()
    return llmath.scaled_dot_product_attention(q, k, k, mask=llmath.causal_mask(S)).weights


def column_vs_stationary(steps: tuple[int, ...] = (1, 2, 4, 8)) -> dict[str, NDArray[np.float64]]:
    """Column sums / S of a sharper attention matrix next to its stationary distribution.

    (1/S) 1^T A is one step of the chain from the uniform start; pi is where the steps end.
    Rows of "walk": (1/S) 1^T A^n for n in `steps`, then pi.
    """
    rng = np.random.default_rng(COLUMN_SEED)
    q, k = rng.standard_normal((S, DK)), rng.standard_normal((S, DK))
    a = llmath.scaled_dot_product_attention(COLUMN_BETA * q, k, k).weights  # (S, S)
    start = np.full(S, 1.0 / S)
    walk = [start @ np.linalg.matrix_power(a, n) for n in steps]
    pi = llmath.stationary_distribution(a)
    return {"A": a, "columns": a.sum(axis=0), "walk": np.stack([*walk, pi]), "pi": pi}


def cyclic() -> NDArray[np.float64]:
    """The exact cyclic shift: token t puts all its weight on token t+1 (mod S)."""
    return np.roll(np.eye(S), 1, axis=1)


# --8<-- [start:mistake]
def left_and_right(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows: eig(A)'s and eig(A^T)'s vectors for lambda = 1, pi, e_1^T A^n."""
    lam, right = np.linalg.eig(a)  # columns: A u = lambda u (RIGHT eigenvectors)
    u = np.real(right[:, np.argmin(np.abs(lam - 1))])
    lam_t, left = np.linalg.eig(a.T)  # columns: v^T A = lambda v^T (LEFT eigenvectors)
    v = np.real(left[:, np.argmin(np.abs(lam_t - 1))])
    pi = llmath.stationary_distribution(a)
    mu = np.eye(len(a))[0] @ np.linalg.matrix_power(a, N_STEPS)  # e_1^T A^n
    return np.stack([u / u.sum(), v / v.sum(), pi, mu])


# --8<-- [end:mistake]


def distances(a: NDArray[np.float64], n_max: int = 40) -> NDArray[np.float64]:
    """||e_1^T A^n - pi^T||_1 for n = 0, ..., n_max."""
    pi = llmath.stationary_distribution(a)
    mu = np.eye(len(a))[0]
    out = []
    for _ in range(n_max + 1):
        out.append(np.abs(mu - pi).sum())
        mu = mu @ a  # one more step: mu^T A
    return np.array(out)


def convergence_cases() -> dict[str, NDArray[np.float64]]:
    """The three attention matrices of the convergence figure."""
    return {
        "random scores": attention(),
        "self-focused, β = 0.5": self_focused(0.5),
        "self-focused, β = 1": self_focused(1.0),
    }


def convergence_table() -> NDArray[np.float64]:
    """Rows (|lambda_2|, gap, measured rate (d_12 / d_2)^(1/10)) for each convergence case."""
    rows = []
    for a in convergence_cases().values():
        d = distances(a)
        gap = llmath.spectral_gap(a)
        rows.append([1 - gap, gap, (d[12] / d[2]) ** (1 / 10)])
    return np.array(rows)


def sweep() -> NDArray[np.float64]:
    """Rows beta: mean row entropy, gap (self-focused), gap (shift-focused)."""
    rows = []
    for beta in BETAS:
        a, b = self_focused(beta), shift_focused(beta)
        assert np.allclose(np.sort(row_entropy(a)), np.sort(row_entropy(b)))  # the same rows
        rows.append([row_entropy(a).mean(), llmath.spectral_gap(a), llmath.spectral_gap(b)])
    return np.array(rows)


def uniform_summary() -> dict[str, NDArray[np.float64]]:
    """Spectrum of uniform attention, and one step from a random start."""
    a = uniform()
    mu = np.random.default_rng(SEED).dirichlet(np.ones(S))  # any start distribution
    return {"spectrum": spectrum(a), "steps": np.stack([mu, mu @ a, mu @ a @ a])}


def cyclic_orbit() -> NDArray[np.float64]:
    """Rows e_1^T C^n for n = 0, ..., S: the distribution moves around and never settles."""
    c = cyclic()
    return np.stack([np.eye(S)[0] @ np.linalg.matrix_power(c, n) for n in range(S + 1)])


def causal_summary() -> dict[str, NDArray[np.float64]]:
    """Diagonal of causal A next to its eigenvalues; pi; the last token's start after n steps."""
    a = causal()
    lam = np.sort(np.linalg.eigvals(a).real)[::-1]
    start = np.eye(S)[-1]  # all weight on the last token
    walk = np.stack([start @ np.linalg.matrix_power(a, n) for n in (0, 1, 2, 5, 10, N_STEPS)])
    return {
        "diag_vs_eig": np.stack([np.sort(np.diag(a))[::-1], lam]),
        "pi": llmath.stationary_distribution(a)[None, :],
        "walk": walk,
    }


def two_state(a: float = 0.3, b: float = 0.1) -> NDArray[np.float64]:
    """Exercise 1: llmath and the closed forms for P = [[1-a, a], [b, 1-b]]."""
    p = np.array([[1 - a, a], [b, 1 - b]])
    return np.array(
        [
            [*llmath.stationary_distribution(p), llmath.spectral_gap(p)],
            [b / (a + b), a / (a + b), 1 - abs(1 - a - b)],
        ]
    )


def causal_uniform(sizes: tuple[int, ...] = (2, 4, 8, 16, 64)) -> NDArray[np.float64]:
    """Exercise 2: causal attention with all scores equal, for several S: (S, gap, pi_1)."""
    rows = []
    for s in sizes:
        z = np.zeros((s, 1))
        a = llmath.scaled_dot_product_attention(z, z, z, mask=llmath.causal_mask(s)).weights
        rows.append([s, llmath.spectral_gap(a), llmath.stationary_distribution(a)[0]])
    return np.array(rows)


def rank_collapse(depths: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> NDArray[np.float64]:
    """Exercise 3: X_n = A^n X, self-focused A (beta = 1). Rows (n, r_n, |lambda_2|^n).

    r_n = ||X_n - 1 xbar_n^T||_F / ||X - 1 xbar^T||_F, how far the rows are from all being equal
    (xbar the mean row: the closest matrix with equal rows in the Frobenius norm).
    """
    a = self_focused(1.0)
    x, _ = _inputs()
    lam2 = 1 - llmath.spectral_gap(a)
    spread0 = np.linalg.norm(x - x.mean(axis=0))
    rows = []
    for n in depths:
        xn = np.linalg.matrix_power(a, n) @ x  # (S, dk): n layers of pure attention, no residual
        rows.append([n, np.linalg.norm(xn - xn.mean(axis=0)) / spread0, lam2**n])
    return np.array(rows)


def spectrum_figure() -> str:
    """Eigenvalues of two attention matrices in the complex plane, with Gershgorin discs."""
    import matplotlib.patches as mpatches

    fig, ax = new_figure(5.2, 5.0)
    t = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(t), np.sin(t), color="#000000", lw=0.8, label="unit circle")
    a = attention()
    for i in range(S):  # disc i: centre A_ii, radius sum_{j != i} A_ij = 1 - A_ii
        disc = mpatches.Circle((a[i, i], 0), 1 - a[i, i], fill=False, ec=BLUE, lw=0.8, ls="--")
        ax.add_patch(disc)
    lam = np.linalg.eigvals(a)
    ax.scatter(lam.real, lam.imag, color=BLUE, zorder=3, label="random scores (discs dashed)")
    lam = np.linalg.eigvals(shift_focused(4.0))
    ax.scatter(lam.real, lam.imag, color=ORANGE, marker="s", zorder=3, label="shift-focused, β = 4")
    ax.set_aspect("equal")
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.axhline(0, color="#000000", lw=0.4)
    ax.axvline(0, color="#000000", lw=0.4)
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
    return svg(
        fig,
        alt="Eigenvalues of two attention matrices inside the unit circle",
        caption="Eigenvalues of the running example (blue, Gershgorin discs dashed) and of a "
        "shift-focused matrix (orange), inside the unit circle.",
    )


def convergence_figure() -> str:
    """||e_1^T A^n - pi^T||_1 against n on a log scale, with the |lambda_2|^n slopes."""
    fig, ax = new_figure(6.2, 3.6)
    n = np.arange(41)
    for (name, a), colour in zip(convergence_cases().items(), (BLUE, GREEN, PURPLE), strict=True):
        d = distances(a)
        keep = d > 1e-14
        ax.semilogy(n[keep], d[keep], "o", ms=3, color=colour, label=name)
        lam2 = 1 - llmath.spectral_gap(a)
        ax.semilogy(n[keep], d[2] * lam2 ** (n[keep] - 2), "-", lw=1, color=colour, alpha=0.7)
    ax.semilogy([], [], "-", color="#000000", lw=1, label="slope |λ₂|ⁿ")
    ax.set_xlabel("steps n")
    ax.set_ylabel("‖e₁ᵀAⁿ − πᵀ‖₁")
    ax.set_ylim(1e-15, 5)
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return svg(
        fig,
        alt="Distance to the stationary distribution falls like |lambda_2| to the n",
        caption="Distance from the stationary distribution after n steps (log scale); thin "
        "lines have slope |λ₂|ⁿ.",
    )


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the page, keyed as on the page."""
    tbb, pw = two_by_two(), powers()
    uni, cs = uniform_summary(), causal_summary()
    return {
        "eigenvalues/2x2-values": tbb["eigenvalues"],
        "eigenvalues/2x2-vectors": np.vstack([tbb["U"], tbb["U_closed"]]),
        "eigenvalues/powers": np.vstack([pw["direct"], pw["by_eig"], pw["dominant"]]),
        "eigenvalues/attention": attention(),
        "eigenvalues/attention-spectrum": spectrum(attention()),
        "eigenvalues/left-right": left_and_right(attention()),
        "eigenvalues/convergence": convergence_table(),
        "eigenvalues/uniform-spectrum": uni["spectrum"],
        "eigenvalues/uniform-steps": uni["steps"],
        "eigenvalues/sweep": sweep(),
        "eigenvalues/cyclic-orbit": cyclic_orbit(),
        "eigenvalues/causal": causal(),
        "eigenvalues/causal-diag": cs["diag_vs_eig"],
        "eigenvalues/causal-pi": cs["pi"],
        "eigenvalues/causal-walk": cs["walk"],
        "eigenvalues/two-state": two_state(),
        "eigenvalues/column-A": column_vs_stationary()["A"],
        "eigenvalues/column-walk": column_vs_stationary()["walk"],
        "eigenvalues/causal-uniform": causal_uniform()[:, 1:],
        "eigenvalues/rank-collapse": rank_collapse()[:, 1:],
    }
