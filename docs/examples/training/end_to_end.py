"""Training Part 4's model on Part 3's grammar with llmath alone, and the same run in torch.

`trained()` is the run the later chapters reuse (Part 5's preferences, Part 7's quantisation):
the trained parameters, the config, the encoded training and validation windows and the
grammar. `torch_twin()` repeats the run with Hugging Face's `GPT2LMHeadModel`,
`torch.optim.AdamW` and `clip_grad_norm_` from the same initial weights. Both are cached
between builds (`@persistent`); each takes a few seconds.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from examples.cached import persistent
from examples.probability.ngrams import source_perplexity, truth
from examples.show import BLUE, GREEN, ORANGE, PURPLE, new_figure, svg
from llmath import (
    AdamW,
    ModelConfig,
    ModelParams,
    cosine_schedule,
    cross_entropy,
    cross_entropy_dist,
    entropy,
    forward,
    gpt2_state_from_params,
    init,
    kl_divergence,
    loss_and_grads,
    next_token_loss,
    parameters,
    softmax,
    train_step,
)
from llmath.probability.ngram import EOS, GRAMMAR, generate_corpus

Array = NDArray[np.float64]
Ids = NDArray[np.intp]

# ---- the data: Part 3's grammar, one vocabulary id per word, windows of whole sentences --------

WORDS = sorted(
    {w for rules in GRAMMAR.values() for _, exp in rules for w in exp if w not in GRAMMAR}
)
VOCAB = (EOS, *WORDS)  # id 0 ends a sentence and starts the next, as GPT-2's <|endoftext|>
ID = {w: i for i, w in enumerate(VOCAB)}

CONFIG = ModelConfig(n_vocab=len(VOCAB), n_ctx=16, D=32, H=4, n_layers=2)  # GPT-2's layout
BATCH = 16  # windows of n_ctx + 1 = 17 tokens per step
N_TRAIN, N_VAL = 24_000, 2_000  # sentences
TRAIN_SEED, VAL_SEED, INIT_SEED, ORDER_SEED = 51, 52, 53, 54
STEPS, WARMUP = 700, 40
MAX_LR, MIN_LR = 1e-2, 1e-3
BETAS, WEIGHT_DECAY, MAX_NORM = (0.9, 0.95), 0.01, 1.0
EVAL_EVERY = 25
FIRST = 10  # the first steps, compared to ~1e-8


def encode(sentences: list[str], *, n_ctx: int = CONFIG.n_ctx) -> Ids:
    """Windows of `n_ctx + 1` ids, each starting at a sentence start: `</s> s1 </s> s2 </s> ...`.

    Sentences are packed in order; the one that does not fit is cut at the window's end and the
    next window starts with a new sentence, so every token is predicted from its whole sentence
    prefix (the earlier sentences in the window are independent of it).
    """
    windows, row = [], [ID[EOS]]
    for s in sentences:
        row += [ID[w] for w in s.split()] + [ID[EOS]]
        if len(row) >= n_ctx + 1:
            windows.append(row[: n_ctx + 1])
            row = [ID[EOS]]
    return np.array(windows, dtype=np.intp)  # (N, n_ctx + 1)


@cache
def data() -> tuple[Ids, Ids]:
    """Training and validation windows, from independent samples of the grammar."""
    train = encode(generate_corpus(np.random.default_rng(TRAIN_SEED), N_TRAIN))
    val = encode(generate_corpus(np.random.default_rng(VAL_SEED), N_VAL))
    return train, val


def batch_rows(step: int, n: int) -> Ids:
    """The windows of one step: a fresh random order of all `n` windows every epoch."""
    per_epoch = n // BATCH
    order = np.random.default_rng([ORDER_SEED, step // per_epoch]).permutation(n)
    start = (step % per_epoch) * BATCH
    return order[start : start + BATCH]


def lr_at(step: int) -> float:
    return cosine_schedule(
        step, max_lr=MAX_LR, warmup_steps=WARMUP, total_steps=STEPS, min_lr=MIN_LR
    )


def val_loss(params: ModelParams) -> float:
    """Mean next-token cross-entropy (nats) over every validation window."""
    return next_token_loss(params, data()[1], config=CONFIG)


def expected_val_loss(logits: Array) -> float:
    r"""Mean of $\mathbb{E}_{x \sim p}[-\log q(x)]$ over the validation positions: the loss
    averaged over the source's next token instead of the one sampled."""
    return float(np.mean(cross_entropy_dist(val_true_next(), softmax(logits))))


def evaluate(params: ModelParams) -> tuple[float, float]:
    """(sampled, expected) validation loss, from one forward pass."""
    val = data()[1]
    logits, _ = forward(params, val[:, :-1], config=CONFIG)  # (M, n_ctx, nV)
    return cross_entropy(logits, val[:, 1:]), expected_val_loss(logits)


def copy_params(params: ModelParams) -> ModelParams:
    def cp(t: Any) -> Any:
        if isinstance(t, tuple):
            items = [cp(x) for x in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        return None if t is None else np.array(t)

    return cp(params)  # type: ignore[no-any-return]


def initial_params() -> ModelParams:
    return init(CONFIG, np.random.default_rng(INIT_SEED))


# ---- the run ----------------------------------------------------------------------------------


class Trained(NamedTuple):
    """The end-to-end run: what later chapters reuse, and its curves."""

    config: ModelConfig
    params: ModelParams  # after the last step
    train_ids: Ids  # (N, n_ctx + 1) windows
    val_ids: Ids  # (M, n_ctx + 1) windows
    grammar: dict[str, list[tuple[float, tuple[str, ...]]]]
    vocab: tuple[str, ...]
    losses: Array  # (STEPS,): training loss of each step's batch, before its update
    grad_norms: Array  # (STEPS,): global gradient norm before clipping
    lrs: Array  # (STEPS,)
    eval_steps: Array  # steps after which the validation loss was measured
    val_losses: Array  # sampled: next_token_loss on the validation windows
    val_expected: Array  # expected over the source's next token (see expected_val_loss)

    def val_loss(self, params: ModelParams | None = None) -> float:
        """Mean next-token loss on the validation windows of `params` (default: the trained)."""
        p = self.params if params is None else params
        return next_token_loss(p, self.val_ids, config=self.config)


# --8<-- [start:run]
@cache  # once per process; @persistent: once per version of the code
@persistent
def trained() -> Trained:
    """Train with llmath alone: forward, backward, AdamW, warmup + cosine, clipping."""
    train, val = data()
    params = initial_params()
    opt = AdamW(parameters(params), lr=MAX_LR, betas=BETAS, weight_decay=WEIGHT_DECAY)
    losses, norms, lrs, evals, vals = [], [], [], [0], [evaluate(params)]
    for step in range(STEPS):
        batch = train[batch_rows(step, len(train))]  # (BATCH, n_ctx + 1)
        lr = lr_at(step)
        loss, norm = train_step(params, batch, opt, config=CONFIG, lr=lr,
                                max_norm=MAX_NORM)  # fmt: skip
        losses.append(loss)
        norms.append(norm)
        lrs.append(lr)
        if (step + 1) % EVAL_EVERY == 0:
            evals.append(step + 1)
            vals.append(evaluate(params))
    sampled, expected = zip(*vals, strict=True)
    curves = (np.array(a) for a in (losses, norms, lrs, evals, sampled, expected))
    return Trained(CONFIG, params, train, val, dict(GRAMMAR), VOCAB, *curves)
    # --8<-- [end:run]


# ---- the torch twin ---------------------------------------------------------------------------


def gpt2_state(params: ModelParams) -> dict[str, Array]:
    """The model (or its gradient) under Hugging Face GPT-2's parameter names."""
    return gpt2_state_from_params(params, CONFIG)


def torch_model(params: ModelParams) -> Any:
    """A float64 `GPT2LMHeadModel` of CONFIG's shape holding `params`, without dropout."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)  # the random initialisation is overwritten below
    cfg = GPT2Config(vocab_size=CONFIG.n_vocab, n_positions=CONFIG.n_ctx, n_embd=CONFIG.D,
                     n_layer=CONFIG.n_layers, n_head=CONFIG.H, layer_norm_epsilon=CONFIG.eps,
                     activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, attn_implementation="eager")  # fmt: skip
    model = GPT2LMHeadModel(cfg).double().eval()
    state = gpt2_state(params)
    with torch.no_grad():
        named = dict(model.named_parameters())  # the tied lm_head.weight is wte itself
        assert set(named) == set(state), set(named) ^ set(state)
        for name, t in named.items():
            t.copy_(torch.from_numpy(state[name]))
    return model


def torch_loss(model: Any, ids: Ids) -> Any:
    import torch

    t = torch.from_numpy(ids)
    logits = model(t[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, CONFIG.n_vocab),
                                             t[:, 1:].reshape(-1))  # fmt: skip


class TwinRun(NamedTuple):
    losses: Array
    grad_norms: Array
    val_losses: Array  # at Trained.eval_steps, computed by torch
    val_expected: Array


@cache
@persistent
def torch_twin() -> TwinRun:
    """The same run in torch: GPT2LMHeadModel, AdamW, clip_grad_norm_, the same batches."""
    import torch

    train, val = data()
    model = torch_model(initial_params())
    opt = torch.optim.AdamW(model.parameters(), lr=MAX_LR, betas=BETAS,
                            weight_decay=WEIGHT_DECAY)  # fmt: skip

    def val_now() -> tuple[float, float]:
        with torch.no_grad():
            logits = model(torch.from_numpy(val[:, :-1])).logits
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, CONFIG.n_vocab), torch.from_numpy(val[:, 1:]).reshape(-1)
            )
            return float(loss.item()), expected_val_loss(logits.numpy())

    losses, norms, vals = [], [], [val_now()]
    for step in range(STEPS):
        batch = train[batch_rows(step, len(train))]
        model.zero_grad(set_to_none=True)
        loss = torch_loss(model, batch)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
        if (step + 1) % EVAL_EVERY == 0:
            vals.append(val_now())
    sampled, expected = (np.array(a) for a in zip(*vals, strict=True))
    return TwinRun(np.array(losses), np.array(norms), sampled, expected)


# ---- the source's entropy, and the gap ----------------------------------------------------------


@cache
def next_word_table() -> dict[tuple[int, ...], Array]:
    """The grammar's exact next-token distribution after every sentence prefix (word ids)."""
    mass: dict[tuple[int, ...], Array] = {}
    for sentence, p in truth().items():
        ids = [ID[w] for w in sentence.split()] + [ID[EOS]]
        for k, nxt in enumerate(ids):
            row = mass.setdefault(tuple(ids[:k]), np.zeros(len(VOCAB)))
            row[nxt] += p  # P(prefix, then nxt)
    return {prefix: row / row.sum() for prefix, row in mass.items()}


@cache
def val_true_next() -> Array:
    """`true_next` of the validation windows, computed once."""
    return true_next(data()[1])


@cache
def trained_gap() -> Gap:
    """`gap` of the trained model, computed once."""
    return gap(trained().params)


def true_next(windows: Ids) -> Array:
    """(N, n_ctx, nV): the source's distribution of every target given its window so far.

    Sentences are independent, so it depends only on the current sentence's prefix: the
    words since the last `</s>`.
    """
    table = next_word_table()
    out = np.empty((*windows[:, :-1].shape, len(VOCAB)))
    for n, row in enumerate(windows[:, :-1]):
        prefix: list[int] = []
        for t, tok in enumerate(row):
            prefix = [] if tok == ID[EOS] else [*prefix, int(tok)]
            out[n, t] = table[tuple(prefix)]
    return out


class Gap(NamedTuple):
    rate: float  # Part 3's H(S) / E[L + 1], nats per token
    sentence_entropy: float  # H(S)
    mean_tokens: float  # E[L + 1]: words and the end marker
    floor: float  # mean entropy of the source's next-token distribution at the val positions
    kl: float  # mean KL(source || model) at the val positions
    expected_ce: float  # mean cross-entropy E_{x ~ source}[-log q(x)] at the val positions
    val_loss: float  # the sampled validation loss, next_token_loss
    stderr: float  # its standard error (windows as independent samples)


def gap(params: ModelParams) -> Gap:
    """Split the validation loss into the source's entropy and Part 3's KL divergence."""
    val = data()[1]
    p = val_true_next()  # (N, T, nV)
    logits, _ = forward(params, val[:, :-1], config=CONFIG)  # (N, T, nV)
    q = softmax(logits)
    h, mean_len, _ = source_perplexity()
    per_window = np.array([next_token_loss(params, w, config=CONFIG) for w in val])
    return Gap(
        rate=h / mean_len,
        sentence_entropy=h,
        mean_tokens=mean_len,
        floor=float(np.mean(entropy(p))),
        kl=float(np.mean(kl_divergence(p, q))),
        expected_ce=float(np.mean(cross_entropy_dist(p, q))),
        val_loss=val_loss(params),
        stderr=float(per_window.std(ddof=1) / math.sqrt(len(per_window))),
    )


def window_floor_by_position() -> Array:
    """The source's entropy at each window position, averaged over the validation windows."""
    return np.asarray(entropy(val_true_next())).mean(axis=0)  # (n_ctx,)


# ---- the page's other numbers -----------------------------------------------------------------


def decode(window: Ids) -> str:
    return " ".join(VOCAB[i] for i in window)


def gradient_check() -> tuple[float, float]:
    """(max |llmath − torch autograd| over every gradient entry, max |gradient|), one batch."""
    params = initial_params()
    batch = data()[0][:BATCH]
    _, grads = loss_and_grads(params, batch, config=CONFIG)
    model = torch_model(params)
    torch_loss(model, batch).backward()
    ours = gpt2_state(grads)
    diff = max(float(np.abs(ours[n] - t.grad.numpy()).max()) for n, t in model.named_parameters())
    return diff, max(float(np.abs(g).max()) for g in parameters(grads))


class Agreement(NamedTuple):
    first_losses: float  # max |llmath − torch| training loss over the first FIRST steps
    first_norms: float  # the same for the gradient norms
    step_1e8: int  # the first step whose losses differ by more than 1e-8
    step_1e4: int  # ... by more than 1e-4
    final_val: float  # |llmath − torch| validation loss after the last step
    max_val: float  # the largest validation-loss difference along the run


def agreement() -> Agreement:
    t, tw = trained(), torch_twin()
    d = np.abs(t.losses - tw.losses)
    dv = np.abs(t.val_losses - tw.val_losses)
    return Agreement(
        float(d[:FIRST].max()),
        float(np.abs(t.grad_norms - tw.grad_norms)[:FIRST].max()),
        int(np.argmax(d > 1e-8)) if (d > 1e-8).any() else STEPS,
        int(np.argmax(d > 1e-4)) if (d > 1e-4).any() else STEPS,
        float(dv[-1]),
        float(dv.max()),
    )


def tied_gradient_parts() -> tuple[Array, Array, Array]:
    """The tied embedding's gradient, and the two parts of it from an untied copy of the model."""
    t = trained()
    ids = data()[1][:8]
    _, tied = loss_and_grads(t.params, ids, config=CONFIG)
    untied_cfg = dataclasses.replace(CONFIG, tie_embeddings=False)
    untied = t.params._replace(w_unembed=t.params.wte.T.copy())
    _, g = loss_and_grads(untied, ids, config=untied_cfg)
    return tied.wte, g.wte, g.w_unembed.T  # type: ignore[union-attr]


def kl_by_target() -> tuple[list[str], Array, Array]:
    """Mean KL at the positions whose true next token is each vocabulary entry's kind."""
    t = trained()
    val = data()[1]
    p = val_true_next()
    q = softmax(forward(t.params, val[:, :-1], config=CONFIG)[0])
    kl = np.asarray(kl_divergence(p, q))  # (N, T)
    after_eos = val[:, :-1] == ID[EOS]
    names = ["first word (after </s>)", "any later token"]
    return (
        names,
        np.array([kl[after_eos].mean(), kl[~after_eos].mean()]),
        np.array([after_eos.mean(), 1 - after_eos.mean()]),
    )


def figure() -> str:
    t, tw = trained(), torch_twin()
    g = trained_gap()
    fig, (ax, bx) = new_figure(7.0, 3.4, ncols=2)
    steps = np.arange(1, STEPS + 1)
    k = 5  # every 5th step: a thinner SVG
    ax.plot(steps[::k], t.losses[::k], color=BLUE, lw=0.8, alpha=0.6, label="train, llmath")
    ax.plot(steps[::k], tw.losses[::k], color=ORANGE, lw=0.8, ls="--", label="train, torch")
    ax.plot(t.eval_steps, t.val_expected, "o-", color=BLUE, ms=3, label="val, llmath")
    ax.plot(t.eval_steps, tw.val_expected, "x", color=ORANGE, ms=5, label="val, torch")
    ax.axhline(g.rate, color=GREEN, ls=":", label="entropy rate")
    ax.axhline(g.floor, color=PURPLE, ls="-.", lw=1, label="entropy, val positions")
    ax.set_ylim(1.1, 3.3)
    ax.set_xlabel("step")
    ax.set_ylabel("nats per token")
    ax.legend(fontsize=8, loc="upper right")
    bx.semilogy(t.eval_steps, t.val_expected - g.floor, "o-", color=BLUE, ms=3, label="llmath")
    bx.semilogy(t.eval_steps, tw.val_expected - g.floor, "x", color=ORANGE, ms=5, label="torch")
    bx.set_xlabel("step")
    bx.set_ylabel("val cross-entropy − entropy")
    bx.legend(fontsize=8)
    fig.tight_layout()
    return svg(
        fig,
        alt="Left: training and validation loss of llmath and torch over the steps; the two "
        "runs overlap and fall to the source's entropy. Right: the validation gap above the "
        "entropy on a log scale, falling by three orders of magnitude.",
        caption="Left: training loss of every fifth step and validation cross-entropy (expected "
        f"over the source's next token) every {EVAL_EVERY} steps, for llmath (blue) and the "
        "torch twin (orange), which overlap; the dotted line is Part 3's entropy rate, the "
        "dash-dotted one the source's exact entropy at the validation positions. Right: the "
        "gap between the two, which is the model's mean KL divergence from the source.",
    )


def tables() -> dict[str, Array]:
    """Every numeric table on the page, keyed as on the page."""
    g = trained_gap()
    return {
        "end-to-end/gap": np.array([[g.rate, g.floor, g.expected_ce, g.kl, g.val_loss]]),
    }
