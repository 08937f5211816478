"""Publishing: links that lead where a reader expects on the hosted book.

`edit_uri` points into docs/, where the notebooks appear only through the docs/notebooks symlink;
GitHub cannot edit a file through a symlink, so a notebook page's "edit this page" link goes to
the jupytext source in notebooks/ instead.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any


def on_page_context(context: Any, page: Any, config: Any, nav: Any) -> Any:
    edit_url = page.edit_url
    if edit_url and page.file.src_uri.startswith("notebooks/"):
        docs = PurePosixPath(config.docs_dir).name
        page.edit_url = edit_url.replace(f"/{docs}/notebooks/", "/notebooks/", 1)
    return context
