"""Marketer API, ``GET /campaigns``: a status filter and a cursor (``limit``, ``next_token``)."""

from __future__ import annotations

from typing import Any

from tests.integration.test_campaign_api import (  # noqa: F401 - fixtures
    Api,
    api_fixture,
    fixture_body,
    raw_api_fixture,
)

DRAFTS = ["d-1", "d-2", "d-3"]
ACTIVE = ["a-1", "a-2"]


def _create(api: Api, campaign_id: str, *, active: bool = False) -> None:
    assert api("create", dict(fixture_body("create"), campaign_id=campaign_id))[0] == 201
    if active:
        change = {"status": "active", "version": 1}
        assert api("status", change, campaign_id=campaign_id)[0] == 200


def _read_all(api: Api, query: dict[str, str]) -> tuple[list[str], list[int]]:
    """Follow ``next_token`` to the end: the ids in order and the size of each page."""
    ids: list[str] = []
    sizes: list[int] = []
    token: str | None = None
    while True:
        status, page = api("list", query=query | ({"next_token": token} if token else {}))
        assert status == 200 and set(page) == {"items", "next_token"}
        ids += [item["campaign_id"] for item in page["items"]]
        sizes.append(len(page["items"]))
        token = page["next_token"]
        if token is None:
            return ids, sizes
        assert isinstance(token, str) and token


def _given_campaigns(api: Api) -> None:
    for campaign_id in DRAFTS:
        _create(api, campaign_id)
    for campaign_id in ACTIVE:
        _create(api, campaign_id, active=True)


def test_given_five_campaigns_when_listed_two_at_a_time_then_three_pages_each_once(api: Api):
    _given_campaigns(api)
    ids, sizes = _read_all(api, {"limit": "2"})
    assert sizes == [2, 2, 1]
    assert sorted(ids) == sorted(DRAFTS + ACTIVE) and len(set(ids)) == len(ids)


def test_given_exactly_a_page_when_listed_then_last_page_has_no_token(api: Api):
    _given_campaigns(api)
    status, page = api("list", query={"limit": "5"})
    assert (status, len(page["items"]), page["next_token"]) == (200, 5, None)


def test_given_status_filter_when_paging_then_only_that_status_on_every_page(api: Api):
    _given_campaigns(api)
    ids, sizes = _read_all(api, {"status": "active", "limit": "1"})
    assert (sorted(ids), sizes) == (ACTIVE, [1, 1])
    ids, _ = _read_all(api, {"status": "draft", "limit": "2"})
    assert sorted(ids) == DRAFTS
    assert _read_all(api, {"status": "archived"}) == ([], [0])


def test_given_no_parameters_when_listed_then_default_page_of_50_with_summaries(api: Api):
    _given_campaigns(api)
    status, page = api("list", query={})
    assert status == 200 and page["next_token"] is None
    summary: dict[str, Any] = next(i for i in page["items"] if i["campaign_id"] == "a-1")
    assert summary == {
        "campaign_id": "a-1",
        "name": "Birthday 20% off",
        "status": "active",
        "occasion": "birthday",
        "channels": ["email"],
        "category": "marketing",
        "topic": "birthday",
        "version": 2,
        "updated_at": "2027-03-13T00:00:00Z",
    }
    assert len(page["items"]) == 5


def test_given_limit_bounds_when_listed_then_1_and_100_are_accepted(api: Api):
    _given_campaigns(api)
    assert len(api("list", query={"limit": "1"})[1]["items"]) == 1
    assert len(api("list", query={"limit": "100"})[1]["items"]) == 5
