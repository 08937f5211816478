"""Part 7: scale: scaling laws, compute and memory at scale, and the geometry of high dimensions.

Each module's public names are re-exported here and from `llmath`.
"""

__all__: list[str] = []
