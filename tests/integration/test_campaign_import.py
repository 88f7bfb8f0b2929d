"""Campaign import obeys the lifecycle: the marketer API's validation, versions and transitions.

Each case starts from a campaign the API left in some state (or none), imports one file
entry and states what is stored afterwards and how the import reported it. On moto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from emulator.template import FakeLambdaContext, load_handler
from lifecycle.campaigns import repository
from lifecycle.campaigns.repository import change_status, create_campaign
from lifecycle.features.importer import import_campaigns
from lifecycle.store.campaigns import advance_cursor, get_record
from tests.builders import birthday_campaign
from tests.events import load_event

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=3)
ID = "bday-2027"
BASE = birthday_campaign(ID, status="draft")
CHANGED = {"send_at_local": "10:30", "name": "Birthday 25% off"}

# How the API brings a draft to each status (each step a new version).
STEPS = {"draft": [], "active": ["active"], "paused": ["active", "paused"]}
STEPS["archived"] = ["active", "archived"]


def _given(status: str | None) -> None:
    """The campaign as the API leaves it in ``status`` (None: no campaign)."""
    if status is None:
        return
    create_campaign(BASE, T0)
    version = 1
    for step in STEPS[status]:
        version = change_status(ID, step, T0, expected_version=version)
    if status == "active":
        assert advance_cursor(ID, T0.date(), None)  # the planner ran


@dataclass(frozen=True)
class Expect:
    status: str
    version: int
    imported: int = 0
    unchanged: int = 0
    reason: str | None = None  # the rejection's reason starts with this
    content_changed: bool = False


def _entry(status: str, changed: bool) -> dict[str, Any]:
    return {**BASE, **(CHANGED if changed else {}), "status": status}


CASES = [
    # (stored before, file status, file content changed, expected)
    # -- new campaigns: created as a draft, then along the transitions
    ("new draft", None, "draft", False, Expect("draft", 1, imported=1)),
    ("new active", None, "active", False, Expect("active", 2, imported=1)),
    ("new paused: via active", None, "paused", False, Expect("paused", 3, imported=1)),
    ("new archived", None, "archived", False, Expect("archived", 2, imported=1)),
    # -- identical: nothing written
    ("same draft", "draft", "draft", False, Expect("draft", 1, unchanged=1)),
    ("same active", "active", "active", False, Expect("active", 2, unchanged=1)),
    ("same paused", "paused", "paused", False, Expect("paused", 3, unchanged=1)),
    ("same archived", "archived", "archived", False, Expect("archived", 3, unchanged=1)),
    # -- content and allowed status changes
    (
        "active, new content",
        "active",
        "active",
        True,
        Expect("active", 3, imported=1, content_changed=True),
    ),
    ("active -> paused", "active", "paused", False, Expect("paused", 3, imported=1)),
    ("paused -> active", "paused", "active", False, Expect("active", 4, imported=1)),
    ("draft -> paused: via active", "draft", "paused", False, Expect("paused", 3, imported=1)),
    (
        "active -> archived with new content: content first",
        "active",
        "archived",
        True,
        Expect("archived", 4, imported=1, content_changed=True),
    ),
    # -- refused transitions: the content change stays, as PUT then a refused POST /status
    (
        "active -> draft",
        "active",
        "draft",
        False,
        Expect("active", 2, reason="invalid_transition: cannot go from active to draft"),
    ),
    (
        "paused -> draft with new content",
        "paused",
        "draft",
        True,
        Expect(
            "paused",
            4,
            imported=1,
            reason="invalid_transition: cannot go from paused to draft (allowed: active, "
            "archived); status stays paused, content updated (version 4)",
            content_changed=True,
        ),
    ),
    # -- archived is final
    ("archived -> active", "archived", "active", False, Expect("archived", 3, reason="archived")),
    ("archived -> draft", "archived", "draft", False, Expect("archived", 3, reason="archived")),
    (
        "archived, new content",
        "archived",
        "archived",
        True,
        Expect("archived", 3, reason="archived: the campaign is archived (final)"),
    ),
    (
        "archived -> paused, new content",
        "archived",
        "paused",
        True,
        Expect("archived", 3, reason="archived"),
    ),
]


@pytest.mark.parametrize(
    ("before", "file_status", "changed", "expect"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_given_stored_campaign_when_file_imported_then_api_rules_apply(
    aws, before, file_status, changed, expect
):
    _given(before)
    previous = get_record(ID)
    result = import_campaigns(json.dumps([_entry(file_status, changed)]), "c.json", T1)
    record = get_record(ID)
    assert record is not None
    assert (record.status, record.version) == (expect.status, expect.version)
    assert (result.imported, result.unchanged) == (expect.imported, expect.unchanged)
    reasons = [r.reason for r in result.rejected]
    if expect.reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and reasons[0].startswith(expect.reason), reasons
        assert result.rejected[0].id == ID and result.rejected[0].line == 1
    assert (record.document["send_at_local"] == "10:30") is expect.content_changed
    if previous is not None and record.version == previous.version:
        assert record == previous  # nothing written at all: not even updated_at


def test_given_active_campaign_when_its_content_is_reimported_then_planning_state_kept(aws):
    _given("active")
    before = get_record(ID)
    import_campaigns(json.dumps([_entry("active", True)]), "c.json", T1)
    after = get_record(ID)
    assert before is not None and after is not None
    assert (after.activated_at, after.planned_through) == (
        before.activated_at,
        before.planned_through,
    )
    assert after.updated_at != before.updated_at


def test_given_file_when_imported_then_stored_as_the_api_stores_it(aws):
    import_campaigns(json.dumps([_entry("active", False)]), "c.json", T0)
    imported = get_record(ID)
    assert imported is not None
    from lifecycle.store.models import CampaignModel

    CampaignModel(campaign_id=ID).delete()  # again, the API's way: create, then activate
    create_campaign(BASE, T0)
    change_status(ID, "active", T0, expected_version=1)
    through_api = get_record(ID)
    assert through_api is not None
    assert (imported.document, imported.status, imported.version) == (
        through_api.document,
        through_api.status,
        through_api.version,
    )


# -- a whole file -------------------------------------------------------------------------
def _file() -> list[dict[str, Any]]:
    return [
        birthday_campaign("a-active"),
        birthday_campaign("b-paused", status="paused"),
        birthday_campaign("c-draft", status="draft"),
        birthday_campaign("d-archived", status="archived"),
    ]


def _versions() -> dict[str, tuple[str, int, str | None]]:
    records = {cid: get_record(cid) for cid in ("a-active", "b-paused", "c-draft", "d-archived")}
    return {cid: (r.status, r.version, r.updated_at) for cid, r in records.items() if r is not None}


def _s3_import(aws: Any, key: str, body: str) -> dict[str, Any]:
    bucket = aws.physical["ImportBucket"]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
    event = load_event("importer/s3_put_campaigns.json")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    handler = load_handler(aws.functions["ImporterFunction"])
    result: dict[str, Any] = handler(event, FakeLambdaContext(function_name="importer"))
    return result["results"][0]


def test_given_identical_file_when_imported_again_through_s3_then_nothing_changes(aws, clock):
    clock.set(T0)
    first = _s3_import(aws, "campaigns/all.json", json.dumps(_file()))
    assert (first["imported"], first["unchanged"], first["rejected"]) == (4, 0, [])
    before = _versions()
    clock.set(T1)
    again = _s3_import(aws, "campaigns/all.json", json.dumps(_file(), indent=2))
    assert (again["imported"], again["unchanged"], again["rejected"]) == (0, 4, [])
    assert _versions() == before


def test_given_locales_reordered_when_imported_then_a_change(aws):
    two = {"en": {"subject": "Hi", "text": "Hello"}, "de": {"subject": "Hallo", "text": "Hallo"}}
    swapped = dict(reversed(list(two.items())))  # the first locale is the fallback
    import_campaigns(json.dumps([birthday_campaign(ID, content={"email": two})]), "c", T0)
    result = import_campaigns(
        json.dumps([birthday_campaign(ID, content={"email": swapped})]), "c", T1
    )
    assert result.imported == 1
    record = get_record(ID)
    assert record is not None and list(record.document["content"]["email"]) == ["de", "en"]


def test_given_bad_and_refused_campaigns_among_good_ones_when_imported_then_each_reported(aws):
    create_campaign(birthday_campaign("old", status="draft"), T0)
    change_status("old", "archived", T0, expected_version=1)
    entries = [
        birthday_campaign("good"),  # line 2
        birthday_campaign("broken", send_at_local="25:00"),  # 3: invalid
        birthday_campaign("old", status="active"),  # 4: archived
        birthday_campaign("twice", status="draft"),  # 5: repeated below, loses
        birthday_campaign("twice", status="active", name="second"),  # 6: wins
        {"campaign_id": "no-content"},  # 7: invalid
        birthday_campaign("old", status="archived"),  # 8: archived, identical: fine
    ]
    text = "[\n" + ",\n".join(json.dumps(entry) for entry in entries) + "\n]\n"
    result = import_campaigns(text, "c.json", T1)
    assert [(r.line, r.id, r.reason.split(":")[0]) for r in result.rejected] == [
        (3, "broken", "send_at_local"),
        (7, "no-content", "name"),
    ]
    assert [(w.line, w.reason) for w in result.warnings] == [
        (6, "campaign_id: repeats line 5; this one wins"),
        (8, "campaign_id: repeats line 4; this one wins"),
    ]
    assert (result.imported, result.unchanged) == (2, 1)  # good, twice; old (identical)
    twice = get_record("twice")
    assert twice is not None and (twice.status, twice.version) == ("active", 2)
    assert twice.document["name"] == "second"
    assert get_record("broken") is None and get_record("no-content") is None


def test_given_campaign_changed_by_someone_else_meanwhile_when_imported_then_version_conflict(
    aws, monkeypatch
):
    _given("active")
    stale = repository.get_stored(ID)
    change_status(ID, "paused", T0, expected_version=2)  # the API, while the file is read
    monkeypatch.setattr("lifecycle.features.importer.get_stored", lambda _id: stale)
    result = import_campaigns(json.dumps([_entry("active", True)]), "c.json", T1)
    assert [r.reason.split(";")[0] for r in result.rejected] == [
        "version_conflict: the campaign changed while importing"
    ]
    record = get_record(ID)
    assert record is not None and (record.status, record.version) == ("paused", 3)
    assert record.document["send_at_local"] == "09:00"


def test_given_new_version_saved_meanwhile_when_imported_then_version_conflict(aws, monkeypatch):
    _given("paused")
    stale = repository.get_stored(ID)
    assert stale is not None
    repository.replace_campaign(ID, {**BASE, "status": "paused", "name": "x"}, T0, 3)
    monkeypatch.setattr("lifecycle.features.importer.get_stored", lambda _id: stale)
    result = import_campaigns(json.dumps([_entry("paused", True)]), "c.json", T1)
    assert [r.reason.split(":")[0] for r in result.rejected] == ["version_conflict"]
    record = get_record(ID)
    assert record is not None and (record.version, record.document["name"]) == (4, "x")
