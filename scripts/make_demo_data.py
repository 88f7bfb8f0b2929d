"""Generate the bundled demo data set (deterministic): emulator/demo/*.

Usage: python scripts/make_demo_data.py
"""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "emulator" / "demo"
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


def customers(rng: random.Random) -> list[str]:
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
    return lines


def campaigns() -> list[dict[str, object]]:
    offer_text = {
        "en": (
            "Happy birthday, {{ first_name or 'friend' }}! 🎂",
            "Hi {{ first_name or 'there' }},\n\nhappy birthday from all of us! Enjoy "
            "{{ offer.percent_off }}% off your next order with the code {{ offer.code }}.\n"
            "It is valid until {{ offer.valid_until }}.\n\nWarm wishes,\nThe team",
        ),
        "de": (
            "Alles Gute zum Geburtstag, {{ first_name or 'liebe Kundin, lieber Kunde' }}!",
            "Hallo {{ first_name }},\n\nwir gratulieren herzlich zum Geburtstag! Mit dem Code "
            "{{ offer.code }} erhalten Sie {{ offer.percent_off }} % Rabatt auf Ihre nächste "
            "Bestellung, gültig bis {{ offer.valid_until }}.\n\nHerzliche Grüße\nIhr Team",
        ),
        "es": (
            "¡Feliz cumpleaños, {{ first_name or 'amigo' }}!",
            "Hola {{ first_name }}:\n\n¡Feliz cumpleaños de parte de todo el equipo! Disfruta "
            "de un {{ offer.percent_off }} % de descuento en tu próximo pedido con el código "
            "{{ offer.code }}, válido hasta el {{ offer.valid_until }}.\n\nUn abrazo,\nEl equipo",
        ),
        "fr": (
            "Joyeux anniversaire, {{ first_name or 'cher client' }} !",
            "Bonjour {{ first_name }},\n\ntoute l'équipe vous souhaite un joyeux anniversaire ! "
            "Profitez de {{ offer.percent_off }} % de réduction sur votre prochaine commande "
            "avec le code {{ offer.code }}, valable jusqu'au {{ offer.valid_until }}.\n\n"
            "Bien à vous,\nL'équipe",
        ),
        "pt": (
            "Feliz aniversário, {{ first_name or 'cliente' }}!",
            "Olá {{ first_name }},\n\nfeliz aniversário! Aproveite {{ offer.percent_off }}% de "
            "desconto no seu próximo pedido com o código {{ offer.code }}, válido até "
            "{{ offer.valid_until }}.\n\nUm abraço,\nA equipe",
        ),
        "zh-CN": (
            "{{ last_name }}{{ first_name }}，生日快乐！",
            "亲爱的{{ last_name }}{{ first_name }}：\n\n祝您生日快乐！凭优惠码 {{ offer.code }} "
            "下次购物可享 {{ offer.percent_off }}% 折扣，有效期至 {{ offer.valid_until }}。\n\n"
            "祝好！\n您的团队",
        ),
        "ja": (
            "{{ last_name }}{{ first_name }}様、お誕生日おめでとうございます！",
            "{{ last_name }}{{ first_name }}様\n\nお誕生日おめでとうございます！クーポンコード "
            "{{ offer.code }} で次回のご注文が {{ offer.percent_off }}% オフになります"
            "（{{ offer.valid_until }} まで有効）。\n\n今後ともよろしくお願いいたします。",
        ),
    }
    content = {
        locale: {"subject": subject, "text": text} for locale, (subject, text) in offer_text.items()
    }
    content["en"]["html"] = (
        "<h1>Happy birthday, {{ first_name or 'friend' }}!</h1>"
        "<p>Enjoy <strong>{{ offer.percent_off }}% off</strong> your next order with the code "
        "<code>{{ offer.code }}</code>, valid until {{ offer.valid_until }}.</p>"
    )
    content["zh-CN"]["html"] = (
        "<h1>{{ last_name }}{{ first_name }}，生日快乐！</h1>"
        "<p>凭优惠码 <code>{{ offer.code }}</code> 下次购物可享 "
        "<strong>{{ offer.percent_off }}% 折扣</strong>，有效期至 {{ offer.valid_until }}。</p>"
    )
    vip = {
        "en": {
            "subject": "A birthday gift for our gold members",
            "text": "Dear {{ first_name or 'member' }},\n\nas a gold member you get "
            "{{ offer.percent_off }}% off for {{ offer.valid_days }} days: "
            "{{ offer.code }} (until {{ offer.valid_until }}).",
        },
        "de": {
            "subject": "Ein Geburtstagsgeschenk für unsere Gold-Mitglieder",
            "text": "Liebe/r {{ first_name }},\n\nals Gold-Mitglied erhalten Sie "
            "{{ offer.percent_off }} % Rabatt: {{ offer.code }} "
            "(gültig bis {{ offer.valid_until }}).",
        },
        "zh-CN": {
            "subject": "金卡会员专属生日礼",
            "text": "尊敬的{{ last_name }}{{ first_name }}：\n\n作为金卡会员，您可享受 "
            "{{ offer.percent_off }}% 折扣：{{ offer.code }}（有效期至 "
            "{{ offer.valid_until }}）。",
        },
    }
    base = {"channels": ["email"], "occasion": {"type": "birthday", "feb29": "feb28"}}
    return [
        {
            "campaign_id": "bday-2027",
            "name": "Birthday 20% off",
            "status": "active",
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


def main() -> None:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    lines = customers(rng)
    (OUT / "customers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "campaigns.json").write_text(
        json.dumps(campaigns(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(lines)} customer lines ({len(INVALID)} invalid) and 4 campaigns to {OUT}")


if __name__ == "__main__":
    main()
