"""Write the marketer API's OpenAPI document to docs/openapi.json (or check that it is current).

The document is generated from the routes in ``lifecycle.api`` (the same one the API serves at
``GET /openapi.json``); ``tests/unit/test_openapi.py`` fails when the committed copy differs.

Usage: python scripts/export_openapi.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lifecycle.api.app import app
from lifecycle.api.openapi import openapi_json

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
REGENERATE = "python scripts/export_openapi.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/openapi.json is not current"
    )
    args = parser.parse_args(argv)
    text = openapi_json(app)
    if args.check:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT.relative_to(ROOT)} is out of date: run {REGENERATE}")
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
