"""The preference centre's pages, on the shared customer-page layout (:mod:`lifecycle.pages`).

The markup is ``pages/templates/preferences.html`` (and ``preferences_not_saved.html``), its
texts in the pages' message catalogs; this module only picks the template, the status and
the language. A page speaks the customer's language, else the browser's, else English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.pages import Page, PageLocale, link_error, render_page

if TYPE_CHECKING:
    from lifecycle.features.preferences import PreferencesView

__all__ = ["Page", "bad_form", "invalid_link", "render"]


def render(view: PreferencesView, locale: PageLocale, status: int = 200) -> Page:
    """The preference page for ``view``."""
    return render_page("preferences.html", locale, status=status, view=view)


def invalid_link(kind: str, locale: PageLocale) -> Page:
    """A preference link that does not work: malformed 400, forged 403, expired or erased 410."""
    return link_error("preferences", kind, locale)


def bad_form(locale: PageLocale) -> Page:
    """The answer to a form the preference page did not send (400)."""
    return render_page("preferences_not_saved.html", locale, status=400)
