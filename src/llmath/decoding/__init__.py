"""Part 6: decoding: beam search, speculative decoding and generation with a key-value cache.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.decoding.beam import BeamResult, beam_search, length_penalty
from llmath.decoding.constrained import (
    DFA,
    constrained_probs,
    decimal_dfa,
    dfa_advance,
    token_mask,
)
from llmath.decoding.generate import generate
from llmath.decoding.speculative import (
    acceptance_rate,
    expected_tokens_per_step,
    residual_distribution,
    speculative_decode,
    speculative_step,
)

__all__ = [
    "DFA",
    "BeamResult",
    "acceptance_rate",
    "beam_search",
    "constrained_probs",
    "decimal_dfa",
    "dfa_advance",
    "expected_tokens_per_step",
    "generate",
    "length_penalty",
    "residual_distribution",
    "speculative_decode",
    "speculative_step",
    "token_mask",
]
