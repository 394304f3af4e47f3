"""`python -m cli` runs the same command as `conflict-atlas`."""

from __future__ import annotations

import sys

from cli import main

sys.exit(main())
