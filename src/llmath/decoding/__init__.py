"""Part 6: decoding: beam search, speculative decoding and generation with a key-value cache.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.decoding.generate import generate

__all__ = ["generate"]
