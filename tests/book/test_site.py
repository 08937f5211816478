"""The built book: strict build, every number matches llmath now, math rendered, nothing remote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from examples.show import fmt

import llmath
from tests.book.conftest import ROOT, BuiltSite, build_site
from tests.docs.bookfiles import registered_tables

pytestmark = pytest.mark.site


def _table_values(table: object) -> np.ndarray:
    rows = []
    for tr in table.select("tbody tr"):  # type: ignore[attr-defined]
        rows.append([float(td.get_text(strip=True).replace("−", "-")) for td in tr.find_all("td")])
    return np.array(rows)


def test_build_has_no_warnings(site: BuiltSite) -> None:
    assert not re.search(r"^(WARNING|ERROR)", site.log, flags=re.MULTILINE), site.log
    assert len(site.pages()) >= 10


def test_no_unexecuted_or_failed_blocks(site: BuiltSite) -> None:
    for page in site.pages():
        text = page.read_text(encoding="utf-8")
        assert 'exec="on"' not in text and "exec=&quot;on&quot;" not in text, (
            f"{page}: raw exec block"
        )
        # a doctest may show a traceback on purpose; the API sections are mkdocstrings' div.doc
        soup = BeautifulSoup(text, "html.parser")  # a private copy: site.soup() is shared
        for doc in soup.select("div.doc"):
            doc.decompose()
        assert "Traceback (most recent call last)" not in soup.get_text(), (
            f"{page}: an example raised"
        )
        # an unresolved include leaves its `--8<-- "path"` line; source markers `--8<-- [start:` are fine
        assert not re.search(r'--8(&lt;|<)--\s*(&quot;|")', text), f"{page}: unresolved snippet"


def test_every_table_matches_what_llmath_computes_now(site: BuiltSite) -> None:
    registry = registered_tables()
    seen: set[str] = set()
    for page in site.pages():
        for table in site.soup(page).select("table[data-key]"):
            key = table["data-key"]
            assert key in registry, (
                f"{page}: table {key!r} is not produced by any example's tables()"
            )
            digits = int(table["data-digits"])
            expected = np.atleast_2d(np.asarray(registry[key], dtype=float))
            shown = _table_values(table)
            assert shown.shape == expected.shape, f"{key}: shape {shown.shape} != {expected.shape}"
            # formatted exactly as the page formats it (Python's round: 0.95715 -> 0.9571,
            # where np.round gives 0.9572), so any difference is a real one
            formatted = np.array([[float(fmt(v, digits)) for v in row] for row in expected])
            np.testing.assert_allclose(shown, formatted, rtol=0, atol=1e-12, err_msg=key)
            seen.add(key)
    assert seen == set(registry), f"tables computed but never shown: {sorted(set(registry) - seen)}"


def test_three_token_example_against_torch(site: BuiltSite) -> None:
    """The chapter's numbers, recomputed by torch from the inputs alone (independent of llmath)."""
    q = torch.tensor([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]], dtype=torch.float64)
    k = torch.tensor([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]], dtype=torch.float64)
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    weights = torch.softmax(q @ k.T / 2**0.5, dim=-1)
    causal = torch.softmax(
        (q @ k.T / 2**0.5).masked_fill(~torch.ones(3, 3, dtype=torch.bool).tril(), -torch.inf), -1
    )
    soup = site.soup(site.page("linear-algebra/attention"))
    for key, expected in [
        ("attention/weights", weights),
        ("attention/output", weights @ v),
        ("attention/causal-weights", causal),
        ("attention/causal-output", causal @ v),
    ]:
        shown = _table_values(soup.select_one(f'table[data-key="{key}"]'))
        np.testing.assert_allclose(shown, expected.numpy(), rtol=0, atol=5.1e-5, err_msg=key)
    index = _table_values(
        site.soup(site.page("")).select_one('table[data-key="attention/weights"]')
    )
    np.testing.assert_allclose(index, weights.numpy(), rtol=0, atol=5.1e-5)


def test_all_math_rendered_at_build_time(site: BuiltSite) -> None:
    total = 0
    for page in site.pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")  # mutated below
        for node in soup.select(".arithmatex"):
            assert node.select_one(".katex"), f"{page}: unrendered math {node.get_text()[:80]!r}"
            total += 1
        article = soup.select_one("article") or soup
        for mathml in article.select(".katex-mathml"):  # screen-reader copy keeps the TeX source
            mathml.decompose()
        text = article.get_text()
        for raw in (r"\(", r"\[", "$$", r"\frac", r"\begin{"):
            leftovers = [m.start() for m in re.finditer(re.escape(raw), text)]
            context = [text[max(0, i - 40) : i + 40] for i in leftovers[:3]]
            # code blocks legitimately show TeX in docstrings; count only text outside <pre>/<code>
            assert not leftovers or all(_inside_code(article, c) for c in context), (
                f"{page}: raw TeX {context}"
            )
    assert total > 100


def _inside_code(article: BeautifulSoup, context: str) -> bool:
    snippet = context.strip()[:20]
    return any(snippet in code.get_text() for code in article.select("pre, code"))


def test_no_remote_resources(site: BuiltSite) -> None:
    for page in site.pages():
        soup = site.soup(page)
        for tag, attr in (
            ("script", "src"),
            ("link", "href"),
            ("img", "src"),
            ("iframe", "src"),
            ("source", "src"),
        ):
            for node in soup.find_all(tag):
                url = node.get(attr) or ""
                if tag == "link" and not set(node.get("rel", [])) & {
                    "stylesheet",
                    "preload",
                    "icon",
                    "modulepreload",
                }:
                    continue
                assert not re.match(r"^(https?:)?//", url), f"{page}: remote {tag} {url}"
        for style in soup.find_all("style"):
            assert not re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", style.get_text()), (
                f"{page}: remote @import"
            )


def test_footer_names_version_and_commit(site: BuiltSite) -> None:
    for page in site.pages():
        soup = site.soup(page)
        version = soup.select_one("[data-llmath-version]")
        commit = soup.select_one("[data-llmath-commit]")
        assert version is not None and version.get_text(strip=True) == llmath.__version__, page
        assert commit is not None and re.fullmatch(
            r"[0-9a-f]{7,40}(\+local changes)?|unknown", commit.get_text(strip=True)
        ), page


def test_notebook_executed_and_downloadable(site: BuiltSite) -> None:
    nb_pages = [p for p in site.pages() if "notebooks" in p.parts]
    assert nb_pages, "no notebook page was built"
    for page in nb_pages:
        soup = site.soup(page)
        assert soup.select(".jp-OutputArea-output"), (
            f"{page}: notebook has no outputs (not executed?)"
        )
        links = {a["href"].rsplit(".", 1)[-1]: a for a in soup.select("a.llm-download")}
        assert set(links) == {"ipynb", "py"}, f"{page}: expected .ipynb and .py downloads"
        for link in links.values():
            assert (page.parent / link["href"]).is_file(), f"{page}: download link broken"
            assert link.get_text(strip=True) in {".ipynb", ".py"}, f"{page}: unlabelled button"
        ipynb = json.loads((page.parent / links["ipynb"]["href"]).read_text(encoding="utf-8"))
        code = [c for c in ipynb["cells"] if c["cell_type"] == "code"]
        assert code and all(c["execution_count"] for c in code), f"{page}: .ipynb not executed"
        assert any(c["outputs"] for c in code), f"{page}: .ipynb has no outputs"


def test_api_reference_on_concept_pages(site: BuiltSite) -> None:
    """Every public function is documented on some page (mkdocstrings renders an id per object)."""
    ids = set()
    for page in site.pages():
        ids |= {node["id"] for node in site.soup(page).select("[id^='llmath.']")}
    missing = []
    for name in llmath.__all__:
        obj = getattr(llmath, name)
        if (
            name.startswith("__")
            or not hasattr(obj, "__module__")
            or obj.__module__ == "llmath._checks"
        ):
            continue
        if f"{obj.__module__}.{name}" not in ids:
            missing.append(f"{obj.__module__}.{name}")
    assert not missing, f"public objects with no API entry on any page: {missing}"


# --- the consistency machinery itself: failures must fail the strict build --------------------

MINI_CONFIG = """
site_name: mini
hooks: [{hook}]
plugins:
  markdown-exec: {{}}
markdown_extensions:
  - pymdownx.arithmatex: {{generic: true}}
  - pymdownx.superfences
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('```python exec="on"\nraise ValueError("boom")\n```\n', "boom"),
        ("$$\\frac{1}{$$\n", "KaTeX cannot render"),
        ("$\\softmaxx(z)$\n", "KaTeX cannot render"),
    ],
    ids=["failing-example", "unbalanced-tex", "unknown-macro"],
)
def test_broken_page_fails_the_strict_build(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Mini\n\n" + body, encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(MINI_CONFIG.format(hook=ROOT / "hooks" / "book.py"), encoding="utf-8")
    result = build_site(tmp_path / "site", config)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_every_chapter_fits_the_page_weight_budget(site: BuiltSite) -> None:
    """A first visit may transfer 300 KB with gzip (tools/bench.py measures it in Chromium): the
    theme, KaTeX's CSS and fonts take about 190 KB of that, so a page's own HTML gets 110 KB, and
    no single figure may take more than 100 KB of SVG (a scatter of thousands of points can)."""
    import gzip

    for page in site.pages():
        html = page.read_bytes()
        if "notebooks" not in page.parts:
            size = len(gzip.compress(html, mtime=0))
            assert size <= 110 * 1024, f"{page}: {size / 1024:.0f} KB of HTML after gzip"
        for svg in site.soup(page).select("figure.llm-figure svg"):
            raw = len(str(svg))
            assert raw <= 100 * 1024, f"{page}: a {raw / 1024:.0f} KB figure"
