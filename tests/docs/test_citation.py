"""CITATION.cff is valid CFF 1.2.0, and the BibTeX on the home page is generated from it."""

from __future__ import annotations

import json
import re

import bibtexparser
import jsonschema
import yaml
from examples import citation

import llmath
from tests.docs.bookfiles import ROOT
from tests.docs.test_publishing import book_config

SCHEMA = ROOT / "tests" / "data" / "cff-schema-1.2.0.json"  # from cffconvert 2.0.0 (see README)


def test_citation_cff_is_valid_against_the_cff_1_2_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    cff = citation.load()
    assert cff["cff-version"] == "1.2.0"
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(cff), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_check_catches_a_broken_file() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {**citation.load(), "date-released": "26 November 2026"}
    del broken["authors"]
    messages = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(broken)]
    assert any("authors" in m for m in messages) and any("does not match" in m for m in messages)


def test_citation_names_the_published_book_and_its_repository() -> None:
    cff = citation.load()
    config = book_config()
    assert cff["url"] == config["site_url"]
    assert cff["repository-code"] == config["repo_url"]
    assert str(cff["version"]) == llmath.__version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])


def test_bibtex_parses_and_carries_title_version_and_year() -> None:
    cff = citation.load()
    library = bibtexparser.parse_string(citation.bibtex(cff))
    assert not library.failed_blocks, library.failed_blocks
    assert len(library.entries) == 1
    entry = library.entries[0]
    assert entry.entry_type == "misc"

    def plain(field: str) -> str:  # braces off, a wrapped line joined again
        return " ".join(re.sub(r"[{}]", "", entry[field]).split())

    assert plain("title") == cff["title"]
    assert plain("version") == str(cff["version"])
    assert plain("year") == cff["date-released"][:4]
    assert cff["repository-code"] in entry["note"]
    assert plain("author") == "The llmath authors"


def test_bibtex_names_people_family_name_first() -> None:
    cff = {
        **citation.load(),
        "authors": [
            {"family-names": "Lovelace", "given-names": "Ada"},
            {"name": "R&D Lab"},
        ],
    }
    entry = bibtexparser.parse_string(citation.bibtex(cff)).entries[0]
    assert entry["author"] == r"Lovelace, Ada and {R\&D Lab}"


def test_cite_box_holds_the_plain_citation_and_the_bibtex() -> None:
    box = citation.cite_box()
    assert box.startswith('!!! quote "Cite this book"')
    assert citation.bibtex().splitlines()[1] in box
    assert f"Version {llmath.__version__}" in box
    cff = yaml.safe_load(citation.CFF.read_text(encoding="utf-8"))
    assert cff["title"] in box
