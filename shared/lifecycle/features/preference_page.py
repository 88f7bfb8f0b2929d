"""The preference centre's pages, on the shared customer-page layout (:mod:`lifecycle.pages`).

The markup is ``pages/templates/preferences.html`` (and ``preferences_not_saved.html``), its
texts in the pages' message catalogs; this module holds what a page shows
(:class:`PreferencesView`, built by :mod:`lifecycle.features.preferences`) and picks the
template, the status and the language. A page speaks the customer's language, else the
browser's, else English.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.pages import Page, PageLocale, link_error, render_page


@dataclass(frozen=True)
class Topic:
    topic: str
    name: str
    lang: str  # the locale the name is written in
    on: bool


@dataclass(frozen=True)
class ChannelPrefs:
    channel: str
    subscribed: bool
    can_change: bool  # the customer once agreed to it (a link cannot give first consent)
    topics: tuple[Topic, ...]


@dataclass(frozen=True)
class PreferencesView:
    """What the page shows; ``notice`` after a POST: saved, undone, unchanged, conflict."""

    action: str  # the form's action: the token (relative to /p/)
    channels: tuple[ChannelPrefs, ...]
    notice: str | None = None
    undo_event: str | None = None


__all__ = ["ChannelPrefs", "Page", "PreferencesView", "Topic", "bad_form", "invalid_link", "render"]


def render(view: PreferencesView, locale: PageLocale, status: int = 200) -> Page:
    """The preference page for ``view``."""
    return render_page("preferences.html", locale, status=status, view=view)


def invalid_link(kind: str, locale: PageLocale) -> Page:
    """A preference link that does not work: malformed 400, forged 403, expired or erased 410."""
    return link_error("preferences", kind, locale)


def bad_form(locale: PageLocale) -> Page:
    """The answer to a form the preference page did not send (400)."""
    return render_page("preferences_not_saved.html", locale, status=400)
