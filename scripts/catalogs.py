"""Message catalogs of the customer pages: extract, update, check.

Texts live in ``shared/lifecycle/pages/templates/*.html`` as ``{{ _("...") }}``; each language
has a gettext catalog ``shared/lifecycle/pages/locales/<catalog>/LC_MESSAGES/pages.po`` that the
layer reads as it is (no compile step).

Usage::

    python scripts/catalogs.py update   # extract the texts, merge them into every catalog
                                        # (new entries empty, removed ones dropped; English
                                        # is filled with the source text)
    python scripts/catalogs.py check    # exit 1 listing untranslated (or copied) entries,
                                        # fuzzy and stale ones, and placeholders that differ
                                        # from the source
    python scripts/catalogs.py update --add sv   # also start a catalog for a new language
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from lifecycle.pages.locales import CATALOGS, DEFAULT, DOMAIN, LOCALES_DIR, catalog_path
from lifecycle.pages.render import TEMPLATES_DIR

PROJECT = "lifecycle-messaging customer pages"
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
_METHODS = [("**.html", "jinja2")]
_OPTIONS = {
    "**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "silent": "false"}
}


def extract() -> Catalog:
    """Every ``_()`` text of the page templates (the template of all catalogs)."""
    template = Catalog(project=PROJECT, domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(TEMPLATES_DIR), _METHODS, _OPTIONS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _serialize(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_po(out, catalog, width=100, omit_header=False, sort_output=True, ignore_obsolete=True)
    return out.getvalue()


def update(add: list[str] | None = None) -> list[str]:
    """Merge the extracted texts into each catalog; the paths written."""
    template = extract()
    written = []
    for name in sorted({*CATALOGS, *(add or [])}):
        path = (
            catalog_path(name)
            if name in CATALOGS
            else LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        )
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=name, domain=DOMAIN)
        else:
            catalog = Catalog(locale=name, domain=DOMAIN, project=PROJECT, fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        if name == DEFAULT:
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        # Stable headers: a rerun without changes rewrites nothing.
        catalog.revision_date = catalog.creation_date = STABLE_DATE
        data = _serialize(catalog)
        if not path.exists() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(str(path))
    return written


def check() -> list[str]:
    """Problems of the committed catalogs (empty when every catalog is complete and current)."""
    expected = {message.id for message in extract() if message.id}
    problems: list[str] = []
    for name in CATALOGS:
        path = catalog_path(name)
        if not path.exists():
            problems.append(f"{name}: no catalog at {path}")
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=name, domain=DOMAIN)
        ids = {message.id for message in catalog if message.id}
        problems += [f"{name}: missing {text!r} (run update)" for text in sorted(expected - ids)]
        problems += [f"{name}: stale {text!r} (run update)" for text in sorted(ids - expected)]
        for message in catalog:
            if not message.id:
                continue
            source, translated = str(message.id), str(message.string or "")
            if not translated.strip():
                problems.append(f"{name}: untranslated {source!r}")
            elif name != DEFAULT and translated == source and len(source.split()) > 1:
                # A sentence copied verbatim is a placeholder, not a translation (one word,
                # such as "E-mail", may well be the same).
                problems.append(f"{name}: copied, not translated {source!r}")
            elif message.fuzzy:
                problems.append(f"{name}: fuzzy {source!r}")
            elif placeholders(source) != placeholders(translated):
                problems.append(
                    f"{name}: placeholders of {source!r} are {sorted(placeholders(source))}, "
                    f"translation has {sorted(placeholders(translated))}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=["update", "check"])
    parser.add_argument("--add", action="append", default=[], help="start a catalog (e.g. sv)")
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update(args.add):
            print(f"wrote {path}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.command == "check" or problems:
        print(f"{len(problems)} problem(s) in {len(CATALOGS)} catalogs")
    return 1 if problems and args.command == "check" else 0


if __name__ == "__main__":
    sys.exit(main())
