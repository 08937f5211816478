"""The execution cache is invisible in the output, and a build depends only on its inputs.

Three builds of one working tree: the session's cold build (which fills a fresh cache), a warm
build that replays every page and notebook from that cache, and a second cold build with no cache
at all. All three must be byte-identical, file for file: a cached page is exactly the page a cold
build makes, and nothing in a page depends on the clock, a process id or a random cell id.
"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

from tests.book.conftest import BuiltSite, build_site, session_build

pytestmark = pytest.mark.site


# A wall-clock measurement printed on a page (examples.show.measured) may differ between builds.
_MEASURED = re.compile(rb'(<span data-measured="true"[^>]*>).*?(</span>)', re.S)


def _same(a: Path, b: Path) -> bool:
    if filecmp.cmp(a, b, shallow=False):
        return True
    if a.suffix != ".html":
        return False
    blank = (_MEASURED.sub(rb"\1\2", p.read_bytes()) for p in (a, b))
    return next(blank) == next(blank)


def _differences(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    out = [f"only in one build: {p}" for p in sorted(files_a ^ files_b)]
    out += [str(p) for p in sorted(files_a & files_b) if not _same(a / p, b / p)]
    return out


def test_measurements_are_the_only_allowed_difference(tmp_path: Path) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    span = '<p>took <span data-measured="true" data-search-exclude="true">{}</span>.</p>'
    a.write_text(span.format("1.2 s"))
    b.write_text(span.format("3.4 s"))
    assert _same(a, b)
    b.write_text(span.format("3.4 s") + "<p>another number: 5</p>")
    assert not _same(a, b)


def test_warm_build_replays_everything_and_is_identical(
    site: BuiltSite, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dest = tmp_path_factory.mktemp("warm")
    result = build_site(dest, cache=tmp_path_factory.getbasetemp() / "exec-cache")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    stats = re.search(
        r"exec cache: (\d+) pages replayed, (\d+) executed; notebooks executed: (\d+)", log
    )
    assert stats, log[-2000:]
    assert int(stats[1]) >= 15 and stats[2] == "0" and stats[3] == "0", stats[0]
    assert not _differences(site.path, dest), _differences(site.path, dest)[:10]


def test_two_cold_builds_are_identical(
    site: BuiltSite, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dest, result = session_build(tmp_path_factory, "again")  # cache off, started with the session
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "(cache off)" in result.stdout + result.stderr
    assert not _differences(site.path, dest), _differences(site.path, dest)[:10]
