"""The training run of "A language model trained from scratch": Python's standard-library
docstrings, a byte-level BPE trained on them, Part 4's model trained with Part 5's backward pass,
AdamW, warmup + cosine and clipping, and the same run in torch.

examples.capstone.train_lm caches the run with @persistent, whose key covers the source of the
modules it imports (this one) and of llmath; tests/docs/test_train_lm.py checks that a fresh run
reproduces the cached run's first steps exactly.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from llmath import (
    AdamW,
    ModelConfig,
    ModelParams,
    NGramModel,
    bits_per_byte,
    cosine_schedule,
    gpt2_state_from_params,
    init,
    next_token_loss,
    parameters,
    train_step,
)
from llmath.tokenization.byte_level import ByteLevelBPE

Array = NDArray[np.float64]

# Pure-Python standard-library modules with long prose docstrings. The text is fixed by the
# Python version (the docstrings of 3.11 and 3.12 differ a little), so the run's cache key
# changes only when the interpreter does.
MODULES = (
    "argparse", "calendar", "collections", "configparser", "contextlib", "csv", "dataclasses",
    "datetime", "difflib", "enum", "fractions", "ftplib", "functools", "gettext", "heapq",
    "imaplib", "inspect", "ipaddress", "json", "logging", "mailbox", "optparse", "pathlib",
    "pickle", "pprint", "queue", "random", "shlex", "shutil", "smtplib", "statistics", "string",
    "tarfile", "tempfile", "textwrap", "threading", "tokenize", "urllib.parse", "uuid",
    "warnings", "zipfile",
)  # fmt: skip
VAL_MODULES = ("difflib", "ipaddress", "shlex", "textwrap")  # held out whole, for validation
NUM_MERGES = 512
CONFIG = ModelConfig(n_vocab=256 + NUM_MERGES, n_ctx=64, D=64, H=4, n_layers=2)
BATCH = 16
STEPS = 450
MAX_LR, MIN_LR, WARMUP = 3e-3, 3e-4, 20
WEIGHT_DECAY, MAX_NORM, BETAS = 0.1, 1.0, (0.9, 0.95)
EVAL_EVERY = 50
EVAL_WINDOWS = 24  # validation windows of n_ctx + 1 tokens, fixed
SEED = 2026
TWIN_STEPS = 8


# ---- data ----------------------------------------------------------------------------------


def _docstrings_of(source: str) -> list[str]:
    """The module's docstring, then those of its public classes and functions in source order,
    each class followed by its public methods' (read from the source: what a running process
    may have patched into the module, such as a test runner's hooks, does not count)."""
    tree = ast.parse(source)
    found = [ast.get_docstring(tree)]
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, kinds) and not node.name.startswith("_"):
            found.append(ast.get_docstring(node))
            if isinstance(node, ast.ClassDef):
                found += [ast.get_docstring(m) for m in node.body
                          if isinstance(m, kinds) and not m.name.startswith("_")]  # fmt: skip
    return [d for d in found if d]


@cache
def docstrings() -> dict[str, tuple[str, ...]]:
    """Per module, every docstring of at least 80 characters, in a fixed order, each once."""
    seen: set[str] = set()
    out = {}
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        with open(spec.origin, encoding="utf-8") as f:
            docs = [d for d in _docstrings_of(f.read()) if len(d) >= 80 and d not in seen]
        seen.update(docs)
        out[name] = tuple(dict.fromkeys(docs))  # a docstring repeated in one module: once
    return out


def documents(part: str) -> list[str]:
    """The docstrings of the training modules (`part="train"`) or of VAL_MODULES."""
    return [d for m, docs in docstrings().items() if (m in VAL_MODULES) == (part == "val")
            for d in docs]  # fmt: skip


@cache
def split() -> tuple[str, str]:
    """(train text, validation text): whole modules are held out, so no docstring of a
    validation module (or a near-copy of one) is seen in training."""
    return "\n\n".join(documents("train")), "\n\n".join(documents("val"))


@cache
def tokenizer() -> ByteLevelBPE:
    return ByteLevelBPE.train(split()[0], num_merges=NUM_MERGES)


@cache
def token_ids() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    train, val = split()
    tok = tokenizer()
    return np.array(tok.encode(train)), np.array(tok.encode(val))


def eval_windows() -> NDArray[np.int64]:
    """Non-overlapping validation windows of n_ctx + 1 tokens (each token predicted once)."""
    val = token_ids()[1]
    T = CONFIG.n_ctx
    n = min(EVAL_WINDOWS, (len(val) - 1) // T)
    return np.stack([val[i * T : i * T + T + 1] for i in range(n)])  # (n, T + 1)


def batches(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    """n random training windows of n_ctx + 1 tokens: shape (n, BATCH, n_ctx + 1)."""
    train = token_ids()[0]
    starts = rng.integers(0, len(train) - CONFIG.n_ctx - 1, size=(n, BATCH))
    return train[starts[..., None] + np.arange(CONFIG.n_ctx + 1)]


# ---- training ------------------------------------------------------------------------------


class Run(NamedTuple):
    params: ModelParams
    init_params: ModelParams
    train_loss: Array  # (steps,)
    grad_norm: Array  # (steps,)
    lr: Array  # (steps,)
    val_steps: Array  # (k,)
    val_loss: Array  # (k,)


def initial_params() -> ModelParams:
    return init(CONFIG, np.random.default_rng(SEED))


def copy_params(p: ModelParams) -> ModelParams:
    return ModelParams(
        *(
            tuple(type(lp)(*(_copy(a) for a in lp)) for lp in v) if k == "layers" else _copy(v)
            for k, v in zip(ModelParams._fields, p, strict=True)
        )
    )


def _copy(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, tuple):  # MLPParams
        return type(a)(*(_copy(x) for x in a))
    return np.array(a, dtype=np.float64)


def val_loss(p: ModelParams) -> float:
    return next_token_loss(p, eval_windows(), config=CONFIG)


def _one_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread: for matrices this small, more threads only wait on each other
    (a 4x slowdown measured on a busy 2-core machine). The results are the same."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with sentence-transformers
        return contextlib.nullcontext()
    return threadpool_limits(1)


# --8<-- [start:run]
def run(steps: int, *, seed: int = SEED) -> Run:
    """Train for `steps` of a STEPS-step schedule; every step's loss is recorded."""
    params = copy_params(initial_params())
    first = copy_params(params)
    opt = AdamW(parameters(params), lr=MAX_LR, betas=BETAS, weight_decay=WEIGHT_DECAY)
    data = batches(np.random.default_rng(seed), steps)  # (steps, BATCH, n_ctx + 1)
    losses, norms, lrs, val_at, val = [], [], [], [], []
    with _one_thread():  # small matrices: see _one_thread
        for step in range(steps):
            lr = cosine_schedule(step, max_lr=MAX_LR, warmup_steps=WARMUP,
                                 total_steps=STEPS, min_lr=MIN_LR)  # fmt: skip
            loss, g = train_step(
                params, data[step], opt, config=CONFIG, lr=lr, max_norm=MAX_NORM
            )  # the loss and the gradient norm before clipping
            losses.append(loss)
            norms.append(g)
            lrs.append(lr)
            if (step + 1) % EVAL_EVERY == 0 or step == 0:
                val_at.append(step + 1)
                val.append(val_loss(params))
    return Run(params, first, *map(np.array, (losses, norms, lrs, val_at, val)))
    # --8<-- [end:run]


# ---- the torch twin ------------------------------------------------------------------------


def gpt2_state(p: ModelParams) -> dict[str, Array]:
    """ModelParams under Hugging Face GPT-2's names (Conv1D layout: weights (in, out))."""
    return gpt2_state_from_params(p, CONFIG)


def twin(steps: int = TWIN_STEPS) -> dict[str, Array]:
    """The same model, data, AdamW, schedule and clipping in torch (float64): losses per step."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.set_num_threads(1)
    c = CONFIG
    hf = GPT2Config(vocab_size=c.n_vocab, n_positions=c.n_ctx, n_embd=c.D, n_layer=c.n_layers,
                    n_head=c.H, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                    layer_norm_epsilon=c.eps, activation_function="gelu_new",
                    attn_implementation="eager")  # fmt: skip
    model = GPT2LMHeadModel(hf).to(torch.float64)
    state = {k: torch.from_numpy(v.copy()) for k, v in gpt2_state(initial_params()).items()}
    missing, _ = model.load_state_dict(state, strict=False)
    assert set(missing) <= {"lm_head.weight"}  # tied to wte
    model.train()  # dropout is 0: train and eval modes compute the same function
    opt = torch.optim.AdamW(model.parameters(), lr=MAX_LR, betas=BETAS, weight_decay=WEIGHT_DECAY)
    data = torch.from_numpy(batches(np.random.default_rng(SEED), steps))
    losses, norms = [], []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = cosine_schedule(step, max_lr=MAX_LR, warmup_steps=WARMUP,
                                          total_steps=STEPS, min_lr=MIN_LR)  # fmt: skip
        x, y = data[step, :, :-1], data[step, :, 1:]
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c.n_vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)))
        opt.step()
        losses.append(float(loss.detach()))
    ours = run(steps)
    wte = model.transformer.wte.weight.detach().numpy()
    return {"torch": np.array(losses), "llmath": ours.train_loss, "torch_norm": np.array(norms),
            "llmath_norm": ours.grad_norm, "wte_diff": float(np.abs(wte - ours.params.wte).max())}  # fmt: skip


# ---- evaluation: bits per byte, the n-gram baseline ---------------------------------------


def val_stream_nats(p: ModelParams) -> dict[str, float]:
    """Total nats of the model on the whole validation text, every token after the first
    predicted once (windows of n_ctx tokens, each starting where the last one ended)."""
    val, T = token_ids()[1], CONFIG.n_ctx
    n = (len(val) - 1) // T
    windows = np.stack([val[i * T : i * T + T + 1] for i in range(n)])  # (n, T + 1)
    rest = val[n * T :]  # the tail, shorter than a window
    nats = next_token_loss(p, windows, config=CONFIG) * windows[:, 1:].size
    if len(rest) >= 2:
        nats += next_token_loss(p, rest, config=CONFIG) * (len(rest) - 1)
    predicted = val[1:]
    n_bytes = sum(len(tokenizer().decoder[int(i)]) for i in predicted)
    return {"nats": float(nats), "tokens": len(predicted), "bytes": n_bytes}


def ngram_stream_nats(n: int, k: float) -> dict[str, float]:
    """Part 3's NGramModel on the same BPE tokens, one sentence per docstring."""
    tok = tokenizer()
    train = [[str(i) for i in tok.encode(d)] for d in documents("train")]
    val = [[str(i) for i in tok.encode(d)] for d in documents("val")]
    model = NGramModel(n, k=k).fit(train)
    predicted = sum(map(len, val)) + len(val)  # every token and each docstring's end
    return {"nats": model.nll(val) * predicted, "tokens": predicted,
            "bytes": len(split()[1].encode("utf-8"))}  # fmt: skip


NGRAMS = ((1, 0.1), (2, 0.1), (3, 0.1))


def compare(trained_params: ModelParams) -> dict[str, dict[str, float]]:
    """Bits per byte and nats per token on the validation text: untrained, trained, n-grams."""
    out = {}
    for label, p in (("transformer, untrained", initial_params()),
                     ("transformer, trained", trained_params)):  # fmt: skip
        out[label] = val_stream_nats(p)
    for n, k in NGRAMS:
        out[f"{('uni', 'bi', 'tri')[n - 1]}gram, k = {k:g}"] = ngram_stream_nats(n, k)
    for v in out.values():
        v["bpb"] = bits_per_byte(v["nats"], int(v["bytes"]))
        v["per_token"] = v["nats"] / v["tokens"]
    return out
