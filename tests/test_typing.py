"""Code reusers' view of the types: `tests/reuse/typed_usage.py` passes `mypy --strict`."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

USAGE = Path(__file__).parent / "reuse" / "typed_usage.py"


def test_usage_runs() -> None:
    runpy.run_path(str(USAGE))  # the annotated values are what the calls really return


def test_usage_passes_mypy_strict() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(USAGE)],
        capture_output=True,
        text=True,
        cwd=USAGE.parents[2],
    )
    assert out.returncode == 0, out.stdout + out.stderr
