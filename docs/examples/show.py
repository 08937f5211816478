"""Formatting for numbers on the page: tables with machine-readable keys, inline SVG figures.

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


def svg(fig: Any, *, alt: str) -> str:
    """Return a matplotlib figure as inline SVG that follows the light/dark theme.

    Black in the figure (axes, ticks, text) becomes `currentColor`, so it takes the page's text
    colour; the background is transparent. Data colours are left alone and should be chosen to
    read on both backgrounds.
    """
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", transparent=True, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE
    text = text.replace("#000000", "currentColor").replace("stroke: black", "stroke: currentColor")
    text = text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    return f'<figure class="llm-figure">{text}</figure>'


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
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt.subplots(nrows, ncols, figsize=(width, height), **subplot_kw)


# Colours that read on white and on Material's slate background.
BLUE, ORANGE, GREEN, RED, PURPLE = "#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#a855f7"
