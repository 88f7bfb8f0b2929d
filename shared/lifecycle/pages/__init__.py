"""Customer pages: localized, branded HTML rendered from templates (pure: no I/O).

Layer: between ``messages`` and ``store`` (it imports only ``core`` and ``rules``; ``features``
use it).

How a page is made::

    from lifecycle.pages import negotiate, render_page

    locale = negotiate(customer.get("locale"), accept_language)   # customer, browser, en
    page = render_page("survey.html", locale, status=200, kind="nps", ...)
    page.status, page.html                                         # a Page, for the handler

* ``negotiate(customer_locale, accept_language) -> PageLocale`` (``catalog``, ``tag`` for
  ``<html lang>``, ``babel`` for formats); see :mod:`lifecycle.pages.locales`.
* ``render_page(template, locale, *, status=200, branding=None, **context) -> Page`` renders
  ``pages/templates/<template>``; ``branding`` defaults to the deployment's
  (:func:`current_branding`: settings ``company_name``, ``logo_url``, ``brand_colour``,
  ``postal_address``).
* ``link_error(link, reason, locale) -> Page``: the page of a link that does not work, with its
  status (``malformed`` 400, ``forged`` 403, ``expired`` 410, ``erased`` 410).

A new page is a template that ``{% extends "base.html" %}`` and fills the blocks ``title``
and ``content``. Every text in it goes through ``{{ _("...") }}`` (new-style gettext:
placeholders are named, ``_("Hi %(name)s", name=x)``, and values are escaped). Templates also
get ``lang`` (the tag shown), ``brand`` (:class:`Branding`) and the filters
``{{ day | date }}`` / ``{{ amount | money("EUR") }}`` in the page's locale. After adding
texts run ``python scripts/catalogs.py update`` and translate the new entries in every
``locales/<catalog>/LC_MESSAGES/pages.po`` (``python scripts/catalogs.py check`` lists what
is missing; the unit tests fail on an untranslated or stale catalog).

Styles live in ``base.html``: a scale of options (``.scale`` with ``--options``), buttons with
44 px tap targets, a visible focus ring, brand colours with the text colour chosen for contrast.
"""

from __future__ import annotations

from lifecycle.pages.locales import CATALOGS, PageLocale, negotiate
from lifecycle.pages.render import Branding, Page, current_branding, render_page

LINK_ERROR_STATUS = {"malformed": 400, "forged": 403, "expired": 410, "erased": 410}


def link_error(
    link: str, reason: str, locale: PageLocale, branding: Branding | None = None
) -> Page:
    """The page of a ``link`` (survey, unsubscribe, preferences) that does not work."""
    return render_page(
        "link_error.html",
        locale,
        status=LINK_ERROR_STATUS[reason],
        branding=branding,
        link=link,
        reason=reason,
    )


__all__ = [
    "CATALOGS",
    "LINK_ERROR_STATUS",
    "Branding",
    "Page",
    "PageLocale",
    "current_branding",
    "link_error",
    "negotiate",
    "render_page",
]
