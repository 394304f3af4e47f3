"""Conflict Atlas: violent incidents against coca-growing regions, data side.

No drawing and no Streamlit here (see layers/ and app.py). Dependencies run one way:
atlas <- layers <- front doors (app.py, cli/).
"""

from __future__ import annotations

__version__ = "0.1.0"
