"""Generate the bundled demo data set (deterministic): emulator/demo/*.

Usage: python scripts/make_demo_data.py
       python scripts/make_demo_data.py --customers 100000 --out out/data-100k

With ``--customers N`` it writes a larger data set for timing the runner instead: N customers
drawn as the demo's are (same seed, same mix of timezones, locales, birthdays and consent) in
``DIR/customers.jsonl`` and the demo's campaigns in ``DIR/campaigns.json``; emulator/demo/ is
left alone.
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import phonenumbers

OUT = Path(__file__).resolve().parent.parent / "emulator" / "demo"
# The customers file is a snapshot taken when the demo starts: activity after that moment
# comes as usage events (the importer refuses instants more than a day in the future).
SNAPSHOT = "2027-02-15T00:00:00Z"
LATER_ACTIVITY: dict[str, str] = {}  # customer id -> activity after the snapshot
SEED = 2027
VALID_CUSTOMERS = 248

# (timezone, country, locales, weight)
ZONES = [
    ("America/New_York", "US", ["en-US", "es-MX"], 34),
    ("America/Los_Angeles", "US", ["en-US", "es-MX"], 22),
    ("Europe/Berlin", "DE", ["de-DE"], 26),
    ("Europe/Madrid", "ES", ["es-ES"], 18),
    ("Asia/Shanghai", "CN", ["zh-CN"], 30),
    ("Asia/Tokyo", "JP", ["ja-JP"], 16),
    ("Asia/Kolkata", "IN", ["en-GB"], 12),
    ("Asia/Kathmandu", "NP", ["en-GB"], 6),
    ("Australia/Sydney", "AU", ["en-GB"], 12),
    ("America/Sao_Paulo", "BR", ["pt-BR"], 14),
    ("Pacific/Kiritimati", "KI", ["en-GB"], 8),
    ("Pacific/Pago_Pago", "AS", ["en-US"], 8),
    ("Europe/Paris", "FR", ["fr-FR"], 14),
    ("Asia/Seoul", "KR", ["ko-KR"], 6),
    ("Europe/Rome", "IT", ["it-IT"], 6),
    ("UTC", "GB", ["en-GB"], 6),
]

NAMES = {
    "en": (
        ["Emma", "Olivia", "Liam", "Noah", "Ava", "James", "Mia", "Lucas", "Grace", "Henry"],
        ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Lewis", "Walker"],
    ),
    "es": (
        ["Lucía", "Mateo", "Sofía", "Hugo", "Martina", "Pablo", "Valeria", "Álvaro"],
        ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández"],
    ),
    "de": (
        ["Lena", "Jonas", "Mia", "Felix", "Hannah", "Lukas", "Sophie", "Maximilian"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner"],
    ),
    "zh": (
        ["伟", "芳", "娜", "敏", "静", "磊", "洋", "婷", "强", "军"],
        ["王", "李", "张", "刘", "陈", "杨", "黄", "赵"],
    ),
    "ja": (
        ["陽翔", "結衣", "蓮", "美咲", "大翔", "さくら", "湊", "陽菜"],
        ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本"],
    ),
    "fr": (
        ["Camille", "Louis", "Chloé", "Gabriel", "Léa", "Arthur", "Manon", "Jules"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit"],
    ),
    "pt": (
        ["Ana", "João", "Beatriz", "Pedro", "Larissa", "Gustavo", "Camila", "Rafael"],
        ["Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida"],
    ),
    "ko": (["Minjun", "Seoyeon", "Jiho", "Haeun"], ["Kim", "Lee", "Park", "Choi"]),
    "it": (["Giulia", "Marco", "Chiara", "Luca"], ["Rossi", "Russo", "Ferrari", "Esposito"]),
}
ROMAN = {
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "佐藤": "sato",
    "鈴木": "suzuki",
    "高橋": "takahashi",
    "田中": "tanaka",
    "伊藤": "ito",
    "渡辺": "watanabe",
    "山本": "yamamoto",
}

FEB29 = [  # (id suffix, birthday, timezone, country, locale, tier)
    ("leap-1", "1996-02-29", "Pacific/Kiritimati", "KI", "en-GB", "gold"),
    ("leap-2", "--02-29", "Pacific/Pago_Pago", "AS", "en-US", "silver"),
    ("leap-3", "2000-02-29", "Asia/Shanghai", "CN", "zh-CN", "gold"),
    ("leap-4", "1988-02-29", "America/New_York", "US", "en-US", "bronze"),
    ("leap-5", "1992-02-29", "Europe/Berlin", "DE", "de-DE", "gold"),
    ("leap-6", "--02-29", "Asia/Kolkata", "IN", "en-GB", "silver"),
    ("leap-7", "1984-02-29", "America/Los_Angeles", "US", "es-MX", "bronze"),
]

INVALID = [
    (
        '{"customer_id": "c-bad-feb30", "email": "feb30@example.com", "birthday": "1990-02-30", '
        '"consent": {"email": true}}'
    ),
    (
        '{"customer_id": "c-bad-1991", "email": "nonleap@example.com", "birthday": "1991-02-29", '
        '"consent": {"email": true}}'
    ),
    (
        '{"customer_id": "c-bad-tz", "email": "mars@example.com", "timezone": "Mars/Olympus_Mons", '
        '"birthday": "1990-03-03", "consent": {"email": true}}'
    ),
    (
        '{"customer_id": "c-bad-email-1", "email": "not-an-email", "birthday": "1990-03-04", '
        '"consent": {"email": true}}'
    ),
    (
        '{"customer_id": "c-bad-email-2", "email": "ana@@example.com", "birthday": "1990-03-05", '
        '"consent": {"email": true}}'
    ),
    '{"email": "noid@example.com", "birthday": "1990-03-06", "consent": {"email": true}}',
    '{"customer_id": "", "email": "emptyid@example.com", "birthday": "1990-03-07"}',
    '{"customer_id": "c-broken", "email": ',
    '{"customer_id": "c-bad-month", "email": "month13@example.com", "birthday": "--13-01"}',
]


def slug(text: str) -> str:
    if text in ROMAN:
        return ROMAN[text]
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum()) or "customer"


def phone_number(country: str, rng: random.Random) -> str:
    """A valid mobile number of ``country`` (E.164), varied from the library's example."""
    example = phonenumbers.example_number_for_type(
        country, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(country)
    if example is None:
        raise ValueError(f"no example phone number for {country}")
    base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for _ in range(20):
        candidate = base[:-3] + f"{rng.randrange(1000):03d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    return base


def birthday(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.70:  # inside the demo window (Feb 15 .. Mar 31)
        day = date(2027, 2, 15) + timedelta(days=rng.randrange(45))
    else:
        day = date(2027, 1, 1) + timedelta(days=rng.randrange(365))
    if rng.random() < 0.06:
        return f"--{day:%m-%d}"
    return f"{rng.randint(1950, 2008)}-{day:%m-%d}"


def customer(index: int, rng: random.Random) -> dict[str, object]:
    zone, country, locales, _ = rng.choices(ZONES, weights=[z[3] for z in ZONES])[0]
    locale = rng.choice(locales)
    firsts, lasts = NAMES[locale.split("-")[0]]
    first, last = rng.choice(firsts), rng.choice(lasts)
    domain = rng.choice(["example.com", "example.org", "example.net"])
    record: dict[str, object] = {
        "customer_id": f"c-{index:04d}",
        "email": f"{slug(first)}.{slug(last)}.{index}@{domain}",
        "first_name": first,
        "last_name": last,
        "locale": locale,
        "timezone": zone,
        "country": country,
        "created_at": f"{rng.randint(2019, 2026)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        "T10:00:00Z",
        "last_active_at": f"2026-{rng.randint(1, 11):02d}-0{rng.randint(1, 9)}T08:30:00Z",
        "attributes": {"tier": rng.choices(["gold", "silver", "bronze"], [2, 3, 5])[0]},
    }
    if rng.random() < 0.5:
        record["phone"] = phone_number(country, rng)
    if rng.random() < 0.35:  # quiet since Jan/Feb 2027: inactivity reminders in the window
        day = date(2027, 1, 16) + timedelta(days=rng.randrange(40))
        stamp = f"{day.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        if stamp < SNAPSHOT:
            record["last_active_at"] = stamp
        else:  # seen after the snapshot: a usage event at that time (the file keeps 2026)
            LATER_ACTIVITY[str(record["customer_id"])] = stamp
    born = birthday(rng)
    if born:
        record["birthday"] = born
    roll = rng.random()
    if roll < 0.12:
        record["consent"] = {"email": False, "sms": False}
    elif roll < 0.15:
        pass  # no consent object at all: no consent
    else:
        record["consent"] = {"email": True, "sms": rng.random() < 0.4}
        if roll < 0.17:
            del record["email"]  # consent but nothing to send to
    if rng.random() < 0.05:
        del record["timezone"]  # falls back to the campaign's default_timezone
    if rng.random() < 0.03:
        del record["locale"]
    return record


# SES mailbox simulator addresses (DE, birthdays Feb 20-24): in the runner they get the events
# SES would send, so the demo shows a delivery, an out-of-office, a bounce, a complaint and an
# address on the account's suppression list, and the next message to the bounced and the
# complaining address skipped (suppressed_bounce, suppressed_complaint). Appended after the
# random customers, drawing nothing from the generator, so the other files stay as they were.
SIMULATOR = [
    ("c-sim-ok", "success", "Sam", "Success", "en-GB", "1990-02-20"),
    ("c-sim-ooto", "ooto", "Olga", "Abwesend", "de-DE", "1985-02-21"),
    ("c-sim-bounce", "bounce", "Bruno", "Bounce", "de-DE", "1979-02-22"),
    ("c-sim-complaint", "complaint", "Clara", "Beschwerde", "de-DE", "1993-02-23"),
    ("c-sim-listed", "suppressionlist", "Lena", "Liste", "de-DE", "2001-02-24"),
]


def simulator_customers() -> list[dict[str, object]]:
    return [
        {
            "customer_id": cid,
            "email": f"{mailbox}+{cid}@simulator.amazonses.com",
            "first_name": first,
            "last_name": last,
            "locale": locale,
            "timezone": "Europe/Berlin",
            "country": "DE",
            "created_at": "2024-03-01T10:00:00Z",
            "last_active_at": "2027-02-14T08:30:00Z",
            "attributes": {"tier": "silver"},
            "birthday": born,
            "consent": {"email": True, "sms": False},
        }
        for cid, mailbox, first, last, locale, born in SIMULATOR
    ]


def customers(rng: random.Random) -> tuple[list[str], list[dict[str, object]]]:
    records = [customer(i, rng) for i in range(1, VALID_CUSTOMERS - len(FEB29) + 1)]
    for suffix, born, zone, country, locale, tier in FEB29:
        firsts, lasts = NAMES[locale.split("-")[0]]
        first, last = rng.choice(firsts), rng.choice(lasts)
        records.append(
            {
                "customer_id": f"c-{suffix}",
                "email": f"{slug(first)}.{suffix}@example.com",
                "first_name": first,
                "last_name": last,
                "locale": locale,
                "timezone": zone,
                "country": country,
                "birthday": born,
                "consent": {"email": True, "sms": False},
                "attributes": {"tier": tier},
            }
        )
    rng.shuffle(records)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for offset, bad in enumerate(INVALID):
        lines.insert(25 + offset * 23, bad)
    lines += [json.dumps(r, ensure_ascii=False) for r in simulator_customers()]
    return lines, records


def campaigns() -> list[dict[str, object]]:
    offer_text = {
        "en": (
            "Happy birthday, {{ first_name or 'friend' }}! 🎂",
            "Hi {{ first_name or 'there' }},\n\nhappy birthday from all of us! Enjoy "
            "{{ offer.percent_off }}% off your next order with the code {{ offer.code }}.\n"
            "It is valid until {{ offer.valid_until | date }}.\n\nWarm wishes,\nThe team",
        ),
        "de": (
            "Alles Gute zum Geburtstag, {{ first_name or 'liebe Kundin, lieber Kunde' }}!",
            "Hallo {{ first_name }},\n\nwir gratulieren herzlich zum Geburtstag! Mit dem Code "
            "{{ offer.code }} erhalten Sie {{ offer.percent_off }} % Rabatt auf Ihre nächste "
            "Bestellung, gültig bis {{ offer.valid_until | date }}.\n\nHerzliche Grüße\nIhr Team",
        ),
        "es": (
            "¡Feliz cumpleaños, {{ first_name or 'amigo' }}!",
            "Hola {{ first_name }}:\n\n¡Feliz cumpleaños de parte de todo el equipo! Disfruta "
            "de un {{ offer.percent_off }} % de descuento en tu próximo pedido con el código "
            "{{ offer.code }}, válido hasta el {{ offer.valid_until | date }}.\n\nUn abrazo,\nEl equipo",
        ),
        "fr": (
            "Joyeux anniversaire, {{ first_name or 'cher client' }} !",
            "Bonjour {{ first_name }},\n\ntoute l'équipe vous souhaite un joyeux anniversaire ! "
            "Profitez de {{ offer.percent_off }} % de réduction sur votre prochaine commande "
            "avec le code {{ offer.code }}, valable jusqu'au {{ offer.valid_until | date }}.\n\n"
            "Bien à vous,\nL'équipe",
        ),
        "pt": (
            "Feliz aniversário, {{ first_name or 'cliente' }}!",
            "Olá {{ first_name }},\n\nfeliz aniversário! Aproveite {{ offer.percent_off }}% de "
            "desconto no seu próximo pedido com o código {{ offer.code }}, válido até "
            "{{ offer.valid_until | date }}.\n\nUm abraço,\nA equipe",
        ),
        "zh-CN": (
            "{{ last_name }}{{ first_name }}，生日快乐！",
            "亲爱的{{ last_name }}{{ first_name }}：\n\n祝您生日快乐！凭优惠码 {{ offer.code }} "
            "下次购物可享 {{ offer.percent_off }}% 折扣，有效期至 {{ offer.valid_until | date }}。\n\n"
            "祝好！\n您的团队",
        ),
        "ja": (
            "{{ last_name }}{{ first_name }}様、お誕生日おめでとうございます！",
            "{{ last_name }}{{ first_name }}様\n\nお誕生日おめでとうございます！クーポンコード "
            "{{ offer.code }} で次回のご注文が {{ offer.percent_off }}% オフになります"
            "（{{ offer.valid_until | date('long') }}まで有効）。\n\n今後ともよろしくお願いいたします。",
        ),
    }
    content = {
        locale: {"subject": subject, "text": text} for locale, (subject, text) in offer_text.items()
    }
    content["en"]["html"] = (
        "<h1>Happy birthday, {{ first_name or 'friend' }}!</h1>"
        "<p>Enjoy <strong>{{ offer.percent_off }}% off</strong> your next order with the code "
        "<code>{{ offer.code }}</code>, valid until {{ offer.valid_until | date }}.</p>"
    )
    content["zh-CN"]["html"] = (
        "<h1>{{ last_name }}{{ first_name }}，生日快乐！</h1>"
        "<p>凭优惠码 <code>{{ offer.code }}</code> 下次购物可享 "
        "<strong>{{ offer.percent_off }}% 折扣</strong>，有效期至 {{ offer.valid_until | date }}。</p>"
    )
    vip = {
        "en": {
            "subject": "A birthday gift for our gold members",
            "text": "Dear {{ first_name or 'member' }},\n\nas a gold member you get "
            "{{ offer.percent_off }}% off for {{ offer.valid_days }} days: "
            "{{ offer.code }} (until {{ offer.valid_until | date }}).",
        },
        "de": {
            "subject": "Ein Geburtstagsgeschenk für unsere Gold-Mitglieder",
            "text": "Liebe/r {{ first_name }},\n\nals Gold-Mitglied erhalten Sie "
            "{{ offer.percent_off }} % Rabatt: {{ offer.code }} "
            "(gültig bis {{ offer.valid_until | date }}).",
        },
        "zh-CN": {
            "subject": "金卡会员专属生日礼",
            "text": "尊敬的{{ last_name }}{{ first_name }}：\n\n作为金卡会员，您可享受 "
            "{{ offer.percent_off }}% 折扣：{{ offer.code }}（有效期至 "
            "{{ offer.valid_until | date }}）。",
        },
    }
    base = {"channels": ["email"], "occasion": {"type": "birthday", "feb29": "feb28"}}
    return [
        {
            "campaign_id": "bday-2027",
            "name": "Birthday 20% off",
            "status": "active",
            "holdout_percent": 20,  # measured: conversions of recipients vs the holdout
            **base,
            "send_at_local": "09:00",
            "default_timezone": "UTC",
            "offer": {"percent_off": 20, "valid_days": 14, "code_prefix": "BDAY"},
            "content": {"email": content},
        },
        {
            "campaign_id": "bday-vip",
            "name": "Gold member birthday 30% off",
            "status": "active",
            "channels": ["email"],
            "occasion": {"type": "birthday", "feb29": "mar1"},
            "send_at_local": "10:30",
            "default_timezone": "America/New_York",
            "audience": {"all": [{"attr": "attributes.tier", "eq": "gold"}]},
            "offer": {"percent_off": 30, "valid_days": 30, "code_prefix": "VIP"},
            "content": {"email": vip},
        },
        {
            "campaign_id": "bday-paused",
            "name": "Old birthday campaign (paused)",
            "status": "paused",
            **base,
            "send_at_local": "08:00",
            "default_timezone": "UTC",
            "content": {
                "email": {"en": {"subject": "Happy birthday!", "text": "Have a great day."}}
            },
        },
        {
            "campaign_id": "bday-broken",
            "name": "Broken template (rejected on import)",
            "status": "active",
            **base,
            "send_at_local": "09:00",
            "default_timezone": "UTC",
            "content": {"email": {"en": {"subject": "Hi", "text": "Your code: {{ coupon }}"}}},
        },
    ]


SKUS = [
    ("COFFEE-1KG", "Coffee beans 1 kg", 16.9),
    ("COFFEE-500G", "Coffee beans 500 g", 9.5),
    ("MUG", "Ceramic mug", 12.0),
    ("FILTER-100", "Paper filters (100)", 4.5),
    ("GRINDER", "Hand grinder", 39.0),
]
CURRENCY = {
    "US": "USD",
    "AS": "USD",
    "DE": "EUR",
    "ES": "EUR",
    "FR": "EUR",
    "IT": "EUR",
    "CN": "CNY",
    "JP": "JPY",
    "IN": "INR",
    "NP": "NPR",
    "AU": "AUD",
    "KI": "AUD",
    "BR": "BRL",
    "KR": "KRW",
    "GB": "GBP",
}


def _stamp(day: date, rng: random.Random) -> str:
    return f"{day.isoformat()}T{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}:00Z"


def orders_and_answers(
    records: list[dict[str, object]], rng: random.Random
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Orders over the demo window and survey answers a few days after delivery."""
    orders: list[dict[str, object]] = []
    answers: list[dict[str, object]] = []
    buyers = [r for r in records if rng.random() < 0.45]
    number = 5000
    for record in buyers:
        first_delivery: date | None = None
        for repeat in range(rng.choice([1, 1, 1, 2])):
            number += 1
            created = date(2027, 2, 12) + timedelta(days=rng.randrange(30) + repeat * 12)
            sku, name, price = rng.choice(SKUS[:2] if rng.random() < 0.6 else SKUS)
            qty = rng.randint(1, 2)
            roll = rng.random()
            order: dict[str, object] = {
                "order_id": f"o-{number}",
                "customer_id": record["customer_id"],
                "created_at": _stamp(created, rng),
                "items": [{"sku": sku, "name": name, "qty": qty, "price": price}],
                "total": round(price * qty, 2),
                "currency": CURRENCY.get(str(record.get("country")), "EUR"),
            }
            delivered = created + timedelta(days=rng.randint(1, 4))
            if roll < 0.08:
                order["status"] = "cancelled"
            elif roll < 0.14:
                order.update(
                    status="returned",
                    delivered_at=_stamp(delivered, rng),
                    returned_at=_stamp(delivered + timedelta(days=1), rng),
                )
            else:
                order.update(status="delivered", delivered_at=_stamp(delivered, rng))
                first_delivery = first_delivery or delivered
            orders.append(order)
        consent = record.get("consent")
        surveyed = (
            first_delivery is not None
            and record.get("attributes") != {"tier": "gold"}
            and isinstance(consent, dict)
            and consent.get("email")
            and record.get("email")
        )
        if surveyed and first_delivery is not None and rng.random() < 0.7:
            answered = first_delivery + timedelta(days=rng.randint(5, 8))
            score = rng.choices(range(11), weights=[1, 1, 1, 1, 2, 2, 3, 6, 10, 12, 12])[0]
            answer: dict[str, object] = {
                "customer_id": record["customer_id"],
                "campaign_id": "nps-2027",
                "score": score,
                "at": _stamp(answered, rng),
            }
            if score <= 6:
                answer["comment"] = rng.choice(
                    ["Delivery took too long.", "The bag was damaged.", "Too expensive."]
                )
            elif score >= 9 and rng.random() < 0.4:
                answer["comment"] = rng.choice(["Great coffee!", "Fast delivery, thanks."])
            answers.append(answer)
    answers.sort(key=lambda a: str(a["at"]))
    if answers:  # a resubmission (updates, never duplicates) and one invalid score
        first = dict(answers[0])
        first.update(score=10, at=str(first["at"])[:10] + "T23:30:00Z")
        answers.append(first)
        bad = dict(answers[1])
        bad.update(score=11, at=str(bad["at"])[:10] + "T23:45:00Z")
        answers.append(bad)
    return orders, answers


def usage_events(records: list[dict[str, object]], rng: random.Random) -> list[dict[str, object]]:
    """Activity from the app: some quiet customers come back (their reminder is cancelled)."""
    events: list[dict[str, object]] = [
        {"customer_id": customer_id, "type": "login", "at": at}
        for customer_id, at in LATER_ACTIVITY.items()
    ]
    for record in records:
        last = LATER_ACTIVITY.get(str(record["customer_id"]), record.get("last_active_at"))
        if not isinstance(last, str) or rng.random() > 0.3:
            continue
        comeback = date.fromisoformat(last[:10]) + timedelta(days=rng.randint(20, 31))
        at = _stamp(comeback, rng)
        events.append({"customer_id": record["customer_id"], "type": "login", "at": at})
        if rng.random() < 0.3:  # the same event delivered twice
            events.append({"customer_id": record["customer_id"], "type": "login", "at": at})
    events.append({"customer_id": "c-unknown", "type": "login", "at": "2027-03-01T10:00:00Z"})
    events.sort(key=lambda e: str(e["at"]))
    return events


def more_campaigns() -> list[dict[str, object]]:
    """Holiday greetings, reminders and surveys (issue 4)."""
    return [
        {
            "campaign_id": "spring-greetings",
            "name": "Spring holidays",
            "status": "active",
            "occasion": {
                "type": "holiday",
                "countries": ["DE", "FR", "IT", "AU", "KI", "IN"],
                "holidays": ["Easter Monday", "Holi"],
                "custom": [
                    {
                        "name": "First day of spring",
                        "month": 3,
                        "day": 20,
                        "names": {
                            "de": "Frühlingsanfang",
                            "fr": "Premier jour du printemps",
                            "it": "Primo giorno di primavera",
                        },
                    }
                ],
            },
            "channels": ["email"],
            "send_at_local": "10:00",
            "default_timezone": "UTC",
            "content": {
                "email": {
                    "en": {
                        "subject": "Happy {{ holiday.name }}, {{ first_name or 'friend' }}!",
                        "text": "We wish you a wonderful {{ holiday.name }}.",
                    },
                    "de": {
                        "subject": "Schöne Grüße zum {{ holiday.name }}!",
                        "text": "Wir wünschen Ihnen einen schönen {{ holiday.name }}.",
                    },
                    "fr": {
                        "subject": "Joyeux {{ holiday.name }} !",
                        "text": "Nous vous souhaitons un excellent {{ holiday.name }}.",
                    },
                }
            },
        },
        {
            "campaign_id": "lantern-2027",
            "name": "Lantern Festival",
            "status": "active",
            "occasion": {
                "type": "holiday",
                "countries": ["CN"],
                "lunar": [
                    {"name": "Lantern Festival", "month": 1, "day": 15, "names": {"zh": "元宵节"}}
                ],
            },
            "channels": ["email", "sms"],
            "send_at_local": "10:00",
            "default_timezone": "Asia/Shanghai",
            "content": {
                "email": {
                    "zh-CN": {
                        "subject": "{{ holiday.name }}快乐，{{ last_name }}{{ first_name }}！",
                        "text": "祝您和家人{{ holiday.name }}快乐，团团圆圆！",
                    },
                    "en": {
                        "subject": "Happy {{ holiday.name }}!",
                        "text": "Warm wishes for the {{ holiday.name }}.",
                    },
                },
                "sms": {
                    "zh-CN": {
                        "text": "{{ last_name }}{{ first_name }}，祝您{{ holiday.name }}快乐！"
                    },
                    "en": {"text": "Happy {{ holiday.name }}, {{ first_name }}!"},
                },
            },
        },
        {
            "campaign_id": "we-miss-you",
            "name": "We miss you",
            "status": "active",
            "occasion": {"type": "inactivity", "days": 30},
            "channels": ["email"],
            "send_at_local": "18:00",
            "default_timezone": "UTC",
            "offer": {"percent_off": 10, "valid_days": 7, "code_prefix": "BACK"},
            "content": {
                "email": {
                    "en": {
                        "subject": "We miss you, {{ first_name or 'friend' }}",
                        "text": "It has been {{ occasion.days }} days. Come back for "
                        "{{ offer.percent_off }}% off: {{ offer.code }}",
                    },
                    "de": {
                        "subject": "Wir vermissen Sie, {{ first_name }}",
                        "text": "Kommen Sie zurück: {{ offer.percent_off }} % Rabatt mit "
                        "{{ offer.code }}.",
                    },
                    "zh-CN": {
                        "subject": "{{ first_name }}，好久不见！",
                        "text": "回来看看吧：凭 {{ offer.code }} 享 {{ offer.percent_off }}% 折扣。",
                    },
                }
            },
        },
        {
            "campaign_id": "coffee-restock",
            "name": "Coffee restock reminder",
            "status": "active",
            "holdout_percent": 20,
            "attribution_days": 14,
            "occasion": {
                "type": "replenishment",
                "days_after_purchase": 21,
                "skus": ["COFFEE-1KG", "COFFEE-500G"],
            },
            "channels": ["email"],
            "send_at_local": "09:30",
            "default_timezone": "UTC",
            "content": {
                "email": {
                    "en": {
                        "subject": "Running low on {{ product.name }}?",
                        "text": "Your order {{ order.order_id }} arrived "
                        "{{ occasion.days_after_purchase }} days ago. Time to restock?",
                    },
                    "de": {
                        "subject": "Geht Ihr {{ product.name }} zur Neige?",
                        "text": "Ihre Bestellung {{ order.order_id }} kam vor "
                        "{{ occasion.days_after_purchase }} Tagen an.",
                    },
                }
            },
        },
        {
            "campaign_id": "nps-2027",
            "name": "NPS after delivery",
            "status": "active",
            "occasion": {
                "type": "post_purchase_survey",
                "delay_days": 3,
                "kind": "nps",
                "throttle_days": 30,
            },
            "audience": {"not": {"attr": "attributes.tier", "eq": "gold"}},
            "channels": ["email"],
            "send_at_local": "11:00",
            "default_timezone": "UTC",
            "content": {
                "email": {
                    "en": {
                        "subject": "How did we do, {{ first_name or 'there' }}?",
                        "text": "Would you recommend us? One click: {{ survey_url }}",
                    },
                    "zh-CN": {
                        "subject": "请为我们的服务打分",
                        "text": "您会向朋友推荐我们吗？点击评分：{{ survey_url }}",
                    },
                }
            },
        },
        {
            "campaign_id": "csat-gold",
            "name": "CSAT for gold members (SMS)",
            "status": "active",
            "occasion": {
                "type": "post_purchase_survey",
                "delay_days": 2,
                "kind": "csat",
                "throttle_days": 30,
            },
            "audience": {"all": [{"attr": "attributes.tier", "eq": "gold"}]},
            "channels": ["sms"],
            "send_at_local": "12:00",
            "default_timezone": "UTC",
            "sms_max_segments": 4,
            "content": {
                "sms": {
                    "en": {"text": "How was order {{ order.order_id }}? {{ survey_url }}"},
                    "zh-CN": {"text": "订单{{ order.order_id }}满意吗？{{ survey_url }}"},
                }
            },
        },
    ]


def scaled(count: int, folder: Path) -> None:
    """``count`` demo-like customers and the demo's campaigns in ``folder``."""
    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "customers.jsonl").open("w", encoding="utf-8") as handle:
        for index in range(1, count + 1):
            handle.write(json.dumps(customer(index, rng), ensure_ascii=False) + "\n")
    every = campaigns() + more_campaigns()
    (folder / "campaigns.json").write_text(
        json.dumps(every, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {count} customers and {len(every)} campaigns to {folder}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, help="a larger data set of N customers")
    parser.add_argument("--out", type=Path, help="its folder (with --customers)")
    args = parser.parse_args(argv)
    if args.customers is not None or args.out is not None:
        if args.customers is None or args.out is None or args.customers < 1:
            parser.error("--customers N (N >= 1) and --out DIR go together")
        scaled(args.customers, args.out)
        return
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    lines, records = customers(rng)
    (OUT / "customers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    every = campaigns() + more_campaigns()
    (OUT / "campaigns.json").write_text(
        json.dumps(every, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    order_lines, answers = orders_and_answers(records, rng)
    events = usage_events(records, rng)
    for name, rows in (
        ("orders.jsonl", order_lines),
        ("events.jsonl", events),
        ("responses.jsonl", answers),
    ):
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
        (OUT / name).write_text(text, encoding="utf-8")
    print(
        f"wrote {len(lines)} customer lines ({len(INVALID)} invalid), {len(every)} campaigns, "
        f"{len(order_lines)} orders, {len(events)} usage events, {len(answers)} survey answers"
    )


if __name__ == "__main__":
    main()
