"""Measure the book's build: cold, warm, and the `make serve` edit loop; page weight in Chromium.

    make bench            # or: .venv/bin/python tools/bench.py [--skip-browser]

Runs on a private copy of the working tree (nothing you are editing is touched) with a private
cache, so the numbers are those of a fresh clone: a cold strict build, a warm one (everything
replayed from the cache), and under `mkdocs serve --dirty` the time from saving an edit until the
server has the new page, for a one-word prose edit and for a one-line change to a function in
src/ (every page using it must show the new numbers). Then it serves the built site and loads
every page in headless Chromium, summing the bytes transferred with gzip (as a static host
serves them), for a first visit and for a second chapter after it.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from chromium import FLAGS, find_chromium  # noqa: E402

PROSE_PAGE = ("docs/calculus/softmax-cross-entropy.md", "calculus/softmax-cross-entropy/")
SRC_FILE = "src/llmath/calculus/layernorm.py"
SRC_PAGE = "calculus/layer-norm/"


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        src = ROOT / name
        if src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dest / name)
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _env(tree: Path, cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),  # the copy's llmath, not the editable install's
        "LLMATH_BOOK_CACHE": str(cache),
        "LLMATH_SITE_URL": "http://127.0.0.1:8000/",  # serve at the root, as `make serve` does
        "NO_MKDOCS_2_WARNING": "1",
    }


def _build(tree: Path, env: dict[str, str], dest: Path) -> float:
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(dest)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if result.returncode:
        sys.exit(f"build failed:\n{result.stderr[-3000:]}")
    return elapsed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wait_for(url: str, needle: str, limit: float = 180) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if needle in _get(url):
            return time.perf_counter() - t0
        time.sleep(0.1)
    raise TimeoutError(f"{url} never showed {needle!r}")


def log_text(tree: Path) -> str:
    return (tree / "serve.log").read_text(encoding="utf-8", errors="replace")


def serve_loop(tree: Path, env: dict[str, str]) -> dict[str, float]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    log = open(tree / "serve.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-a", f"127.0.0.1:{port}"],
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(base + PROSE_PAGE[1], "</html>", limit=600)
        time.sleep(2)
        page = tree / PROSE_PAGE[0]
        text = page.read_text(encoding="utf-8")
        first = re.search(r"^[A-Z][a-z]+ ", text, flags=re.MULTILINE)
        assert first is not None
        marker = "Benchmarkingly"
        page.write_text(text.replace(first[0], f"{marker} {first[0]}", 1), encoding="utf-8")
        prose = _wait_for(base + PROSE_PAGE[1], marker)
        time.sleep(2)
        # A change to a module's source (a comment is enough: the cache keys on the source):
        # every page whose code reaches it must be executed again before the server reloads.
        src = tree / SRC_FILE
        reloads = log_text(tree).count("Reloading browsers")
        src.write_text(src.read_text(encoding="utf-8") + "# bench\n", encoding="utf-8")
        t0 = time.perf_counter()
        while log_text(tree).count("Reloading browsers") <= reloads:
            if time.perf_counter() - t0 > 300:
                raise TimeoutError("the server never reloaded after the src edit")
            time.sleep(0.1)
        src_edit = time.perf_counter() - t0
        stats = re.findall(r"exec cache: (\d+) pages replayed, (\d+) executed", log_text(tree))
        rerun = int(stats[-1][1]) if stats else -1
        return {
            "serve: prose edit visible (s)": prose,
            "serve: src edit rebuilt (s)": src_edit,
            f"serve: pages re-executed after editing {SRC_FILE}": rerun,  # type: ignore[dict-item]
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


class _Counter:
    """Sums CDP `Network.loadingFinished` sizes: bytes on the wire, after gzip."""

    def __init__(self) -> None:
        self.bytes = 0

    def add(self, event: dict[str, object]) -> None:
        self.bytes += int(event["encodedDataLength"])  # type: ignore[call-overload]


SECOND = "calculus/layer-norm/"


def _transferred(pw: object, chromium: str, urls: list[str]) -> int:
    """Bytes on the wire (after gzip) for the last of `urls`, visited in order in a new profile."""
    with tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(  # type: ignore[attr-defined]
            profile, executable_path=chromium, headless=True, args=FLAGS
        )
        page = browser.new_page()
        for url in urls[:-1]:
            page.goto(url, wait_until="networkidle")
            page.wait_for_timeout(500)
        cdp = browser.new_cdp_session(page)
        cdp.send("Network.enable")
        total = _Counter()
        cdp.on("Network.loadingFinished", total.add)
        page.goto(urls[-1], wait_until="networkidle")
        page.wait_for_timeout(500)
        browser.close()
        return total.bytes


def page_weights(site: Path) -> dict[str, float]:
    """Bytes a browser transfers (gzip, as a static host serves) for first and later visits."""
    from playwright.sync_api import sync_playwright

    class Gzip(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send_head(self):  # type: ignore[no-untyped-def]
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                return super().send_head()
            body = gzip.compress(path.read_bytes(), mtime=0)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=600")  # what GitHub Pages sends
            self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
            self.end_headers()
            import io

            return io.BytesIO(body)

    port = _free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(Gzip, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    pages = sorted(
        str(p.parent.relative_to(site)) + "/"
        for p in site.rglob("index.html")
        if "assets" not in p.parts and p.parent != site and "search" not in p.parts
    )
    out: dict[str, float] = {}
    chromium = find_chromium() or "chromium"
    base = f"http://127.0.0.1:{port}/"
    first: list[tuple[str, int]] = []
    with sync_playwright() as pw:
        for url in pages:  # every page as a first visit: a fresh profile, nothing cached
            first.append((url, _transferred(pw, chromium, [base + url])))
        # a second chapter after a first: theme, fonts and search index come from the HTTP cache
        second = _transferred(pw, chromium, [base + "linear-algebra/attention/", base + SECOND])
    httpd.shutdown()
    httpd.shutdown()
    chapters = [(u, b) for u, b in first if not u.startswith(("notebooks/", "api"))]
    heaviest = max(chapters, key=lambda x: x[1])
    out["first visit, heaviest chapter (KB)"] = heaviest[1] / 1024
    out["first visit, median chapter (KB)"] = (
        sorted(b for _, b in chapters)[len(chapters) // 2] / 1024
    )
    out["second chapter after a first (KB)"] = second / 1024
    out["heaviest chapter"] = heaviest[0]  # type: ignore[assignment]
    index = site / "search" / "search_index.json"
    out["search index (KB raw / gzip)"] = (
        f"{index.stat().st_size / 1024:.0f} / {len(gzip.compress(index.read_bytes())) / 1024:.0f}"  # type: ignore[assignment]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--site", type=Path, help="only measure page weight of this built site")
    args = parser.parse_args()
    results: dict[str, object] = {}
    if args.site:
        _report(page_weights(args.site.resolve()))
        return
    with tempfile.TemporaryDirectory(prefix="llmath-bench-") as tmp:
        tree, cache = Path(tmp) / "tree", Path(tmp) / "cache"
        _copy_tree(tree)
        env = _env(tree, cache)
        results["cold strict build (s)"] = _build(tree, env, Path(tmp) / "site-cold")
        results["warm strict build, nothing changed (s)"] = _build(tree, env, Path(tmp) / "site")
        if not args.skip_serve:
            results.update(serve_loop(tree, env))
        if not args.skip_browser:
            results.update(page_weights(Path(tmp) / "site"))
    _report(results)


def _report(results: dict[str, object]) -> None:
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")


if __name__ == "__main__":
    main()
