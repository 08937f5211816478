"""Part 6: tokenization: byte-pair encoding, GPT-2's byte-level tokenizer, WordPiece and the unigram model.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.tokenization.bpe import BPEResult, bpe_decode, bpe_encode, bpe_train
from llmath.tokenization.byte_level import GPT2_PATTERN, ByteLevelBPE, bytes_to_unicode
from llmath.tokenization.unigram import unigram_log_likelihood, unigram_segment
from llmath.tokenization.wordpiece import basic_tokenize, read_wordpiece_vocab, wordpiece_encode

__all__ = [
    "GPT2_PATTERN",
    "BPEResult",
    "ByteLevelBPE",
    "basic_tokenize",
    "bpe_decode",
    "bpe_encode",
    "bpe_train",
    "bytes_to_unicode",
    "read_wordpiece_vocab",
    "unigram_log_likelihood",
    "unigram_segment",
    "wordpiece_encode",
]
