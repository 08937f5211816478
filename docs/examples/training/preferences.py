"""Worked examples for "Fine-tuning and preferences": inputs chosen here, results computed by llmath.

Two parts. The preference mathematics runs on one prompt with six candidate responses (rewards
and reference probabilities chosen by hand, comparisons sampled from the Bradley-Terry model).
The LoRA part fine-tunes Part 5's trained model (`end_to_end.trained()`) on a grammar whose
probabilities are shifted, with Hugging Face's GPT-2 and torch autograd as the oracle.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from examples.cached import persistent
from examples.show import BLUE, ORANGE, check, new_figure, svg
from llmath.attention.softmax import log_softmax, softmax
from llmath.linalg.lowrank import lora_merge, lora_param_count
from llmath.probability.information import kl_divergence
from llmath.probability.ngram import generate_corpus
from llmath.training.backward import loss_and_grads, parameters
from llmath.training.lora import lora_backward
from llmath.training.optimizers import AdamW
from llmath.training.preferences import (
    bradley_terry_loss,
    dpo_loss,
    kl_regularised_objective,
    kl_regularised_policy,
    kl_regularised_value,
)
from llmath.transformer.model import next_token_loss

Array = NDArray[np.float64]

# ---------------------------------------------------------------- one prompt, six responses

RESPONSES = ("y1", "y2", "y3", "y4", "y5", "y6")
R_TRUE = np.array([0.0, 1.0, -0.5, 2.0, 0.5, -1.0])  # the hidden reward (up to a constant)
PI_REF = np.array([0.30, 0.25, 0.20, 0.10, 0.10, 0.05])  # the reference policy on this prompt
N_PAIRS = 3000
SEED = 5


@functools.cache
def comparisons() -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """N_PAIRS labelled comparisons: pairs of distinct responses, the winner drawn from
    P(a > b) = sigma(r_a - r_b). Returns (chosen, rejected) indices."""
    rng = np.random.default_rng(SEED)
    a = rng.integers(0, 6, size=4 * N_PAIRS)
    b = rng.integers(0, 6, size=4 * N_PAIRS)
    keep = a != b
    a, b = a[keep][:N_PAIRS], b[keep][:N_PAIRS]
    a_wins = rng.random(N_PAIRS) < 1 / (1 + np.exp(-(R_TRUE[a] - R_TRUE[b])))
    return np.where(a_wins, a, b), np.where(a_wins, b, a)


@functools.cache
def bt_fit() -> Array:
    """The maximum-likelihood scores: minimise bradley_terry_loss over r with r_1 fixed at 0."""
    w, lo = comparisons()

    def nll(free: Array) -> float:
        r = np.concatenate([[0.0], free])
        return bradley_terry_loss(r[w], r[lo])

    fit = minimize(nll, np.zeros(5), method="BFGS", options={"gtol": 1e-12})
    return np.concatenate([[0.0], fit.x])


@functools.cache
def bt_logistic() -> Array:
    """The same fit as a logistic regression without intercept or penalty, in torch
    (binary_cross_entropy_with_logits, L-BFGS): one row per comparison, +1 for the first item
    and -1 for the second, label "the first item won"."""
    import torch
    import torch.nn.functional as F

    w, lo = comparisons()
    rng = np.random.default_rng(1)
    flip = rng.random(len(w)) < 0.5  # put the winner first half of the time
    first, second = np.where(flip, lo, w), np.where(flip, w, lo)
    x = np.zeros((len(w), 6))
    x[np.arange(len(w)), first] += 1.0
    x[np.arange(len(w)), second] -= 1.0
    xt = torch.from_numpy(x[:, 1:])  # column 0 dropped: r_1 = 0
    yt = torch.from_numpy((~flip).astype(np.float64))
    coef = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([coef], tolerance_grad=1e-13, tolerance_change=0.0, max_iter=500,
                            line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(xt @ coef, yt)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return np.concatenate([[0.0], coef.detach().numpy()])


def bt_standard_errors() -> Array:
    """Standard errors of the fitted scores (r_1 = 0) from the inverse Fisher information."""
    w, lo = comparisons()
    r = bt_fit()
    p = 1 / (1 + np.exp(-(r[w] - r[lo])))
    info = np.zeros((6, 6))
    for i, j, q in zip(w, lo, p, strict=True):
        v = q * (1 - q)
        info[i, i] += v
        info[j, j] += v
        info[i, j] -= v
        info[j, i] -= v
    cov = np.linalg.inv(info[1:, 1:])
    return np.concatenate([[0.0], np.sqrt(np.diag(cov))])


def bt_table() -> Array:
    """Rows: true reward minus r_1, the MLE, its standard error, and torch's logistic fit."""
    return np.vstack([R_TRUE - R_TRUE[0], bt_fit(), bt_standard_errors(), bt_logistic()])


def bt_checks() -> list[str]:
    import torch
    import torch.nn.functional as F

    w, lo = comparisons()
    r = bt_fit()
    torch_loss = float(-F.logsigmoid(torch.from_numpy(r[w] - r[lo])).mean())
    # the MLE's stationarity: each response's observed wins equal its expected wins
    p = 1 / (1 + np.exp(-(r[w] - r[lo])))
    observed = np.bincount(w, minlength=6).astype(float)
    expected = np.bincount(w, weights=p, minlength=6) + np.bincount(lo, weights=1 - p, minlength=6)
    return [
        check(
            "|bradley_terry_loss − torch −logsigmoid mean|",
            bradley_terry_loss(r[w], r[lo]),
            torch_loss,
            tol=1e-15,
        ),
        check("max |observed − expected wins| at the MLE", observed, expected, tol=1e-3),
        check("max |MLE − torch's logistic regression|", r, bt_logistic(), tol=1e-6),
    ]


# ---------------------------------------------------------------- the KL-regularised optimum

BETAS = (0.1, 0.5, 1.0, 2.0, 10.0)


def scipy_optimum(beta: float) -> tuple[Array, float]:
    """Maximise E_pi[r] - beta KL(pi || pi_ref) over the simplex numerically (SLSQP), from the
    uniform distribution: an independent witness for the closed form."""

    def neg(pi: Array) -> float:
        pi = np.clip(pi, 1e-300, None)
        return -float(pi @ R_TRUE - beta * np.sum(pi * np.log(pi / PI_REF)))

    fit = minimize(
        neg, np.full(6, 1 / 6), method="SLSQP", bounds=[(1e-12, 1.0)] * 6,
        constraints=({"type": "eq", "fun": lambda pi: pi.sum() - 1.0},),
        options={"ftol": 1e-15, "maxiter": 1000},
    )  # fmt: skip
    return fit.x, -float(fit.fun)


@functools.cache
def kl_table() -> Array:
    """Per beta: pi* (6 columns), E_pi*[r], KL(pi* || pi_ref), beta log Z."""
    rows = []
    for beta in BETAS:
        pi = kl_regularised_policy(PI_REF, R_TRUE, beta=beta)
        rows.append(
            [
                *pi,
                pi @ R_TRUE,
                kl_divergence(pi, PI_REF),
                kl_regularised_value(PI_REF, R_TRUE, beta=beta),
            ]
        )
    return np.array(rows)


def kl_checks() -> list[str]:
    tab = kl_table()
    pis, values = [], []
    for beta in BETAS:
        pi, value = scipy_optimum(beta)
        pis.append(pi)
        values.append(value)
    objective = [
        kl_regularised_objective(tab[i, :6], PI_REF, R_TRUE, beta=b) for i, b in enumerate(BETAS)
    ]
    return [
        check("max |π* − scipy's maximiser|", tab[:, :6], np.array(pis), tol=1e-5),
        check("max |β log Z − scipy's maximum|", tab[:, 8], values, tol=1e-9),
        check("max |β log Z − J(π*)|", tab[:, 8], objective, tol=1e-13),
        check(
            "max |β log Z − (E[r] − β KL)|",
            tab[:, 8],
            tab[:, 6] - np.array(BETAS) * tab[:, 7],
            tol=1e-13,
        ),
    ]


def gap_check() -> str:
    """J(pi*) - J(pi) = beta KL(pi || pi*) for random pi: the optimality proof, numerically."""
    rng = np.random.default_rng(3)
    beta = 0.5
    star = kl_regularised_policy(PI_REF, R_TRUE, beta=beta)
    value = kl_regularised_value(PI_REF, R_TRUE, beta=beta)
    pis = rng.dirichlet(np.ones(6), size=20)
    gaps = [value - kl_regularised_objective(p, PI_REF, R_TRUE, beta=beta) for p in pis]
    kls = [beta * kl_divergence(p, star) for p in pis]
    return check("max |J(π*) − J(π) − β KL(π‖π*)| over 20 random π", gaps, kls, tol=1e-13)


# ---------------------------------------------------------------- DPO

BETA_DPO = 0.5


@functools.cache
def dpo_fit() -> Array:
    """Minimise dpo_loss over the policy's logits (one prompt, six responses): the policy DPO
    trains, from the reference."""
    w, lo = comparisons()
    ref = np.log(PI_REF)

    def loss(logits: Array) -> float:
        logp = log_softmax(logits)
        return dpo_loss(logp[w], logp[lo], ref[w], ref[lo], beta=BETA_DPO)

    fit = minimize(loss, np.log(PI_REF), method="BFGS", options={"gtol": 1e-12})
    return softmax(fit.x)


def dpo_checks() -> list[str]:
    """DPO's optimum is the KL-regularised optimum for the Bradley-Terry MLE reward; the loss
    and its gradient against torch."""
    import torch
    import torch.nn.functional as F

    w, lo = comparisons()
    target = kl_regularised_policy(PI_REF, bt_fit(), beta=BETA_DPO)
    rng = np.random.default_rng(0)
    logp = np.log(rng.dirichlet(np.ones(6)))  # some policy
    lp = torch.tensor(logp, requires_grad=True)
    ref = torch.log(torch.from_numpy(PI_REF))
    margin = (lp[w] - ref[w]) - (lp[lo] - ref[lo])
    t_loss = -F.logsigmoid(BETA_DPO * margin).mean()
    t_loss.backward()
    assert lp.grad is not None
    # closed form: dL/dlogpi(y) = -(beta/N) sum over pairs of sigma(-beta m) (+1 if y won, -1 if lost)
    m = (logp[w] - np.log(PI_REF[w])) - (logp[lo] - np.log(PI_REF[lo]))
    weight = 1 / (1 + np.exp(BETA_DPO * m))  # sigma(-beta m)
    g = -(BETA_DPO / len(w)) * (
        np.bincount(w, weights=weight, minlength=6) - np.bincount(lo, weights=weight, minlength=6)
    )
    ours = dpo_loss(logp[w], logp[lo], np.log(PI_REF[w]), np.log(PI_REF[lo]), beta=BETA_DPO)
    return [
        check("|dpo_loss − torch formula|", ours, float(t_loss.detach()), tol=1e-15),
        check("max |closed-form gradient − torch autograd|", g, lp.grad.numpy(), tol=1e-15),
        check(
            "max |DPO's policy − kl_regularised_policy(π_ref, r̂_MLE, β)|",
            dpo_fit(),
            target,
            tol=1e-6,
        ),
    ]


def dpo_table() -> Array:
    """Rows: pi_ref, the DPO policy, the KL optimum for the true reward."""
    return np.vstack([PI_REF, dpo_fit(), kl_regularised_policy(PI_REF, R_TRUE, beta=BETA_DPO)])


# ---------------------------------------------------------------- what the KL term does not bound

PHI = np.array(  # features phi(x, y) of a log-linear policy, two prompts "A" and "B", 3 responses
    [
        [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],  # prompt A
        [[3.0, 0.0], [0.0, 0.0], [0.0, 3.0]],  # prompt B: the same parameters, larger weights
    ]
)
REWARD_A = np.array([1.0, 0.0, 0.0])  # the reward is only ever measured on prompt A
BETA_FORGET = 1.0


def policy(theta: Array) -> Array:
    """pi_theta(y | x) = softmax_y(phi(x, y) theta), shape (2 prompts, 3 responses)."""
    return softmax(PHI @ theta)


@functools.cache
def forgetting() -> dict[str, float]:
    """Maximise E_{pi(.|A)}[r] - beta KL(pi(.|A) || pi_ref(.|A)) over the shared parameters
    theta (from theta = 0, pi_ref = pi_0), then measure both prompts' KL and total variation."""
    ref = policy(np.zeros(2))

    def neg(theta: Array) -> float:
        return -float(
            kl_regularised_objective(policy(theta)[0], ref[0], REWARD_A, beta=BETA_FORGET)
        )

    theta = minimize(neg, np.zeros(2), method="BFGS", options={"gtol": 1e-12}).x
    pi = policy(theta)
    kl_a, kl_b = kl_divergence(pi[0], ref[0]), kl_divergence(pi[1], ref[1])
    return {
        "kl_a": kl_a,
        "kl_b": kl_b,
        "tv_a": 0.5 * float(np.abs(pi[0] - ref[0]).sum()),
        "tv_b": 0.5 * float(np.abs(pi[1] - ref[1]).sum()),
        "pinsker_a": math.sqrt(kl_a / 2),
        "best_a": kl_divergence(kl_regularised_policy(ref[0], REWARD_A, beta=BETA_FORGET), ref[0]),
        "theta0": float(theta[0]),
        "theta1": float(theta[1]),
    }


# ---------------------------------------------------------------- LoRA on a shifted grammar

RANK, ALPHA = 2, 4.0
ADAPTED = ("w_q", "w_v")  # the attention weights Hu et al. (2021, Sect. 7.1) adapt
LORA_STEPS, LORA_LR, LORA_BATCH = 100, 3e-2, 32
N_EVAL = 128  # validation windows per grammar for the curve
N_SHIFTED = 1500  # sentences of the shifted grammar
SHIFT = {  # new probabilities for two of the grammar's choices
    "N": [
        (0.05, ("cat",)),
        (0.05, ("dog",)),
        (0.1, ("child",)),
        (0.2, ("bird",)),
        (0.6, ("teacher",)),
    ],
    "Vi": [(0.1, ("sleeps",)), (0.1, ("sits",)), (0.2, ("runs",)), (0.6, ("sings",))],
}


@functools.cache
def base() -> Any:
    """Part 5's trained model (the end-to-end chapter's run), cached between builds."""
    from examples.training import end_to_end

    return end_to_end.trained()


def shifted_grammar() -> dict[str, list[tuple[float, tuple[str, ...]]]]:
    g = dict(base().grammar)
    g.update(SHIFT)
    return g


@functools.cache
def shifted_ids() -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Training and validation windows of the shifted grammar, encoded as the base model's
    corpus was (end_to_end.encode), in windows of the base model's shape."""
    from examples.training import end_to_end

    rng = np.random.default_rng(11)
    sentences = generate_corpus(rng, N_SHIFTED, grammar=shifted_grammar())
    ids = end_to_end.encode(sentences)
    cut = int(0.8 * len(ids))
    return ids[:cut], ids[cut:]


def _adapters(rng: np.random.Generator) -> list[tuple[Array, Array]]:
    """One (A, B) per adapted weight: A Gaussian (N, r), B zero (r, M), as in LoRA."""
    c = base().config
    return [
        (rng.normal(0.0, 1.0 / math.sqrt(c.D), size=(c.D, RANK)), np.zeros((RANK, c.D)))
        for _ in range(c.n_layers * len(ADAPTED))
    ]


def merged(params: Any, adapters: list[tuple[Array, Array]]) -> Any:
    """The model with every adapted weight replaced by lora_merge(W, A, B)."""
    layers = []
    k = 0
    for layer in params.layers:
        new = {}
        for name in ADAPTED:
            a, b = adapters[k]
            new[name] = lora_merge(getattr(layer, name), a, b, alpha=ALPHA)
            k += 1
        layers.append(layer._replace(**new))
    return params._replace(layers=tuple(layers))


def lora_loss_and_grads(
    params: Any, adapters: list[tuple[Array, Array]], ids: NDArray[np.intp]
) -> tuple[float, list[Array]]:
    """The loss and the gradients of every A and B: C's loss_and_grads on the merged weights
    gives dL/dW_eff, and lora_backward turns it into dL/dA and dL/dB."""
    cfg = base().config
    loss, grads = loss_and_grads(merged(params, adapters), ids, config=cfg)
    out: list[Array] = []
    k = 0
    for layer_grads in grads.layers:
        for name in ADAPTED:
            a, b = adapters[k]
            ga, gb = lora_backward(getattr(layer_grads, name), a, b, alpha=ALPHA)
            out += [ga, gb]
            k += 1
    return loss, out


@functools.cache  # one run per process, also when the build cache is off
@persistent
def lora_run(seed: int = 0) -> dict[str, Any]:
    """Train only the adapters with AdamW on the shifted grammar; the base weights stay frozen.
    Returns the adapters and the losses on both grammars' validation windows along the way."""
    b = base()
    train, val = shifted_ids()
    rng = np.random.default_rng(seed)
    adapters = _adapters(rng)
    flat = [m for pair in adapters for m in pair]  # the arrays AdamW updates in place
    opt = AdamW(flat, lr=LORA_LR, weight_decay=0.0)
    curve = []
    for step in range(LORA_STEPS):
        batch = train[rng.integers(0, len(train), size=LORA_BATCH)]
        loss, grads = lora_loss_and_grads(b.params, adapters, batch)
        opt.step(grads)
        if step % 10 == 0 or step == LORA_STEPS - 1:
            m = merged(b.params, adapters)
            curve.append(
                [step + 1, loss, next_token_loss(m, val[:N_EVAL], config=b.config),
                 next_token_loss(m, b.val_ids[:N_EVAL], config=b.config)]
            )  # fmt: skip
    return {"adapters": [(a.copy(), bb.copy()) for a, bb in adapters], "curve": np.array(curve)}


@functools.cache
def lora_table() -> Array:
    """Rows: before and after; columns: loss on the shifted grammar and on the original one."""
    b = base()
    _, val = shifted_ids()
    after = merged(b.params, lora_run()["adapters"])
    return np.array(
        [
            [next_token_loss(b.params, val, config=b.config), next_token_loss(b.params, b.val_ids, config=b.config)],
            [next_token_loss(after, val, config=b.config), next_token_loss(after, b.val_ids, config=b.config)],
        ]
    )  # fmt: skip


def lora_figure() -> str:
    """Validation loss on both grammars along the LoRA run."""
    curve = lora_run()["curve"]
    fig, ax = new_figure(6.2, 3.2)
    ax.plot(curve[:, 0], curve[:, 2], ".-", color=BLUE, lw=1.2, ms=3, label="shifted grammar")
    ax.plot(curve[:, 0], curve[:, 3], ".-", color=ORANGE, lw=1.2, ms=3, label="original grammar")
    ax.set_xlabel("LoRA step")
    ax.set_ylabel("validation loss (nats/token)")
    ax.legend(frameon=False)
    return svg(
        fig,
        alt="Validation loss on the shifted and the original grammar during LoRA fine-tuning",
        caption="LoRA fine-tuning of the trained model on the shifted grammar (only the adapters "
        f"of W_Q and W_V train), measured on {N_EVAL} validation windows of each grammar: the "
        "loss on the new grammar falls, the loss on the original grammar, which is never "
        "sampled during fine-tuning, rises.",
    )


def param_counts() -> dict[str, int]:
    c = base().config
    total = sum(int(p.size) for p in parameters(base().params))
    lora = c.n_layers * len(ADAPTED) * lora_param_count(c.D, c.D, RANK)
    return {"total": total, "lora": lora, "per_weight": lora_param_count(c.D, c.D, RANK),
            "full_weight": c.D * c.D}  # fmt: skip


def torch_lora_check() -> list[str]:
    """The adapters' gradients through the whole model by torch autograd: Hugging Face's GPT-2
    with the trained weights, each adapted weight replaced by W + (alpha/r) A B in torch."""
    import torch

    from examples.training import end_to_end

    b = base()
    c = b.config
    adapters = lora_run()["adapters"]
    _, val = shifted_ids()
    ids = val[:16]
    loss, grads = lora_loss_and_grads(b.params, adapters, ids)
    model = end_to_end.torch_model(b.params)  # GPT2LMHeadModel with the trained weights
    state = {k: torch.from_numpy(v) for k, v in end_to_end.gpt2_state(b.params).items()}
    ts = [torch.tensor(m, requires_grad=True) for pair in adapters for m in pair]
    k = 0
    for i in range(c.n_layers):
        name = f"transformer.h.{i}.attn.c_attn.weight"
        parts = list(torch.split(state[name], c.D, dim=1))  # [W_Q, W_K, W_V]
        for which in ADAPTED:
            j = {"w_q": 0, "w_k": 1, "w_v": 2}[which]
            parts[j] = parts[j] + ALPHA / RANK * ts[2 * k] @ ts[2 * k + 1]
            k += 1
        state[name] = torch.cat(parts, dim=1)
    x = torch.from_numpy(np.asarray(ids))
    logits = torch.func.functional_call(model, state, (x[:, :-1],)).logits
    t_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c.n_vocab), x[:, 1:].reshape(-1))
    t_loss.backward()  # type: ignore[no-untyped-call]
    t_grads = [t.grad.numpy() for t in ts]  # type: ignore[union-attr]
    return [
        check("|llmath loss − GPT-2 loss|", loss, float(t_loss.detach()), tol=1e-12),
        check(
            "max |∂𝓛/∂A, ∂𝓛/∂B − torch autograd|",
            np.concatenate([g.ravel() for g in grads]),
            np.concatenate([g.ravel() for g in t_grads]),
            tol=1e-10,
        ),
    ]


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    return {
        "preferences/bt": bt_table(),
        "preferences/kl": kl_table(),
        "preferences/dpo": dpo_table(),
        "preferences/lora": lora_table(),
    }
