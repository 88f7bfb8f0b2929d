"""Which language a customer page speaks, and the message catalogs that say it.

Negotiation (:func:`negotiate`): the customer's own locale first, then the browser's
``Accept-Language`` (by q-value), then English. Only languages with a catalog count; a region
the customer gave is kept for ``<html lang>`` and for Babel's date and number formats
(``de-AT`` shows the German catalog with Austrian formats). Every Chinese tag (``zh``,
``zh-CN``, ``zh-Hans``, ``zh-SG``, ``zh-TW``, ...) shows the Simplified Chinese catalog
``zh_CN`` and says ``lang="zh-CN"``, the language actually shown.

Catalogs are the gettext ``.po`` files in ``locales/<catalog>/LC_MESSAGES/pages.po``. They are
read with Babel at first use and cached per process, so the Lambda layer needs no build step
and no compiled ``.mo`` can go stale. ``scripts/catalogs.py`` extracts and updates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "pages"
DEFAULT = "en"
# Catalog ids as gettext names them (directory names under locales/).
CATALOGS = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "zh_CN", "ja", "ko")

MAX_ACCEPT_LANGUAGE = 1_000  # characters of the header read; the rest is ignored
MAX_LANGUAGE_RANGES = 20
_RANGE = re.compile(
    r"^(?P<tag>[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)(?:;q=(?P<q>[0-9.]{1,5}))?$"
)
_BY_LANGUAGE = {catalog.split("_")[0]: catalog for catalog in CATALOGS}


@dataclass(frozen=True)
class PageLocale:
    """The negotiated language of one page.

    ``catalog`` names the message catalog (``"de"``, ``"zh_CN"``), ``tag`` is the BCP 47 tag
    for ``<html lang>`` (``"de-AT"``, ``"zh-CN"``) and ``babel`` the locale whose date and
    number formats the page uses.
    """

    catalog: str
    tag: str

    @property
    def babel(self) -> Locale:
        return _babel_locale(self.tag)


@lru_cache(maxsize=256)
def _babel_locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def _catalog_for(tag: str) -> str | None:
    language = tag.replace("_", "-").split("-")[0].lower()
    return _BY_LANGUAGE.get(language)


def page_locale(tag: str | None) -> PageLocale | None:
    """The page locale for one language tag, or None when no catalog speaks its language."""
    if not tag or len(tag) > 35:
        return None
    catalog = _catalog_for(tag)
    if catalog is None:
        return None
    if catalog == "zh_CN":
        return PageLocale("zh_CN", "zh-CN")
    try:
        parsed = Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return PageLocale(catalog, catalog)
    if parsed.language != catalog or not parsed.territory:
        return PageLocale(catalog, catalog)
    return PageLocale(catalog, f"{parsed.language}-{parsed.territory}")


def accepted_languages(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, best first (q=0 and ``*`` dropped).

    A malformed range is skipped, not an error: the header comes from any browser.
    """
    if not header:
        return []
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")[:MAX_LANGUAGE_RANGES]):
        match = _RANGE.match(part.strip().replace(" ", ""))
        if match is None or match["tag"] == "*":
            continue
        try:
            quality = float(match["q"]) if match["q"] else 1.0
        except ValueError:
            continue
        if 0 < quality <= 1:
            ranges.append((-quality, position, match["tag"]))
    return [tag for _, _, tag in sorted(ranges)]


def negotiate(customer_locale: str | None = None, accept_language: str | None = None) -> PageLocale:
    """Customer locale, then ``Accept-Language``, then English (see the module docstring)."""
    for tag in (customer_locale, *accepted_languages(accept_language)):
        chosen = page_locale(tag)
        if chosen is not None:
            return chosen
    return PageLocale(DEFAULT, DEFAULT)


def catalog_path(catalog: str) -> Path:
    return LOCALES_DIR / catalog / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(catalog: str) -> Catalog:
    """The ``.po`` file of one catalog, parsed by Babel."""
    with catalog_path(catalog).open("rb") as handle:
        return read_po(handle, locale=catalog, domain=DOMAIN)


@lru_cache(maxsize=len(CATALOGS))
def translations(catalog: str) -> Translations:
    """gettext translations of one catalog, compiled in memory from its ``.po`` (cached)."""
    if catalog not in CATALOGS:
        raise ValueError(f"no catalog {catalog!r}")
    compiled = BytesIO()
    write_mo(compiled, read_catalog(catalog))  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)
