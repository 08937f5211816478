"""Part 8: real models from the book's functions: a BERT-style sentence encoder and its weights loader.

Each module's public names are re-exported here and from `llmath`.
"""

__all__: list[str] = []
