"""Shared test configuration: a deterministic Hypothesis profile and float64 torch."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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


def pytest_configure(config: pytest.Config) -> None:
    # Long results (training runs, `examples.cached.persistent`) are computed once per session and
    # shared by every process the session starts: page tests, both cold builds, the notebooks.
    if not os.environ.get("LLMATH_RESULTS_CACHE"):
        folder = tempfile.mkdtemp(prefix="llmath-results-")
        os.environ["LLMATH_RESULTS_CACHE"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def _needs(item: pytest.Item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that need the built site last, and of those, the ones that need the browser's
    visits of every page (which run in the background from the end of the build) at the very end;
    the order is stable otherwise."""
    items.sort(key=lambda item: (_needs(item, "site"), _needs(item, "sweeps")))


@pytest.fixture(scope="session", autouse=True)
def _builds_in_background(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Start the session's site builds at the first test, so they overlap the unit tests; and the
    browser's visits of every page, to start when the first build is done."""
    items = request.session.items
    if any(_needs(item, "site") for item in items):
        from tests.book.conftest import start_session_builds

        again = any(item.name.startswith("test_two_cold_builds") for item in items)
        sweep = None
        if any(_needs(item, "sweeps") for item in items):
            from tests.book.test_browser import sweep_book as sweep
        start_session_builds(tmp_path_factory, again=again, sweep=sweep)
