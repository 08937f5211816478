"""Examples for Part 2: calculus and backpropagation."""

import numpy as np
from numpy.typing import NDArray


def rel_error(approx: NDArray[np.float64], exact: NDArray[np.float64]) -> float:
    """Largest entrywise difference relative to the largest exact entry: max|a - e| / max|e|."""
    return float(np.abs(approx - exact).max() / np.abs(exact).max())
