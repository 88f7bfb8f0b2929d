"""Topics: what a customer can switch off in the preference centre, and their names.

A campaign's ``topic`` defaults to its occasion type; these have built-in names in the
languages the customer pages speak. A custom topic takes its names from the campaign's
``topic_names`` (``{locale: name}``), else its id is shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from lifecycle.rules.templates import choose_locale

# Built-in names of the occasion-type topics; "en" first (the fallback).
TOPIC_NAMES: dict[str, dict[str, str]] = {
    "birthday": {
        "en": "Birthday offers",
        "de": "Geburtstagsangebote",
        "fr": "Offres d'anniversaire",
        "es": "Ofertas de cumpleaños",
        "it": "Offerte di compleanno",
        "pt": "Ofertas de aniversário",
        "nl": "Verjaardagsaanbiedingen",
        "pl": "Oferty urodzinowe",
        "zh-CN": "生日优惠",
        "ja": "誕生日特典",
        "ko": "생일 혜택",
    },
    "holiday": {
        "en": "Holiday greetings and offers",
        "de": "Feiertagsgrüße und Angebote",
        "fr": "Vœux et offres des fêtes",
        "es": "Felicitaciones y ofertas de fiestas",
        "it": "Auguri e offerte per le festività",
        "pt": "Felicitações e ofertas de feriados",
        "nl": "Feestdagengroeten en aanbiedingen",
        "pl": "Życzenia i oferty świąteczne",
        "zh-CN": "节日祝福与优惠",
        "ja": "祝日のご挨拶とお得な情報",
        "ko": "명절 인사 및 혜택",
    },
    "inactivity": {
        "en": "“We miss you” reminders",
        "de": "„Wir vermissen Sie“-Erinnerungen",
        "fr": "Rappels « Vous nous manquez »",
        "es": "Recordatorios «Te echamos de menos»",
        "it": "Promemoria «Ci manchi»",
        "pt": "Lembretes «Sentimos a sua falta»",
        "nl": "‘We missen je’-herinneringen",
        "pl": "Przypomnienia „Tęsknimy za Tobą”",
        "zh-CN": "“我们想念您”提醒",
        "ja": "「お久しぶりです」のお知らせ",
        "ko": "'보고 싶어요' 알림",
    },
    "replenishment": {
        "en": "Restock reminders",
        "de": "Nachkauf-Erinnerungen",
        "fr": "Rappels de réapprovisionnement",
        "es": "Recordatorios de reposición",
        "it": "Promemoria di riacquisto",
        "pt": "Lembretes de reposição",
        "nl": "Herinneringen om bij te bestellen",
        "pl": "Przypomnienia o uzupełnieniu zapasów",
        "zh-CN": "补货提醒",
        "ja": "再購入のお知らせ",
        "ko": "재구매 알림",
    },
    "post_purchase_survey": {
        "en": "Surveys about your orders",
        "de": "Umfragen zu Ihren Bestellungen",
        "fr": "Enquêtes sur vos commandes",
        "es": "Encuestas sobre tus pedidos",
        "it": "Sondaggi sui tuoi ordini",
        "pt": "Inquéritos sobre as suas encomendas",
        "nl": "Enquêtes over je bestellingen",
        "pl": "Ankiety o Twoich zamówieniach",
        "zh-CN": "订单调查",
        "ja": "ご注文に関するアンケート",
        "ko": "주문 관련 설문조사",
    },
    "date": {
        "en": "Anniversaries and special dates",
        "de": "Jahrestage und besondere Daten",
        "fr": "Anniversaires et dates spéciales",
        "es": "Aniversarios y fechas especiales",
        "it": "Anniversari e date speciali",
        "pt": "Aniversários e datas especiais",
        "nl": "Jubilea en bijzondere data",
        "pl": "Rocznice i ważne daty",
        "zh-CN": "纪念日与特别日期",
        "ja": "記念日と特別な日",
        "ko": "기념일 및 특별한 날",
    },
}


def topic_name(
    topic: str, locale: str | None, custom: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(name, its locale tag) of ``topic`` for a customer of ``locale``: the campaign's own
    names first, then the built-in ones; the topic id (tag ``en``) when neither has any."""
    for names in (custom or {}, TOPIC_NAMES.get(topic, {})):
        if names:
            ordered = sorted(names, key=lambda tag: (tag.lower() != "en", tag))
            chosen = choose_locale(ordered, locale or "en")
            return names[chosen], chosen
    return topic.replace("_", " "), "en"
