"""Publishing, checked from the sources: site config from one place, errata form, notebooks, release.

The built site is checked in tests/book/test_publishing.py; these run without building it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

import llmath
from tests.docs.bookfiles import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.py"))
ERRATA_FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "errata.yml"
ERRATA_LINK = ROOT / "overrides" / "partials" / "feedback.html"


class _DefaultsLoader(yaml.SafeLoader):
    """mkdocs.yml with every `!ENV [NAME, ..., default]` read as its default."""


def _env_default(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)[-1]
    return None


_DefaultsLoader.add_constructor("!ENV", _env_default)
_DefaultsLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def book_config() -> dict[str, Any]:
    """mkdocs.yml as a local build reads it with none of the LLMATH_* variables set."""
    data = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_DefaultsLoader)
    assert isinstance(data, dict)
    return data


def first_code_cell(path: Path) -> str:
    """The first `# %%` code cell of a jupytext percent notebook."""
    cells = re.split(r"^# %%(.*)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    for header, body in zip(cells[1::2], cells[2::2], strict=True):
        if "[markdown]" not in header:
            return body
    raise AssertionError(f"{path.name}: no code cell")


def test_site_url_repo_url_and_edit_uri_come_from_the_environment() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for key, var in [
        ("site_url", "LLMATH_SITE_URL"),
        ("repo_url", "LLMATH_REPO_URL"),
        ("edit_uri", "LLMATH_EDIT_URI"),
    ]:
        assert re.search(rf"^{key}: !ENV \[{var}, \"[^\"]+\"\]$", text, re.MULTILINE), key
    config = book_config()
    # the defaults are the published book's: a local build makes the same canonical links
    assert re.fullmatch(r"https://[^/]+/(?:[^/]+/)*", config["site_url"]), config["site_url"]
    assert re.fullmatch(r"https://github\.com/[^/]+/[^/]+", config["repo_url"]), config["repo_url"]
    assert config["edit_uri"] == "edit/main/docs/"
    assert "content.action.edit" in config["theme"]["features"]


def test_pages_workflow_sets_them_and_publishes_the_pdf() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    build = next(s for s in steps if "make pdf" in s.get("run", ""))
    assert set(build["env"]) == {"LLMATH_SITE_URL", "LLMATH_REPO_URL", "LLMATH_EDIT_URI"}
    assert "github.repository" in build["env"]["LLMATH_REPO_URL"]
    assert "steps.pages.outputs.base_url" in build["env"]["LLMATH_SITE_URL"]
    assert workflow["jobs"]["build"]["env"]["LLMATH_CHROMIUM"]
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site"  # the PDF is written into site/, so it is deployed
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^## make pdf: ", makefile, re.MULTILINE)
    assert re.search(r"^pdf: .*\n\t.*tools/pdf\.py .*site/llmath\.pdf", makefile, re.MULTILINE)


def _errata_fields() -> dict[str, dict[str, Any]]:
    form = yaml.safe_load(ERRATA_FORM.read_text(encoding="utf-8"))
    return {f["id"]: f for f in form["body"] if "id" in f}


def test_errata_form_has_the_fields_readers_fill_in() -> None:
    fields = _errata_fields()
    assert list(fields) == ["page", "section", "wrong", "correction", "version"]
    assert {k for k, f in fields.items() if f.get("validations", {}).get("required")} == {
        "page",
        "wrong",
        "version",
    }
    assert fields["wrong"]["type"] == fields["correction"]["type"] == "textarea"


def test_errata_link_prefills_the_form_by_its_field_ids() -> None:
    template = ERRATA_LINK.read_text(encoding="utf-8")
    href = re.search(r'href="(\{\{ config\.repo_url[^"]+)"', template)
    assert href, "no errata link in the partial"
    query = urlsplit(href[1].replace("&amp;", "&")).query
    params = {k for k, _ in parse_qsl(query)}
    assert {"template", "title", "page", "version"} <= params
    assert params - {"template", "title"} <= set(_errata_fields())
    assert "template=errata.yml" in query
    # errata.js adds the section and the selected text when clicked, under the form's own ids
    script = (ROOT / "docs" / "assets" / "errata.js").read_text(encoding="utf-8")
    added = set(re.findall(r'searchParams\.set\("(\w+)"', script))
    assert added == {"section", "wrong"}
    assert added <= set(_errata_fields())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_installs_llmath_from_the_repository(path: Path) -> None:
    cell = first_code_cell(path)
    urls = re.findall(r"llmath(?:\[[\w,]+\])? @ git\+(\S+?)[\"']", cell)  # extras allowed
    assert urls == [book_config()["repo_url"]], f"{path.name}: {urls}"
    assert "%pip" not in cell and "!pip" not in cell  # the file also runs as a script
    tree = ast.parse(cell)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert {"subprocess", "sys"} <= names
    assert "sys.executable" in cell and "find_spec" in cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_install_cell_does_nothing_where_llmath_is_importable(path: Path) -> None:
    # the build and the tests have llmath and no network: the cell must not call pip there
    probe = (
        "import subprocess\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('the install cell ran pip although llmath is importable')\n"
        "subprocess.run = subprocess.check_call = subprocess.call = refuse\n"
        f"exec(compile({first_code_cell(path)!r}, 'first cell', 'exec'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_readme_says_how_to_open_a_notebook_elsewhere() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Colab" in readme and "Jupyter" in readme and ".ipynb" in readme


def test_one_version_for_package_citation_and_errata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert project["version"] == llmath.__version__ == str(cff["version"])
    errata = (ROOT / "docs" / "errata.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## (\d+\.\d+\.\d+)", errata, re.MULTILINE)
    assert versions[0] == llmath.__version__, "the errata page lists the current version first"
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
    nav = [
        next(iter(i.values())) if isinstance(i, dict) else i
        for i in book_config()["nav"][0]["Home"]
    ]
    assert "errata.md" in nav
