"""Worked examples for the low-rank chapter: inputs chosen here, every result computed by llmath.

`numpy.linalg.svd` is called only to *display* the factors U, Sigma, V (llmath does not wrap it);
every approximation, merge and parameter count goes through llmath.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

import llmath
from examples.linear_algebra.published import LLAMA7B_D, LLAMA7B_F, LLAMA7B_LAYERS

SEED = 1936  # Eckart and Young's year

# A 2x2 map for the picture: non-symmetric, so its input and output singular directions differ.
W2 = np.array([[3.0, 0.0], [4.0, 5.0]])

# "Keep the largest entries" is not what truncation does: a 2x2 with one zero entry.
W_ENTRIES = np.array([[3.0, 1.0], [0.0, 2.0]])

D_SQUARE = LLAMA7B_D  # an example model width (LLaMA-7B's), not a universal constant
D_MLP = LLAMA7B_F  # an example MLP width (LLaMA-7B's)
LAYERS = LLAMA7B_LAYERS
RANKS_LORA = (1, 2, 4, 8, 16, 64, 256)
MERGE_RANKS = (1, 2, 4, 8, 16)


def svd_2x2() -> dict[str, NDArray[np.float64]]:
    """The factors of W2 and the check sigma_i^2 = eigenvalues of W^T W and of W W^T."""
    U, s, Vt = np.linalg.svd(W2)
    eig_wtw = np.sort(np.linalg.eigvalsh(W2.T @ W2))[::-1]  # (M,)
    eig_wwt = np.sort(np.linalg.eigvalsh(W2 @ W2.T))[::-1]  # (N,)
    rebuilt = (U * s) @ Vt  # (N, M)
    return {
        "U": U,
        "s": s,
        "V": Vt.T,
        "eig": np.array([s**2, eig_wtw, eig_wwt]),
        "rebuilt": rebuilt,
        "W1": llmath.low_rank_approx(W2, 1),
    }


def circle_to_ellipse(points: int = 200) -> dict[str, NDArray[np.float64]]:
    """The unit circle of row vectors x, its image xW2, and the singular directions."""
    theta = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (P, N)
    image = llmath.linear(circle, W2)  # (P, M)
    U, s, Vt = np.linalg.svd(W2)
    # u_i^T W = sigma_i v_i^T: the i-th column of U goes to sigma_i times the i-th row of V^T.
    mapped = llmath.linear(U.T, W2)  # (2, M), row i = u_i^T W
    return {"circle": circle, "image": image, "U": U, "s": s, "V": Vt.T, "mapped": mapped}


def random_matrix(n: int = 8, m: int = 6) -> NDArray[np.float64]:
    """The seeded Gaussian matrix used for the Eckart-Young tables."""
    return np.random.default_rng(SEED).standard_normal((n, m))


def eckart_young() -> NDArray[np.float64]:
    """Rows (r, ||W-W_r||_F, sqrt(sum_{i>r} s_i^2), ||W-W_r||_2, sigma_{r+1}), r = 1..min(N, M)."""
    W = random_matrix()
    s = np.linalg.svd(W, compute_uv=False)
    rows = []
    for r in range(1, min(W.shape) + 1):
        E = W - llmath.low_rank_approx(W, r)  # (N, M)
        tail = np.sqrt(np.sum(s[r:] ** 2))
        nxt = s[r] if r < len(s) else 0.0
        rows.append([r, np.linalg.norm(E, "fro"), tail, np.linalg.norm(E, 2), nxt])
    return np.array(rows)


def competitors(trials: int = 400) -> NDArray[np.float64]:
    """Rows (r, ||W-W_r||_F, best random projection, best perturbed W_r) over `trials` each.

    Random projection: W P with P the orthogonal projector onto a random r-dim subspace of R^M
    (rank <= r). Perturbed: (U_r + eps E) Sigma_r (V_r + eps F)^T with eps = 0.05 (rank <= r).
    """
    W = random_matrix()
    n, m = W.shape
    rng = np.random.default_rng(SEED + 1)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    rows = []
    for r in range(1, min(W.shape)):
        best = np.linalg.norm(W - llmath.low_rank_approx(W, r), "fro")
        proj, pert = np.inf, np.inf
        for _ in range(trials):
            Q, _ = np.linalg.qr(rng.standard_normal((m, r)))  # (M, r), orthonormal columns
            proj = min(proj, np.linalg.norm(W - W @ Q @ Q.T, "fro"))
            Ur = U[:, :r] + 0.05 * rng.standard_normal((n, r))  # (N, r)
            Vr = Vt[:r].T + 0.05 * rng.standard_normal((m, r))  # (M, r)
            pert = min(pert, np.linalg.norm(W - (Ur * s[:r]) @ Vr.T, "fro"))
        rows.append([r, best, proj, pert])
    return np.array(rows)


@lru_cache(maxsize=1)
def spectra(n: int = 128, m: int = 96, k: int = 8, noise: float = 0.05) -> dict[str, NDArray]:
    """Singular values and relative Frobenius error vs r for a Gaussian and a decaying matrix.

    Cached (the figure, the table and an exercise all use it); treat the arrays as read-only.
    Gaussian: i.i.d. N(0, 1/M) entries. Decaying: a rank-k product G1 G2 / sqrt(k M) plus `noise`
    times a Gaussian of the same scale, so k large singular values sit on a low noise floor.
    """
    rng = np.random.default_rng(SEED + 2)
    gauss = rng.standard_normal((n, m)) / np.sqrt(m)  # (N, M)
    low = rng.standard_normal((n, k)) @ rng.standard_normal((k, m)) / np.sqrt(k * m)  # (N, M)
    decay = low + noise * rng.standard_normal((n, m)) / np.sqrt(m)  # (N, M)
    out: dict[str, NDArray] = {"ranks": np.arange(1, min(n, m) + 1)}
    for name, W in (("gauss", gauss), ("decay", decay)):
        out[f"{name}_s"] = np.linalg.svd(W, compute_uv=False)
        total = np.linalg.norm(W, "fro")
        out[f"{name}_err"] = np.array(
            [
                np.linalg.norm(W - llmath.low_rank_approx(W, int(r)), "fro") / total
                for r in out["ranks"]
            ]
        )
    return out


SPECTRUM_RANKS = (1, 4, 8, 16, 32, 48, 64)


def spectrum_table() -> NDArray[np.float64]:
    """Rows (r, relative error Gaussian, relative error decaying) at a few ranks."""
    sp = spectra()
    idx = np.array(SPECTRUM_RANKS) - 1
    return np.stack(
        [np.array(SPECTRUM_RANKS, float), sp["gauss_err"][idx], sp["decay_err"][idx]], 1
    )


def rank_for_error(target: float = 0.1) -> dict[str, int]:
    """Smallest r with relative Frobenius error <= target, for each matrix of `spectra`."""
    sp = spectra()
    return {
        name: int(sp["ranks"][np.argmax(sp[f"{name}_err"] <= target)])
        for name in ("gauss", "decay")
    }


def lora_square() -> NDArray[np.float64]:
    """Rows (r, LoRA params, full params, full / LoRA, d / (2r)) for a d x d weight."""
    d = D_SQUARE
    rows = []
    for r in RANKS_LORA:
        lora = llmath.lora_param_count(d, d, r)
        rows.append([r, lora, d * d, d * d / lora, d / (2 * r)])
    return np.array(rows, dtype=float)


def lora_nonsquare() -> NDArray[np.float64]:
    """Rows (r, LoRA params, full, exact ratio, 4096/(2r), 11008/(2r)) for a 4096 x 11008 weight."""
    rows = []
    for r in RANKS_LORA:
        lora = llmath.lora_param_count(D_SQUARE, D_MLP, r)
        full = D_SQUARE * D_MLP
        rows.append([r, lora, full, full / lora, D_SQUARE / (2 * r), D_MLP / (2 * r)])
    return np.array(rows, dtype=float)


def harmonic_width() -> float:
    """The width d_H with exact ratio d_H / (2r): the harmonic mean of 4096 and 11008."""
    return 2.0 * D_SQUARE * D_MLP / (D_SQUARE + D_MLP)


def lora_demo(n: int = 64, m: int = 48, r: int = 4, alpha: float = 16.0) -> dict[str, object]:
    """Merge a random rank-r adapter into a random W and check rank and the forward pass."""
    rng = np.random.default_rng(SEED + 3)
    W = rng.standard_normal((n, m))  # (N, M)
    A = rng.standard_normal((n, r))  # (N, r)
    B = rng.standard_normal((r, m))  # (r, M)
    x = rng.standard_normal((5, n))  # (T, N): five token rows
    merged = llmath.lora_merge(W, A, B, alpha=alpha)  # (N, M)
    delta = merged - W  # (N, M)
    unmerged = x @ W + (alpha / r) * ((x @ A) @ B)  # (T, M): the adapter run beside W
    at_init = llmath.lora_merge(W, A, np.zeros((r, m)), alpha=alpha)  # B = 0
    return {
        "W": W,
        "A": A,
        "B": B,
        "x": x,
        "merged": merged,
        "r": r,
        "alpha": alpha,
        "rank_delta": int(np.linalg.matrix_rank(delta)),
        "rank_merged": int(np.linalg.matrix_rank(merged)),
        "delta_s": np.linalg.svd(delta, compute_uv=False)[: r + 2],
        "forward_diff": float(np.abs(x @ merged - unmerged).max()),
        "init_diff": float(np.abs(at_init - W).max()),
    }


def lora_ranks(n: int = 64, m: int = 48, alpha: float = 16.0) -> NDArray[np.float64]:
    """Rows (r, rank(W' - W)) for r in MERGE_RANKS with seeded random A, B."""
    rng = np.random.default_rng(SEED + 4)
    W = rng.standard_normal((n, m))  # (N, M)
    rows = []
    for r in MERGE_RANKS:
        A, B = rng.standard_normal((n, r)), rng.standard_normal((r, m))
        delta = llmath.lora_merge(W, A, B, alpha=alpha) - W  # (N, M)
        rows.append([r, np.linalg.matrix_rank(delta)])
    return np.array(rows, dtype=float)


def entries_vs_directions() -> dict[str, NDArray[np.float64]]:
    """W, its best rank-1 W_1, the 'keep the largest entry' matrix, and the two errors."""
    W = W_ENTRIES
    W1 = llmath.low_rank_approx(W, 1)
    keep = np.where(np.abs(W) == np.abs(W).max(), W, 0.0)  # rank 1: one non-zero entry
    s = np.linalg.svd(W, compute_uv=False)
    errors = np.array([[np.linalg.norm(W - W1, "fro"), s[1], np.linalg.norm(W - keep, "fro")]])
    return {"W": W, "W1": W1, "keep": keep, "errors": errors}


def exercise_layers(layers: int = 32, d: int = D_SQUARE, r: int = 8) -> dict[str, int]:
    """LoRA on the four attention projections (d x d) of every layer: adapter and full counts."""
    lora = layers * 4 * llmath.lora_param_count(d, d, r)
    return {"lora": lora, "full": layers * 4 * d * d}


def figure_circle() -> str:
    """Left: the unit circle and u_1, u_2. Right: its image under W2 and sigma_i v_i."""
    from examples.show import BLUE, GREEN, ORANGE, new_figure, svg

    c = circle_to_ellipse()
    fig, (left, right) = new_figure(7.2, 3.6, 1, 2)
    left.plot(*c["circle"].T, color=BLUE)
    right.plot(*c["image"].T, color=BLUE)
    for i, color in enumerate((ORANGE, GREEN)):
        u, sv = c["U"][:, i], c["mapped"][i]
        left.annotate(
            "", xy=u, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "lw": 2}
        )
        left.text(*(1.15 * u), f"$u_{i + 1}$", color=color, ha="center", va="center")
        right.annotate(
            "", xy=sv, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "lw": 2}
        )
        label = f"$\\sigma_{i + 1} v_{i + 1}$, $\\sigma_{i + 1}$ = {c['s'][i]:.3f}"
        right.plot([], [], color=color, lw=2, label=label)
    for ax, title, lim in ((left, "inputs x, $\\|x\\| = 1$", 1.5), (right, "outputs xW", 7.5)):
        ax.set_aspect("equal")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.axhline(0, color="#000000", lw=0.5)
        ax.axvline(0, color="#000000", lw=0.5)
        ax.set_title(title)
    right.legend(loc="upper left", frameon=False, fontsize=9)
    fig.tight_layout()
    return svg(
        fig,
        alt="The unit circle of rows x and its image xW: an ellipse with semi-axes sigma_i v_i",
        caption="Left: the unit circle of rows x and the input directions u₁, u₂. Right: its "
        "image xW, an ellipse with semi-axes σᵢvᵢ.",
    )


def figure_spectrum() -> str:
    """Left: sigma_i / sigma_1 for both matrices. Right: relative Frobenius error of W_r vs r."""
    from examples.show import BLUE, ORANGE, new_figure, svg

    sp = spectra()
    fig, (left, right) = new_figure(7.2, 3.2, 1, 2)
    for name, color, label in (("gauss", BLUE, "Gaussian"), ("decay", ORANGE, "rank 8 + noise")):
        s = sp[f"{name}_s"]
        left.semilogy(sp["ranks"], s / s[0], ".", color=color, label=label, ms=4)
        right.plot(sp["ranks"], sp[f"{name}_err"], color=color, label=label)
    left.set_xlabel("i")
    left.set_title("$\\sigma_i / \\sigma_1$ (log scale)")
    right.set_xlabel("rank r")
    right.set_title("$\\|W - W_r\\|_F \\,/\\, \\|W\\|_F$")
    right.set_ylim(0, 1.02)
    right.legend(frameon=False)
    fig.tight_layout()
    return svg(
        fig,
        alt="Singular value spectra and relative error of the best rank-r approximation",
        caption="Left: σᵢ/σ₁ (log scale). Right: relative Frobenius error of the best rank-r "
        "approximation, for a Gaussian and a rank-8-plus-noise matrix.",
    )


def tables() -> dict[str, NDArray[np.float64]]:
    """Every numeric table on the page, keyed as on the page. Rank columns become row labels."""
    t = svd_2x2()
    ent = entries_vs_directions()
    demo = lora_demo()
    nonsquare = lora_nonsquare()
    return {
        "low-rank/W2": W2,
        "low-rank/U2": t["U"],
        "low-rank/s2": t["s"],
        "low-rank/V2": t["V"],
        "low-rank/eig2": t["eig"],
        "low-rank/W2-1": t["W1"],
        "low-rank/random-W": random_matrix(),
        "low-rank/eckart-young": eckart_young()[:, 1:],
        "low-rank/competitors": competitors()[:, 1:],
        "low-rank/spectrum": spectrum_table()[:, 1:],
        "low-rank/lora-square": lora_square()[:, 1:],
        "low-rank/lora-nonsquare-counts": nonsquare[:, 1:3],
        "low-rank/lora-nonsquare-ratios": nonsquare[:, 3:],
        "low-rank/lora-delta-s": np.asarray(demo["delta_s"]),
        "low-rank/lora-ranks": lora_ranks()[:, 1:],
        "low-rank/entries-W": ent["W"],
        "low-rank/entries-W1": ent["W1"],
        "low-rank/entries-keep": ent["keep"],
        "low-rank/entries-errors": ent["errors"],
    }
