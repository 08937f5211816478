"""Shared test configuration: a deterministic Hypothesis profile and float64 torch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hypothesis
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
if str(DOCS) not in sys.path:
    sys.path.insert(0, str(DOCS))  # the book's example modules: `import examples.<part>.<name>`

hypothesis.settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60, print_blob=True
)
hypothesis.settings.register_profile("dev", deadline=None, max_examples=200)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

torch.set_default_dtype(torch.float64)
# The oracles are tiny tensors: a thread pool only adds overhead, badly so on a busy 2-core machine.
torch.set_num_threads(1)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator per test: no global seeds anywhere."""
    return np.random.default_rng(20261123)
