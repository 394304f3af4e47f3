"""Debian's chromium for the browser tests: the flags this machine needs, in one place."""

from __future__ import annotations

import shutil
from typing import Any

#: Headless, no sandbox (root), and no background traffic to Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Any, executable: str | None = None) -> Any:
    """Launch Debian's chromium (``command -v chromium``) through a Playwright instance."""
    return playwright.chromium.launch(
        executable_path=executable or shutil.which("chromium"), args=CHROMIUM_ARGS
    )
