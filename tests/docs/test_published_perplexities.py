"""Published perplexities live in one place (docs/examples/probability/published.py).

The bibliography and the Part 3 reading list name them in prose; this guard keeps those
sentences equal to the numbers the perplexity page prints, and every entry complete.
"""

from __future__ import annotations

import re

import pytest
from examples.probability import published

from tests.docs.bookfiles import DOCS

ENTRIES = list(published.PERPLEXITIES.items())


@pytest.mark.parametrize(("key", "entry"), ENTRIES, ids=[k for k, _ in ENTRIES])
def test_entry_names_model_dataset_tokenisation_and_table(key: str, entry: dict) -> None:
    assert set(entry) == {"model", "dataset", "value", "setting", "tokenisation", "source"}, key
    assert entry["value"] > 1
    assert re.search(r"\((19|20)\d\d\)", entry["source"]), f"{key}: no year in the source"
    assert re.search(r"Table \d", entry["source"]), f"{key}: no table named in the source"
    assert "BPE" in entry["tokenisation"], f"{key}: the tokeniser is not named"


def _part3(text: str) -> str:
    return text.split("## Part 3")[1].split("\n## ")[0]


@pytest.mark.parametrize(
    "page", ["bibliography.md", "probability/index.md"], ids=["bibliography", "further-reading"]
)
def test_reading_lists_quote_the_same_numbers(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    section = _part3(text) if page == "bibliography.md" else text.split("## Further reading")[1]
    for key, entry in ENTRIES:
        assert f"{entry['value']:.2f}" in section, f"{page}: {key} = {entry['value']:.2f} missing"
    quoted = {float(x) for x in re.findall(r"perplexity (\d+\.\d\d)", section)}
    quoted |= {float(x) for x in re.findall(r"(\d+\.\d\d) on (?:WikiText|the Penn)", section)}
    assert quoted <= {e["value"] for _, e in ENTRIES}, f"{page}: a number not in published.py"
