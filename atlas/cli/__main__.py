"""`python -m atlas.cli` runs the same command as `conflict-atlas`."""

from __future__ import annotations

import sys

from atlas.cli import main

sys.exit(main())
