"""Formatting for numbers on the page: tables with machine-readable keys, inline SVG figures,
and `check`, the one helper that asserts every comparison a page shows.

Every numeric table is emitted by `matrix`/`table` as `<table data-key=...>`, so tests/book can
find it in the built HTML and compare the printed digits with what llmath computes now.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def fmt(x: float, digits: int = 4) -> str:
    """Format one number with `digits` decimals, printing -0.0000 as 0.0000."""
    value = round(float(x), digits)
    return f"{value + 0.0:.{digits}f}"


def sci(x: float, digits: int = 1) -> str:
    r"""`x` in scientific notation as TeX, for use inside `$...$`: 1.8e-08 -> `1.8 \times 10^{-8}`."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def matrix(
    a: ArrayLike,
    *,
    key: str,
    digits: int = 4,
    rows: Sequence[str] | None = None,
    cols: Sequence[str] | None = None,
    caption: str | None = None,
) -> str:
    """Return an HTML table of a 1-D or 2-D array, tagged `data-key=key` for the site tests."""
    arr = np.atleast_2d(np.asarray(a, dtype=np.float64))
    if arr.ndim != 2:
        raise ValueError(f"matrix() shows 1-D or 2-D arrays; got shape {arr.shape}")
    body = [[fmt(v, digits) for v in row] for row in arr]
    return table(body, key=key, rows=rows, cols=cols, caption=caption, digits=digits)


def table(
    body: Sequence[Sequence[Any]],
    *,
    key: str,
    rows: Sequence[str] | None = None,
    cols: Sequence[str] | None = None,
    caption: str | None = None,
    digits: int | None = None,
) -> str:
    """Return an HTML table whose cells are already formatted strings (or numbers)."""
    # No class on <table>: Material styles only `table:not([class])`, and its JavaScript wraps every
    # table so that it scrolls sideways on a phone instead of widening the page.
    out = [
        f'<table data-key="{html.escape(key)}"'
        + (f' data-digits="{digits}"' if digits is not None else "")
        + ">"
    ]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    if cols is not None:
        head = ([""] if rows is not None else []) + list(cols)
        out.append("<thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead>")
    out.append("<tbody>")
    for i, row in enumerate(body):
        label = f"<th>{rows[i]}</th>" if rows is not None else ""
        cells = "".join(f"<td>{c}</td>" for c in row)
        out.append(f"<tr>{label}{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def side_by_side(*tables: str) -> str:
    """Put small tables next to each other; they wrap onto new lines on a narrow screen."""
    return '<div class="llm-row">' + "".join(tables) + "</div>"


def svg(fig: Any, *, alt: str, caption: str) -> str:
    """Return a matplotlib figure as inline SVG with a caption, following the light/dark theme.

    Black in the figure (axes, ticks, text) becomes `currentColor`, so it takes the page's text
    colour; the background is transparent. Data colours are left alone and should be chosen to
    read on both backgrounds. `alt` describes the picture for a screen reader; `caption` is the
    visible caption (HTML allowed, `$...$` maths is not rendered here); the build numbers it
    "Figure N". The SVG carries no date, so two builds of one commit are byte-identical.
    """
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", transparent=True, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE
    text = text.replace("#000000", "currentColor").replace("stroke: black", "stroke: currentColor")
    text = text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    if not caption.strip():
        raise ValueError(f"figure {alt!r} needs a caption: every figure is numbered and captioned")
    return f'<figure class="llm-figure">{text}<figcaption>{caption}</figcaption></figure>'


def measured(text: str) -> str:
    """Mark a wall-clock measurement (a timing, a throughput) printed on a page.

    It is the only output allowed to differ between two builds of the same tree: the
    reproducibility test (tests/book/test_reproducible.py) blanks these spans before comparing,
    and the search index leaves them out.
    """
    return f'<span data-measured="true" data-search-exclude="true">{html.escape(text)}</span>'


def pre(text: str) -> str:
    """Return `text` (an array, a list of values) as a monospace block that keeps its rows."""
    return f'<pre class="llm-output"><code>{html.escape(text)}</code></pre>'


def check(
    label: str,
    actual: ArrayLike,
    expected: ArrayLike,
    *,
    tol: float,
    rtol: float = 0.0,
) -> str:
    """Assert that `actual` matches `expected` and return the sentence a page prints about it.

    The largest absolute difference must be at most `tol + rtol * max|expected|`; otherwise
    `AssertionError` stops the build (markdown-exec turns it into a warning, which fails
    `mkdocs build --strict`). Every comparison a page shows (llmath against PyTorch, a closed form,
    finite differences, a row sum against 1) goes through here, so the number printed is the
    number checked. Returns e.g. `"max |llmath − torch| = 2.2e-16 (tolerance 1e-12)"`.
    """
    a = np.asarray(actual, dtype=np.complex128 if np.iscomplexobj(actual) else np.float64)
    b = np.asarray(expected, dtype=np.complex128 if np.iscomplexobj(expected) else np.float64)
    if not (np.isfinite(tol) and tol >= 0 and np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"check({label!r}): tol and rtol must be finite and >= 0")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise AssertionError(f"{label}: shapes {a.shape} and {b.shape} differ") from None
    if a.size == 0:
        raise AssertionError(f"{label}: nothing to compare")
    diff = float(np.max(np.abs(a - b)))
    bound = tol + rtol * float(np.max(np.abs(b)))
    if not diff <= bound:  # also catches NaN
        raise AssertionError(f"{label}: {diff:.2g} exceeds the tolerance {bound:.0e}")
    return f"{label} = {diff:.1e} (tolerance {bound:.0e})"


def new_figure(
    width: float = 6.0, height: float = 3.2, nrows: int = 1, ncols: int = 1, **subplot_kw: Any
) -> tuple[Any, Any]:
    """Return `(fig, ax)` with the book's figure style (SVG text kept as text, no hashes).

    With `nrows` or `ncols` above 1, `ax` is the array of panels; `subplot_kw` (`sharex`,
    `sharey`, ...) goes to `plt.subplots`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "llmath",
            "font.family": "sans-serif",
            # sized for the column: a 6-inch figure is drawn at about 60 % on a 390 px phone
            "font.size": 12,
            "axes.titlesize": 12,
            "axes.labelsize": 12,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "legend.fontsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt.subplots(nrows, ncols, figsize=(width, height), **subplot_kw)


# Colours that read on white and on Material's slate background.
BLUE, ORANGE, GREEN, RED, PURPLE = "#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#a855f7"
