"""``python -m emulator``: the local runner."""

from __future__ import annotations

import sys

from emulator.cli import main

sys.exit(main())
