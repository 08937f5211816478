"""How a code reuser types llmath calls: checked by `mypy --strict` in tests/test_typing.py.

Every assignment below must type-check without a cast: a function that returns a Python scalar
for one vector and an array for a batch has `typing.overload`s saying so.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import llmath

rng = np.random.default_rng(0)
logits = np.array([2.0, 1.0, 0.0])
p = llmath.softmax(logits)
batch = llmath.softmax(np.zeros((2, 3)))

tok: int = llmath.sample(p, rng)  # an NDArray of unknown rank: int for (nV,)
tok_list: int = llmath.sample([0.5, 0.5], rng)
draws: NDArray[np.int64] = llmath.sample(p, rng, size=4)
best: int = llmath.greedy(logits)
best_list: int = llmath.greedy([0.1, 2.0])
bests: NDArray[np.int64] = llmath.greedy([[0.1, 2.0], [3.0, 0.0]])
h: float = llmath.entropy(p)
h_list: float = llmath.entropy([0.5, 0.5], unit="bits")
h_rows: NDArray[np.float64] = llmath.entropy([[0.5, 0.5], [1.0, 0.0]])
kl: float = llmath.kl_divergence([0.5, 0.5], [0.9, 0.1])
kl_arr: float = llmath.kl_divergence(p, p)
ce: float = llmath.cross_entropy_dist([1.0, 0.0], [0.5, 0.5])
ppl: float = llmath.perplexity(2.0)
ppl_np: float = llmath.perplexity(np.float64(2.0))
bits: float = llmath.nats_to_bits(1.0)
nats: float = llmath.bits_to_nats(1.0)
mean: float = llmath.expectation([1.0, 2.0], [0.5, 0.5])
var: float = llmath.variance([1.0, 2.0], [0.5, 0.5])
loss: float = llmath.cross_entropy(logits, 0)
w: NDArray[np.float64] = batch
