"""Part 5: training and optimisation: optimisers, schedules, clipping, initialisation, the backward
pass of the whole model, and preference tuning.

Each module's public names are re-exported here and from `llmath`.
"""

__all__: list[str] = []
