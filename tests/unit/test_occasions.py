"""Holiday, inactivity and order-triggered occasions (pure logic)."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.occasions import holiday, inactivity
from lifecycle.occasions import orders as order_occasions
from lifecycle.occasions.replenishment import replenishment, repurchased
from lifecycle.rules.orders import Order

SPRING = "Chinese New Year (Spring Festival)"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 2, 6), [SPRING]),
        (date(2027, 2, 7), []),
        (date(2027, 2, 8), []),
        (date(2027, 2, 9), []),
        (date(2028, 1, 26), [SPRING]),
        (date(2028, 1, 27), []),
    ],
)
def test_given_multi_day_spring_festival_when_checked_then_greeted_on_first_day_only(day, expected):
    hits = holiday.holidays_on(day, "CN", [SPRING], [], [])
    assert [h.name for h in hits] == expected


def test_given_christmas_on_saturday_when_checked_then_never_on_the_observed_friday():
    assert holiday.holidays_on(date(2027, 12, 24), "US", ["Christmas Day"], [], []) == []
    hits = holiday.holidays_on(date(2027, 12, 25), "US", ["Christmas Day"], [], [])
    assert [(h.name, h.source) for h in hits] == [("Christmas Day", "calendar")]


@pytest.mark.parametrize(
    ("lunar_year", "month", "day", "expected"),
    [
        (2027, 1, 1, date(2027, 2, 6)),
        (2027, 8, 15, date(2027, 9, 15)),
        (2028, 1, 15, date(2028, 2, 9)),
        (2026, 8, 15, date(2026, 9, 25)),
    ],
)
def test_given_lunar_date_when_converted_then_gregorian_of_that_year(
    lunar_year, month, day, expected
):
    assert holiday.lunar_to_gregorian(lunar_year, month, day) == expected


def test_given_lunar_and_custom_dates_when_checked_then_hit_in_every_country():
    lunar = [{"name": "Mid-Autumn Festival", "month": 8, "day": 15}]
    custom = [{"name": "Singles' Day", "month": 11, "day": 11}]
    assert [h.source for h in holiday.holidays_on(date(2027, 9, 15), "DE", [], [], lunar)] == [
        "lunar"
    ]
    assert [h.name for h in holiday.holidays_on(date(2027, 11, 11), "US", [], custom, [])] == [
        "Singles' Day"
    ]
    assert holiday.holidays_on(date(2027, 11, 12), "US", [], custom, lunar) == []


@pytest.mark.parametrize(
    ("name", "day", "country", "locale", "expected"),
    [
        (SPRING, date(2027, 2, 6), "CN", "zh-CN", "春节"),
        (SPRING, date(2027, 2, 6), "CN", "en-US", SPRING),
        ("Christmas Day", date(2027, 12, 25), "DE", "de-AT", "Erster Weihnachtstag"),
        ("Christmas Day", date(2027, 12, 25), "US", "ko-KR", "Christmas Day"),
        ("Christmas Day", date(2027, 12, 25), "US", None, "Christmas Day"),
    ],
)
def test_given_calendar_holiday_when_localized_then_library_translation(
    name, day, country, locale, expected
):
    assert holiday.localized_name(name, day, country, "calendar", locale) == expected


def test_given_custom_holiday_translations_when_localized_then_campaign_names_used():
    names = {"zh": "光棍节", "de-DE": "Singles-Tag"}
    localized = holiday.localized_name(
        "Singles' Day", date(2027, 11, 11), "CN", "custom", "zh-CN", names
    )
    assert localized == "光棍节"
    assert (
        holiday.localized_name("Singles' Day", date(2027, 11, 11), "DE", "custom", "de-DE", names)
        == "Singles-Tag"
    )
    assert (
        holiday.localized_name("Singles' Day", date(2027, 11, 11), "US", "custom", "en", names)
        == "Singles' Day"
    )


def _customer(last_active_at: str | None, tz: str | None = "Asia/Tokyo") -> dict[str, object]:
    return {"customer_id": "c", "timezone": tz, "last_active_at": last_active_at}


def test_given_last_activity_when_days_pass_then_reminder_on_the_local_day():
    customer = _customer("2027-01-31T16:00:00Z")  # Feb 1, 01:00 in Tokyo
    assert inactivity.occurrence(customer, date(2027, 3, 2), 30) is None  # Feb 1 + 30 = Mar 3
    occurrence = inactivity.occurrence(customer, date(2027, 3, 3), 30)
    assert occurrence is not None and occurrence.key == "2027-02-01"
    assert inactivity.occurrence(_customer("2027-01-31T16:00:00Z", None), date(2027, 3, 2), 30)


def test_given_no_activity_when_planning_then_no_reminder():
    assert inactivity.occurrence(_customer(None), date(2027, 3, 3), 30) is None


def test_given_activity_after_planning_when_checked_then_not_still_inactive():
    context = {"last_active_at": "2027-01-31T16:00:00Z"}
    assert inactivity.still_inactive({"last_active_at": "2027-01-31T16:00:00Z"}, context)
    assert not inactivity.still_inactive({"last_active_at": "2027-03-02T08:00:00Z"}, context)


def _order(
    order_id: str,
    status: str,
    created: str,
    sku: str = "COFFEE-1KG",
    delivered: str | None = "2027-03-03T15:00:00Z",
) -> Order:
    return Order(order_id, "c", status, created, delivered, [{"sku": sku, "name": "Coffee"}])


def test_given_status_change_when_checked_then_only_becoming_delivered_counts():
    placed = _order("o", "placed", "2027-03-01T10:00:00Z", delivered=None)
    delivered = _order("o", "delivered", "2027-03-01T10:00:00Z")
    assert order_occasions.became_delivered(placed, delivered)
    assert order_occasions.became_delivered(None, delivered)
    assert not order_occasions.became_delivered(delivered, delivered)
    assert not order_occasions.became_delivered(placed, None)
    returned = _order("o", "returned", "2027-03-01T10:00:00Z")
    assert not order_occasions.became_delivered(delivered, returned)


def test_given_delivered_order_when_replenishment_planned_then_days_after_local_delivery():
    occurrence = replenishment(
        _order("o-1", "delivered", "2027-03-01T10:00:00Z"), "Asia/Shanghai", 30, ["COFFEE-1KG"]
    )
    assert occurrence is not None
    assert (occurrence.key, occurrence.local_date) == ("o-1", date(2027, 4, 2))
    other = _order("o-2", "delivered", "2027-03-01T10:00:00Z", sku="MUG")
    assert replenishment(other, "UTC", 30, ["COFFEE-1KG"]) is None


def test_given_later_orders_when_checked_then_repurchase_only_for_same_sku_not_cancelled():
    context = {"order_id": "o-1", "sku": "COFFEE-1KG", "ordered_at": "2027-03-01T10:00:00Z"}
    later_same = _order("o-2", "placed", "2027-03-10T10:00:00Z")
    later_other = _order("o-3", "placed", "2027-03-10T10:00:00Z", sku="MUG")
    later_cancelled = _order("o-4", "cancelled", "2027-03-10T10:00:00Z")
    earlier = _order("o-0", "delivered", "2027-02-10T10:00:00Z")
    assert repurchased([later_same], context)
    assert not repurchased([later_other, later_cancelled, earlier], context)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("delivered", None), ("returned", "order_returned"), ("cancelled", "order_cancelled")],
)
def test_given_order_status_when_sending_then_stop_reason(status, reason):
    assert order_occasions.order_stop_reason(_order("o", status, "2027-03-01T10:00:00Z")) == reason
    assert order_occasions.order_stop_reason(None) == "order_not_found"
