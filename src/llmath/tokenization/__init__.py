"""Part 6: tokenization: byte-pair encoding, GPT-2's byte-level tokenizer, WordPiece and the unigram model.

Each module's public names are re-exported here and from `llmath`.
"""

__all__: list[str] = []
