"""Build the whole book once per test session, strictly, into a temporary folder."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from chromium import FLAGS, find_chromium  # noqa: E402

__all__ = ["FLAGS", "ROOT", "BuiltSite", "build_site", "chromium_executable"]


@dataclass(frozen=True)
class BuiltSite:
    path: Path
    log: str
    _soups: dict[Path, BeautifulSoup] = field(default_factory=dict, repr=False)

    def soup(self, page: Path) -> BeautifulSoup:
        """The parsed page, parsed once per session: treat it as read-only."""
        if page not in self._soups:
            self._soups[page] = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        return self._soups[page]

    def pages(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("index.html") if "assets" not in p.parts)

    def page(self, url: str) -> Path:
        return self.path / url / "index.html"


def build_site(
    dest: Path, config: Path = ROOT / "mkdocs.yml", *, cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Build strictly into `dest`; cold unless `cache` names an execution-cache folder to use."""
    # A subprocess isolates sys.modules and markdown-exec's globals from the test process.
    # Never add -q: it drops the WARNING records that --strict counts (TOOLCHAIN.md 2.2).
    # The developer's own cache (.cache/llmath-book) is never used: tests build cold.
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "LLMATH_BOOK_CACHE": str(cache) if cache is not None else "off",
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(dest)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    dest = tmp_path_factory.mktemp("site")
    # cold (the cache folder is new), and it fills that cache for the warm build of test_reproducible
    result = build_site(dest, cache=tmp_path_factory.getbasetemp() / "exec-cache")
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    return BuiltSite(dest, log)


def chromium_executable() -> str:
    """The Chromium the browser tests drive; required in CI, a skip elsewhere."""
    executable = find_chromium()
    if executable:
        return executable
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: `apt-get install chromium` (make test does it)")
    pytest.skip("no Chromium found: install Debian's chromium or set LLMATH_CHROMIUM")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def origin(site: BuiltSite) -> Iterator[str]:
    """The built site on a loopback static server (at the root, as `make serve` serves it)."""
    handler = functools.partial(_Quiet, directory=str(site.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every browser test; each context gets a fresh profile."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield chromium
        chromium.close()
