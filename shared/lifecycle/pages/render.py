"""The page environment: Jinja2 with autoescaping and gettext, one branded base layout.

One environment per catalog (compiled templates are cached in it); the translations are
installed with ``install_gettext_translations`` (new-style gettext: ``_("Hi %(name)s",
name=x)`` escapes ``x`` and fails loudly on a missing placeholder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from lifecycle.core.settings import Settings, get_settings
from lifecycle.pages.locales import PageLocale, translations
from lifecycle.rules.formats import format_day, format_money

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}\Z")
DEFAULT_COLOUR = "#1a73e8"


@dataclass(frozen=True)
class Page:
    """An HTML page and its HTTP status, as a handler answers it."""

    status: int
    html: str


def _luminance(colour: str) -> float:
    """Relative luminance of ``#RRGGBB`` (WCAG 2.x)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class Branding:
    """Company name, logo, colour and postal address shown on every page.

    ``on_colour`` is the text colour on the brand colour (black or white, whichever contrasts
    more); ``accent`` is the brand colour where it stands out on white (3:1, WCAG 1.4.11),
    else a dark grey, for outlines, focus rings and selected options' borders.
    """

    company_name: str = "Example Shop"
    logo_url: str = ""
    colour: str = DEFAULT_COLOUR
    postal_address: str = ""

    def __post_init__(self) -> None:
        if not _COLOUR.match(self.colour):
            raise ValueError("colour must be #RRGGBB")
        if self.logo_url and not self.logo_url.startswith("https://"):
            raise ValueError("logo_url must be an https:// URL")

    @classmethod
    def from_settings(cls, settings: Settings) -> Branding:
        return cls(
            company_name=settings.company_name,
            logo_url=settings.logo_url,
            colour=settings.brand_colour,
            postal_address=settings.postal_address,
        )

    @property
    def on_colour(self) -> str:
        black, white = "#000000", "#ffffff"
        return white if contrast(self.colour, white) >= contrast(self.colour, black) else black

    @property
    def accent(self) -> str:
        return self.colour if contrast(self.colour, "#ffffff") >= 3 else "#1f1f1f"


def current_branding() -> Branding:
    """The deployment's branding (template parameters, read through the settings)."""
    return Branding.from_settings(get_settings())


# ------------------------------------------------------------------------------- filters
@pass_context
def _date_filter(context: Context, value: Any, form: str = "medium") -> str:
    locale: PageLocale = context["page_locale"]
    return format_day(value, form, locale.tag)


@pass_context
def _money_filter(context: Context, value: Any, currency: str) -> str:
    locale: PageLocale = context["page_locale"]
    return format_money(value, currency, locale.tag)


@cache
def environment(catalog: str) -> Environment:
    """The autoescaped Jinja environment speaking one catalog (cached per catalog)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(catalog), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = _date_filter
    env.filters["money"] = _money_filter
    return env


def render_page(
    template: str,
    locale: PageLocale,
    *,
    status: int = 200,
    branding: Branding | None = None,
    **context: Any,
) -> Page:
    """Render ``templates/<template>`` in ``locale`` with the branding; a :class:`Page`."""
    html = (
        environment(locale.catalog)
        .get_template(template)
        .render(
            lang=locale.tag,
            page_locale=locale,
            brand=branding or current_branding(),
            **context,
        )
    )
    return Page(status, html)
