"""Worked examples for the scaling-laws chapter.

Published numbers used here (the laws' constants are in src/llmath/scale/scaling.py):

* Hoffmann et al. (2022): Gopher's training budget C = 5.76e23 FLOPs (Fig. 2 caption), for
  which approach 3 projects about 40B parameters (Fig. 4 caption) and approach 1 67B on 1.5T
  tokens (Table 3, whose 1B and 10B rows read 20.2B and 205.1B tokens); Chinchilla 70B
  parameters on 1.4T tokens (Sect. 4.1, Table 4); Table 2's exponent a = 0.46 of
  N_opt ∝ C^a for approach 3, 0.50 and 0.49 for approaches 1 and 2.
* Kaplan et al. (2020), App. A, Table 6: their compute-efficient size N_opt = 1.3e9 · C^0.73
  with C in PF-days (1 PF-day = 1e15 · 86400 FLOPs).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from examples.show import BLUE, GREEN, ORANGE, PURPLE, RED, new_figure, svg
from llmath import CHINCHILLA_FITS, ChinchillaFit, chinchilla_loss, compute_optimal, kaplan_loss
from llmath.scale.scaling import KAPLAN_D, KAPLAN_JOINT, KAPLAN_N

Array = NDArray[np.float64]

GOPHER_C = 5.76e23  # Hoffmann et al. (2022), Sect. 4
PAPER_N_GOPHER = 40e9  # Hoffmann et al. (2022), Fig. 4 caption: approach 3 at Gopher's budget
TABLE3 = {"N": (1e9, 10e9, 67e9), "D": (20.2e9, 205.1e9, 1.5e12)}  # Hoffmann, Table 3 (approach 1)
CHINCHILLA_N, CHINCHILLA_D = 70e9, 1.4e12  # Hoffmann et al. (2022), Sect. 4.1
PAPER_A = {"approach 1": 0.50, "approach 2": 0.49, "approach 3": 0.46}  # Table 2
KAPLAN_NOPT = (1.3e9, 0.73)  # Kaplan et al. (2020), Table 6, C in PF-days
PF_DAY = 1e15 * 86400
FIT_NAMES = {"hoffmann": "Hoffmann, as printed", "hoffmann_unrounded": "Hoffmann, 4 decimals",
             "besiroglu": "Besiroglu refit"}  # fmt: skip

# (N, D) pairs for the claim box: GPT-2 small-ish, GPT-3, Chinchilla (published sizes)
CLAIM_POINTS = ((1e8, 1e10), (1e9, 2e10), (175e9, 300e9), (70e9, 1.4e12))


def kaplan_constants() -> Array:
    """Rows alpha_N, N_c (1e13), alpha_D, D_c (1e13); columns: the single laws (Eq. 1.1, 1.2,
    Table 5) and the joint law's fit (Table 2)."""
    single = [
        KAPLAN_N["alpha_N"],
        KAPLAN_N["N_c"] / 1e13,
        KAPLAN_D["alpha_D"],
        KAPLAN_D["D_c"] / 1e13,
    ]
    joint = [KAPLAN_JOINT["alpha_N"], KAPLAN_JOINT["N_c"] / 1e13, KAPLAN_JOINT["alpha_D"],
             KAPLAN_JOINT["D_c"] / 1e13]  # fmt: skip
    return np.array([single, joint]).T


def fits_table() -> Array:
    """Rows per fit; columns E, A, B, alpha, beta."""
    return np.array([list(CHINCHILLA_FITS[name]) for name in FIT_NAMES])


def kaplan_as_additive() -> ChinchillaFit:
    """The additive form with Kaplan's names: (N_c/N)^α_N + (D_c/D)^α_D, no constant."""
    aN, Nc, aD, Dc = KAPLAN_N["alpha_N"], KAPLAN_N["N_c"], KAPLAN_D["alpha_D"], KAPLAN_D["D_c"]
    return ChinchillaFit(E=0.0, A=Nc**aN, B=Dc**aD, alpha=aN, beta=aD)


def claim_table() -> Array:
    """Rows per (N, D); columns: N, D, Kaplan's joint law, the additive form, their ratio."""
    rows = []
    for N, D in CLAIM_POINTS:
        joint = kaplan_loss(N=N, D=D)
        additive = chinchilla_loss(N, D, fit=kaplan_as_additive())
        rows.append([N / 1e9, D / 1e9, joint, additive, additive / joint])
    return np.array(rows)


def optimum_table(C: float = GOPHER_C) -> Array:
    """Rows per fit; columns: N_opt (B), D_opt (B tokens), tokens per parameter, loss."""
    rows = []
    for name in FIT_NAMES:
        o = compute_optimal(C, fit=name)
        rows.append([o.N / 1e9, o.D / 1e9, o.tokens_per_param, o.loss])
    return np.array(rows)


def scipy_optimum(C: float, fit: str) -> float:
    """N minimising L(N, C/(6N)), found numerically by scipy (an independent check)."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda u: chinchilla_loss(math.exp(u), C / (6 * math.exp(u)), fit=fit),
        bounds=(math.log(1e6), math.log(1e14)), method="bounded", options={"xatol": 1e-10},
    )  # fmt: skip
    return math.exp(res.x)


SHIFTS = (-0.005, 0.0, 0.005)


def sensitivity_table(C: float = GOPHER_C) -> Array:
    """N_opt (B) at C with the printed A, B, E and α, β shifted by ±0.005 (rows α, columns β)."""
    f = CHINCHILLA_FITS["hoffmann"]
    return np.array([[compute_optimal(C, fit=f._replace(alpha=f.alpha + da, beta=f.beta + db)).N
                      / 1e9 for db in SHIFTS] for da in SHIFTS])  # fmt: skip


def exponent_table() -> Array:
    """Rows per fit: a = β/(α+β) (N_opt ∝ C^a) and b = α/(α+β)."""
    rows = []
    for name in FIT_NAMES:
        f = CHINCHILLA_FITS[name]
        rows.append([f.beta / (f.alpha + f.beta), f.alpha / (f.alpha + f.beta)])
    return np.array(rows)


CS = np.geomspace(1e18, 1e26, 40)


def allocation_figure() -> str:
    fig, ax = new_figure(6.0, 3.8)
    colours = {"hoffmann": BLUE, "hoffmann_unrounded": PURPLE, "besiroglu": GREEN}
    for name, label in FIT_NAMES.items():
        ax.loglog(CS, compute_optimal(CS, fit=name).N, color=colours[name], label=label)
    ax.loglog(CS, np.sqrt(CS / 120), color=ORANGE, ls="--", label="20 tokens per parameter")
    n0, p = KAPLAN_NOPT
    ax.loglog(CS, n0 * (CS / PF_DAY) ** p, color=RED, ls=":", label="Kaplan, Table 6")
    ax.plot([GOPHER_C], [PAPER_N_GOPHER], "o", color="black", ms=5)
    ax.annotate("paper: 40B at Gopher's budget", (GOPHER_C, PAPER_N_GOPHER), xytext=(1e19, 3e11),
                fontsize=10, arrowprops={"arrowstyle": "->", "lw": 0.8})  # fmt: skip
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal N")
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return svg(
        fig,
        alt="Compute-optimal model size against training compute, log-log, for the printed "
        "Chinchilla constants, the same constants to four decimals, Besiroglu's refit, the "
        "20-tokens-per-parameter rule and Kaplan's allocation; a dot marks the paper's 40B.",
        caption="Compute-optimal N from three sets of constants, the 20-token rule and Kaplan's "
        "allocation. The rounded exponents move the line by a constant factor on a log scale.",
    )


# ---- predicting before training: synthetic small runs ------------------------------------------

TRUE_FIT = "besiroglu"  # the synthetic "truth"
SMALL_N = np.geomspace(2e7, 4e8, 6)
SMALL_D = np.geomspace(4e8, 8e9, 6)
NOISE = 0.01  # standard deviation of the log-loss noise: about 1 % of the loss
BIG = ((1e9, 2e10), (7e9, 1.4e11), (70e9, 1.4e12), (175e9, 3e12))  # extrapolation targets


def _fit_law(N: Array, D: Array, L: Array) -> ChinchillaFit:
    """Least squares on log L over log-parameterised constants, from a grid of starts."""
    from scipy.optimize import least_squares

    def resid(t: Array) -> Array:
        f = ChinchillaFit(math.exp(t[0]), math.exp(t[1]), math.exp(t[2]), t[3], t[4])
        return np.log(chinchilla_loss(N, D, fit=f)) - np.log(L)

    best = None
    for e0 in (0.0, 0.5):
        for a0 in (0.2, 0.5):
            start = np.array([e0, 5.0, 6.0, a0, a0])
            r = least_squares(
                resid, start, bounds=([-3, -5, -5, 0.01, 0.01], [2, 15, 15, 1.5, 1.5])
            )
            if best is None or r.cost < best.cost:
                best = r
    assert best is not None
    t = best.x
    return ChinchillaFit(math.exp(t[0]), math.exp(t[1]), math.exp(t[2]), float(t[3]), float(t[4]))


@functools.cache
def synthetic_runs(seed: int = 0) -> tuple[Array, Array, Array]:
    """Losses of 36 small 'runs' from the true law with log-normal noise (no model trained)."""
    rng = np.random.default_rng(seed)
    N, D = (a.ravel() for a in np.meshgrid(SMALL_N, SMALL_D))
    L = chinchilla_loss(N, D, fit=TRUE_FIT) * np.exp(NOISE * rng.standard_normal(N.size))
    return N, D, L


@functools.cache
def extrapolation(n_seeds: int = 20) -> Array:
    """Per seed: relative loss errors at the BIG targets, then relative error of N_opt at
    Gopher's budget, then the fitted alpha and beta."""
    rows = []
    for seed in range(n_seeds):
        fit = _fit_law(*synthetic_runs(seed))
        errs = [chinchilla_loss(N, D, fit=fit) / chinchilla_loss(N, D, fit=TRUE_FIT) - 1
                for N, D in BIG]  # fmt: skip
        n_err = compute_optimal(GOPHER_C, fit=fit).N / compute_optimal(GOPHER_C, fit=TRUE_FIT).N - 1
        rows.append([*errs, n_err, fit.alpha, fit.beta])
    return np.array(rows)


def extrapolation_table() -> Array:
    """Rows per target (and N_opt); columns: median |error| %, largest |error| %."""
    e = np.abs(extrapolation()[:, : len(BIG) + 1]) * 100
    return np.stack([np.median(e, axis=0), e.max(axis=0)], axis=1)


def extrapolation_figure() -> str:
    N, D, L = synthetic_runs(0)
    fit = _fit_law(N, D, L)
    fig, ax = new_figure(6.0, 3.6)
    C = 6 * N * D
    ax.loglog(C, L, "o", color=BLUE, ms=4, label="36 synthetic small runs (seed 0)")
    cs = np.geomspace(1e16, 1e25, 60)
    for name, f, colour, ls in (("true law at its optimum", TRUE_FIT, GREEN, "-"),
                                ("fitted law at its optimum", fit, ORANGE, "--")):  # fmt: skip
        o = compute_optimal(cs, fit=f)
        ax.loglog(cs, chinchilla_loss(o.N, o.D, fit=TRUE_FIT), color=colour, ls=ls, label=name)
    for Nb, Db in BIG:
        ax.plot([6 * Nb * Db], [chinchilla_loss(Nb, Db, fit=fit)], "x", color=RED, ms=7)
    ax.axvspan(C.min(), C.max(), color=BLUE, alpha=0.08)
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("loss (nats per token)")
    ax.legend(frameon=False, fontsize=9)
    return svg(
        fig,
        alt="Synthetic small-run losses in a shaded band of compute, the true law's and the "
        "fitted law's compute-optimal curves up to 1e25 FLOPs, nearly on top of each other, "
        "and crosses at the four large targets.",
        caption="Fitting the law to small runs and extrapolating: losses are drawn from "
        "Besiroglu's constants with 1 % noise; crosses are the fit's predictions for four "
        "large (N, D) runs. (The true law's loss is plotted along both optima.)",
    )


def tables() -> dict[str, Array]:
    return {
        "scaling/kaplan-constants": kaplan_constants(),
        "scaling/fits": fits_table(),
        "scaling/claim": claim_table(),
        "scaling/optimum": optimum_table(),
        "scaling/sensitivity": sensitivity_table(),
        "scaling/exponents": exponent_table(),
        "scaling/extrapolation": extrapolation_table(),
    }
