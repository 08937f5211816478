"""Which Chromium to drive, and with which flags: one place for the tests, the PDF and the bench.

Debian's `chromium` (never a browser Playwright downloads), or `LLMATH_CHROMIUM`, or Google
Chrome where a CI runner ships it. The flags keep a headless browser off the network: no
background requests, no component or sync updates, no QUIC; each launch gets a fresh profile.
"""

from __future__ import annotations

import os
import shutil

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """`LLMATH_CHROMIUM`, else Debian's chromium, else Google Chrome; None if there is none."""
    for candidate in (
        os.environ.get("LLMATH_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None
