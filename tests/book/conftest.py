"""Build the whole book once per test session, strictly, into a temporary folder."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from chromium import FLAGS, find_chromium  # noqa: E402

__all__ = [
    "FLAGS",
    "ROOT",
    "BuiltSite",
    "build_site",
    "chromium_executable",
    "find_chromium",
    "serve",
    "session_build",
    "session_sweep",
    "start_session_builds",
]


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


class Build:
    """A strict build running in the background; `wait()` returns it as a finished process."""

    def __init__(self, dest: Path, config: Path, cache: Path | None) -> None:
        # A subprocess isolates sys.modules and markdown-exec's globals from the test process.
        # Never add -q: it drops the WARNING records that --strict counts (TOOLCHAIN.md 2.2).
        # The developer's own cache (.cache/llmath-book) is never used: tests build cold.
        env = {
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "LLMATH_BOOK_CACHE": str(cache) if cache is not None else "off",
        }
        self.args = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
        self.args += ["-d", str(dest)]
        self._out = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._err = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._result: subprocess.CompletedProcess[str] | None = None
        self._lock = threading.Lock()  # a background sweep may wait for the build too
        self._proc = subprocess.Popen(
            self.args, cwd=config.parent, env=env, stdout=self._out, stderr=self._err, text=True
        )

    def wait(self, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self._result is None:
                code = self._proc.wait(timeout=timeout)
                logs = []
                for f in (self._out, self._err):
                    f.seek(0)
                    logs.append(f.read())
                    f.close()
                self._result = subprocess.CompletedProcess(self.args, code, *logs)
            return self._result


def build_site(
    dest: Path, config: Path = ROOT / "mkdocs.yml", *, cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Build strictly into `dest`; cold unless `cache` names an execution-cache folder to use."""
    return Build(dest, config, cache).wait()


# The session's builds start at the first test of the session (tests/conftest.py sorts the tests
# that need them last), so they run while the unit tests do: two cores, both busy.
_BUILDS: dict[str, tuple[Path, Build]] = {}


class Sweep:
    """`work(site)` in a thread of its own, started when the cold build has finished.

    The browser tests visit every page three times (about three minutes of Chromium); this way
    the visits overlap the unit tests instead of following them.
    """

    def __init__(self, build: Build, dest: Path, work: Callable[[BuiltSite], Any]) -> None:
        self._result: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                result = build.wait()
                if result.returncode == 0:
                    self._result = work(BuiltSite(dest, result.stdout + result.stderr))
            except BaseException as exc:  # handed to the test that asks for the result
                self._error = exc

        self._thread = threading.Thread(target=run, name="browser-sweep", daemon=True)
        self._thread.start()

    def result(self, timeout: float = 1200) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the browser sweep did not finish in {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result


_SWEEPS: dict[str, Sweep] = {}


def start_session_builds(
    factory: pytest.TempPathFactory,
    *,
    again: bool,
    sweep: Callable[[BuiltSite], Any] | None = None,
) -> None:
    """Start the session's cold build (and, if `again`, a second cold build with no cache); with
    `sweep`, run `sweep(site)` in a thread once the cold build is done (see `session_sweep`)."""
    if "cold" not in _BUILDS:
        dest = factory.mktemp("site")
        # cold (the cache folder is new); it fills that cache for the warm build of test_reproducible
        _BUILDS["cold"] = (
            dest,
            Build(dest, ROOT / "mkdocs.yml", factory.getbasetemp() / "exec-cache"),
        )
    if again and "again" not in _BUILDS:
        dest = factory.mktemp("cold-again")
        _BUILDS["again"] = dest, Build(dest, ROOT / "mkdocs.yml", None)
    if sweep is not None and "sweep" not in _SWEEPS and find_chromium():
        dest, build = _BUILDS["cold"]
        _SWEEPS["sweep"] = Sweep(build, dest, sweep)


def session_build(
    factory: pytest.TempPathFactory, name: str
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The folder and finished process of the session build `name` ("cold" or "again")."""
    start_session_builds(factory, again=name == "again")
    dest, build = _BUILDS[name]
    return dest, build.wait()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    dest, result = session_build(tmp_path_factory, "cold")
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    return BuiltSite(dest, log)


def session_sweep(site: BuiltSite, sweep: Callable[[BuiltSite], Any]) -> Any:
    """What `sweep(site)` returned: in the background thread if one was started, or now."""
    if "sweep" in _SWEEPS:
        return _SWEEPS["sweep"].result()
    return sweep(site)


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


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`folder` on a loopback static server (at the root, as `make serve` serves the site)."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def origin(site: BuiltSite) -> Iterator[str]:
    """The built site on a loopback static server."""
    with serve(site.path) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every browser test; each context gets a fresh profile."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield chromium
        chromium.close()
