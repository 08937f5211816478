"""Open every page of the built book in headless Chromium, on loopback only.

Checks what only a real browser shows: every equation rendered with the site's own KaTeX fonts,
no request leaving the site, no JavaScript error, no raw TeX left as text, no page wider than a
phone screen, wide equations that scroll with a visible cue and keyboard access, code that fits
the desktop column, right-aligned tabular numbers, figures following the dark theme, and no
serious or critical axe-core (WCAG 2 A/AA) violation.

One browser and one page visit every page on a phone and on a desktop, and the pages with figures
(plus six others, for contrast) in dark mode; each visit records what it measured, and the tests
below assert on those records. The visits run in a thread of their own, started as soon as the
session's cold build is done, so that they overlap the unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.book.conftest import (
    FLAGS,
    BuiltSite,
    chromium_executable,
    find_chromium,
    serve,
    session_sweep,
)

pytestmark = [pytest.mark.site, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CODE_COLUMNS = 88  # a code line this long must fit the desktop column without scrolling

# axe-core, WCAG 2 A and AA. KaTeX's HTML copy of each formula is aria-hidden and drawn in the
# text colour (assistive technology reads its MathML copy); leaving it out halves axe's time.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]},
    "resultTypes": ["violations"],
}
AXE_CONTEXT = {"exclude": [[".katex-html"]]}
# The phone and dark visits re-run only the rules a narrow screen or a dark palette can change.
AXE_PHONE = {**AXE_OPTIONS, "runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]}}
AXE_DARK = {
    **AXE_OPTIONS,
    "runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]},
}
# axe builds its model of the whole page (KaTeX makes that large) for any rule, so the dark
# palette is checked on the six kinds of page the issue measured rather than on all of them.
DARK_AXE_PAGES = (
    "",
    "linear-algebra/attention/",
    "calculus/layer-norm/",
    "probability/sampling/",
    "notebooks/linear-algebra/part1_walkthrough/",
    "api/",
)
BLOCKING = ("serious", "critical")


@dataclass
class Tab:
    """One page object for the whole module, with everything it requested or logged."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _urls(site: BuiltSite) -> list[str]:
    urls = []
    for page in site.pages():
        rel = page.parent.relative_to(site.path)
        urls.append("" if rel == Path(".") else f"{rel.as_posix()}/")
    return urls


def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe  # bundles axe-core's axe.min.js

    return str(Axe().axe_script)


# Waits for fonts (book.js re-measures once they are in), then one frame for its pass.
SETTLE_JS = """async () => {
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""

PHONE_JS = """() => {
  const all = [...document.querySelectorAll('article .arithmatex')];
  const rendered = all.filter(n => n.querySelector('.katex-html'));
  // display equations wider than their box: each must scroll, show scroll shadows (background
  // gradients attached to the scrolled content) and be reachable by keyboard, with a label
  const wide = [], bare = [];
  for (const box of document.querySelectorAll('article div.arithmatex')) {
    if (!box.querySelector('.katex-display') || box.scrollWidth <= box.clientWidth + 1) continue;
    wide.push(box);
    const s = getComputedStyle(box);
    const ok = /auto|scroll/.test(s.overflowX) && /gradient/.test(s.backgroundImage)
      && /local/.test(s.backgroundAttachment) && box.getAttribute('tabindex') === '0'
      && (box.getAttribute('aria-label') || '').length > 0;
    if (!ok) bare.push((box.querySelector('annotation') || box).textContent.trim().slice(0, 70));
  }
  // raw TeX left as visible text, anywhere on the page (API sections and navigation included)
  const skip = 'code, pre, script, style, noscript, textarea, svg, .katex';
  // $$, \\(, \\[, or $…$ opening on a non-space (`$W_{xh} = $`) and not a price (`$5 and $6`)
  const tex = /\\$\\$|\\\\\\(|\\\\\\[|\\$[^\\s$][^$]*?\\$(?!\\d)/;
  const leaks = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const m = n.textContent.match(tex);
    if (m) leaks.push(n.textContent.slice(Math.max(0, m.index - 30), m.index + 40).trim());
  }
  return {all: all.length, rendered: rendered.length,
          errors: document.querySelectorAll('.katex-error').length,
          fontsLoaded: [...document.fonts].filter(f => f.family.includes('KaTeX') && f.status === 'loaded').length,
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          wide: wide.length, bare, leaks};
}"""

DESKTOP_JS = """(columns) => {
  const visible = el => el.getClientRects().length > 0 && el.clientWidth > 0;
  // code blocks whose longest line fits the column must not scroll, and the copy button sits in
  // the block's right padding, clear of the first line
  const scrolls = [], covered = [];
  let buttons = 0;
  for (const code of document.querySelectorAll('article pre > code')) {
    if (!visible(code)) continue;
    const longest = Math.max(...code.textContent.split('\\n').map(l => l.length));
    if (longest <= columns && code.scrollWidth > code.clientWidth + 1)
      scrolls.push(`${longest} chars: ${code.textContent.trim().split('\\n')[0].slice(0, 50)}`);
    const button = code.parentElement.querySelector(
      ':scope > .md-code__nav .md-code__button, :scope > .md-clipboard');
    if (button && visible(button)) {
      buttons += 1;
      const box = code.getBoundingClientRect();
      const textEnd = box.right - parseFloat(getComputedStyle(code).paddingRight);
      if (button.getBoundingClientRect().left < textEnd - 1)
        covered.push(code.textContent.trim().split('\\n')[0].slice(0, 50));
    }
  }
  const cells = [...document.querySelectorAll('article table[data-key] td')].map(td => {
    const s = getComputedStyle(td);
    return [s.textAlign, s.fontVariantNumeric];
  });
  const outputs = [...document.querySelectorAll('article pre.llm-output > code')].map(c => {
    const s = getComputedStyle(c);
    return [s.whiteSpace, s.fontFamily, s.overflowX];
  });
  const captions = sel => [...document.querySelectorAll(sel)].map(n => [
    n.closest('[id]') ? n.closest('[id]').id : '', (n.querySelector('.llm-label') || {}).textContent || '']);
  return {scrolls, covered, buttons, cells, outputs,
          figures: captions('article .llm-figure > figcaption'),
          tables: captions('article table[data-key] > caption')};
}"""

DARK_JS = """() => {
  const body = getComputedStyle(document.querySelector('.md-typeset')).color;
  return [...document.querySelectorAll('.llm-figure svg text')].slice(0, 5)
    .map(t => [getComputedStyle(t).fill, body]);
}"""


def _open(tab: Tab, origin: str, url: str) -> None:
    tab.page.goto(f"{origin}/{url}", wait_until="load")
    tab.page.evaluate(SETTLE_JS)


def _axe(tab: Tab, url: str, axe: str, context: dict, options: dict) -> list[str]:
    """Run axe-core on the open page and return its serious/critical findings."""
    tab.page.evaluate(axe)
    result = tab.page.evaluate("([c, o]) => axe.run(c, o)", [context, options])
    return [
        f"/{url}: {v['id']} ({v['impact']}) x{len(v['nodes'])}: {v['nodes'][0]['html'][:120]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@dataclass
class Run:
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    axe: list[str] = field(default_factory=list)


def _sweep(
    site: BuiltSite, origin: str, tab: Tab, viewport: Any, axe_options: Any, script: str, arg: Any
) -> Run:
    """Every page in light mode at one viewport: axe's findings and `script(arg)`'s result."""
    run, axe = Run(), _axe_script()
    tab.page.set_viewport_size(viewport)
    tab.page.emulate_media(color_scheme="light")
    for url in _urls(site):
        _open(tab, origin, url)
        run.axe += _axe(tab, url, axe, AXE_CONTEXT, axe_options)
        run.pages[url] = tab.page.evaluate(script, arg)
    return run


def _dark(site: BuiltSite, origin: str, tab: Tab) -> Run:
    run, axe = Run(), _axe_script()
    tab.page.set_viewport_size(DESKTOP)
    tab.page.emulate_media(color_scheme="dark")
    for url in _urls(site):
        has_figure = "llm-figure" in (site.path / url / "index.html").read_text(encoding="utf-8")
        if not (has_figure or url in DARK_AXE_PAGES):
            continue
        _open(tab, origin, url)
        if url in DARK_AXE_PAGES:
            run.axe += _axe(tab, url, axe, AXE_CONTEXT, AXE_DARK)
        run.pages[url] = {"figure_text": tab.page.evaluate(DARK_JS)}
    tab.page.emulate_media(color_scheme="light")
    return run


@dataclass
class Sweeps:
    """The three visits of every page, and everything the page requested or logged meanwhile."""

    origin: str
    requests: list[str]
    errors: list[str]
    phone: Run
    desktop: Run
    dark: Run


def sweep_book(site: BuiltSite) -> Sweeps:
    """Visit every page on a phone, on a desktop, and (pages with figures) in dark mode.

    It starts its own server and browser, so that it can run in a thread of its own while the
    unit tests run (tests/book/conftest.py starts it when the cold build is done).
    """
    from playwright.sync_api import sync_playwright

    with serve(site.path) as origin, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=FLAGS, headless=True)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            tab = Tab(page)
            page.on("request", lambda r: tab.requests.append(r.url))
            page.on("pageerror", lambda e: tab.errors.append(str(e)))
            page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
            phone = _sweep(site, origin, tab, PHONE, AXE_PHONE, PHONE_JS, None)
            desktop = _sweep(site, origin, tab, DESKTOP, AXE_OPTIONS, DESKTOP_JS, CODE_COLUMNS)
            dark = _dark(site, origin, tab)
        finally:
            browser.close()
    return Sweeps(origin, tab.requests, tab.errors, phone, desktop, dark)


@pytest.fixture(scope="module")
def sweeps(site: BuiltSite) -> Sweeps:
    chromium_executable()  # a skip without Chromium, a failure in CI
    result: Sweeps = session_sweep(site, sweep_book)
    return result


@pytest.fixture(scope="module")
def phone(sweeps: Sweeps) -> Run:
    return sweeps.phone


@pytest.fixture(scope="module")
def desktop(sweeps: Sweeps) -> Run:
    return sweeps.desktop


@pytest.fixture(scope="module")
def dark(sweeps: Sweeps) -> Run:
    return sweeps.dark


def test_every_page_renders_offline(phone: Run, sweeps: Sweeps) -> None:
    total_math = 0
    for url, m in phone.pages.items():
        assert m["rendered"] == m["all"], (
            f"/{url}: {m['all'] - m['rendered']} equations not rendered"
        )
        assert m["errors"] == 0, f"/{url}: KaTeX error nodes"
        if m["all"]:
            assert m["fontsLoaded"] > 0, f"/{url}: KaTeX fonts did not load"
        assert m["overflow"] <= 1, (
            f"/{url}: page is {m['overflow']}px wider than a 390px phone screen"
        )
        total_math += m["all"]
    assert total_math > 100
    remote = [u for u in sweeps.requests if not u.startswith((sweeps.origin, "data:", "blob:"))]
    assert not remote, f"requests left the site: {remote[:5]}"
    assert not sweeps.errors, f"JavaScript errors: {sweeps.errors[:5]}"


def test_wide_equations_scroll_with_a_visible_cue(phone: Run) -> None:
    bare = [f"/{url}: {tex}" for url, m in phone.pages.items() for tex in m["bare"]]
    assert not bare, (
        f"{len(bare)} display equations overflow a phone with no scroll cue:\n"
        + "\n".join(bare[:10])
    )


def test_no_raw_tex_left_as_text(phone: Run) -> None:
    leaks = [f"/{url}: …{text}…" for url, m in phone.pages.items() for text in m["leaks"]]
    assert not leaks, f"{len(leaks)} raw TeX fragments shown as text:\n" + "\n".join(leaks[:10])


def test_code_fits_the_desktop_column(desktop: Run) -> None:
    scrolls = [f"/{url}: {c}" for url, m in desktop.pages.items() for c in m["scrolls"]]
    assert not scrolls, f"code of ≤ {CODE_COLUMNS} columns scrolls at 1280 px:\n" + "\n".join(
        scrolls[:10]
    )
    covered = [f"/{url}: {c}" for url, m in desktop.pages.items() for c in m["covered"]]
    assert not covered, "the copy button covers the first line:\n" + "\n".join(covered[:10])
    assert sum(m["buttons"] for m in desktop.pages.values()) > 50, "copy buttons not found"


def test_numbers_are_right_aligned_tabular_and_arrays_monospace(desktop: Run) -> None:
    cells = 0
    for url, m in desktop.pages.items():
        for align, numeric in m["cells"]:
            assert align == "right" and "tabular-nums" in numeric, (
                f"/{url}: numeric cell is text-align {align}, font-variant-numeric {numeric}"
            )
            cells += 1
        for white_space, family, overflow in m["outputs"]:
            assert white_space == "pre" and "monospace" in family and overflow == "auto", (
                f"/{url}: printed array shown as {white_space} / {family} / overflow {overflow}"
            )
    assert cells > 100


def test_figures_and_tables_are_numbered(desktop: Run) -> None:
    figures = 0
    for url, m in desktop.pages.items():
        for kind, found in (("Figure", m["figures"]), ("Table", m["tables"])):
            expected = [(f"{kind.lower()}-{i}", f"{kind} {i}.") for i in range(1, len(found) + 1)]
            assert [tuple(f) for f in found] == expected, f"/{url}: {kind.lower()} labels {found}"
        figures += len(m["figures"])
    assert figures >= 3


def test_figures_follow_the_dark_theme(dark: Run) -> None:
    pages = 0
    for url, m in dark.pages.items():
        for fill, body in m["figure_text"]:
            assert fill == body, (
                f"/{url}: figure text {fill} does not follow the theme colour {body}"
            )
        pages += bool(m["figure_text"])
    assert pages >= 3


def test_no_serious_accessibility_violations(phone: Run, desktop: Run, dark: Run) -> None:
    """axe-core WCAG 2 A/AA on every page: all rules on the desktop, and again the rules that a
    phone (scrollable regions) or the dark palette (contrast) can change; dark on six pages."""
    found = [f"phone {v}" for v in phone.axe] + [f"desktop {v}" for v in desktop.axe]
    found += [f"dark {v}" for v in dark.axe]
    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found[:15])
