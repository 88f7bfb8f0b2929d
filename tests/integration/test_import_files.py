"""What an S3 import leaves behind: no file, and a report without personal data.

The real importer function on moto with the S3 event shape of ``events/importer``; the bucket
is versioned as ``template.yaml`` declares it, so deleting a file must delete every version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator.template import FakeLambdaContext, load_handler, load_template
from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import discard_import_file, import_customers
from lifecycle.store.customers import get_customer
from tests.builders import birthday_campaign, customer_doc
from tests.events import load_event

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 3, 13, 9, 0, tzinfo=UTC)
KEY = "customers/2027-03-01.jsonl"


@pytest.fixture
def bucket(aws: Any, clock: Any) -> Iterator[str]:
    """The import bucket, versioned as template.yaml declares."""
    clock.set(T0)
    name: str = aws.physical["ImportBucket"]
    properties = load_template(ROOT / "template.yaml")["Resources"]["ImportBucket"]["Properties"]
    status = properties["VersioningConfiguration"]["Status"]
    boto3.client("s3").put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": status}
    )
    yield name


def _run_importer(aws: Any, bucket: str, key: str, event_name: str = "s3_put_customers.json"):
    event = load_event(f"importer/{event_name}")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    handler = load_handler(aws.functions["ImporterFunction"])
    result: dict[str, Any] = handler(event, FakeLambdaContext(function_name="importer"))
    return result["results"][0]


def _versions(bucket: str, key: str) -> list[dict[str, Any]]:
    """Every version and delete marker of exactly ``key``."""
    answer = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    entries = answer.get("Versions", []) + answer.get("DeleteMarkers", [])
    return [entry for entry in entries if entry["Key"] == key]


def _put(bucket: str, key: str, body: str | bytes) -> str:
    data = body.encode() if isinstance(body, str) else body
    version: str = boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)["VersionId"]
    return version


def _report(bucket: str, key: str) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"]
    report: dict[str, Any] = json.loads(body.read())
    return report


GOOD = json.dumps(customer_doc("c-001", first_name="Ana")) + "\n"


# -- the file is deleted ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "body", "event_name"),
    [
        pytest.param(KEY, GOOD, "s3_put_customers.json", id="customers JSON Lines"),
        pytest.param(
            "customers/list.csv",
            "customer_id,email\nc-001,ana@example.com\n",
            "s3_put_customers.json",
            id="customers CSV",
        ),
        pytest.param(
            "campaigns/all.json",
            json.dumps([birthday_campaign()]),
            "s3_put_campaigns.json",
            id="campaigns",
        ),
        pytest.param(KEY, b"\xff\xfe not text", "s3_put_customers.json", id="unreadable lines"),
        pytest.param(
            "campaigns/broken.json", "{not a list", "s3_put_campaigns.json", id="unusable file"
        ),
        pytest.param("customers/empty.jsonl", "", "s3_put_customers.json", id="empty file"),
    ],
)
def test_given_uploaded_file_when_imported_then_every_version_of_it_is_deleted(
    aws, bucket, key, body, event_name
):
    _put(bucket, key, "an earlier upload of the same name, with personal data\n")
    _put(bucket, key, body)
    assert len(_versions(bucket, key)) == 2
    _run_importer(aws, bucket, key, event_name)
    assert _versions(bucket, key) == []  # no version, no delete marker hiding one
    assert "imported" in _report(bucket, key)


def test_given_other_files_when_one_imported_then_only_that_one_is_deleted(aws, bucket):
    for other in ("customers/2027-03-01.jsonl.bak", "customers/2027-03-02.jsonl"):
        _put(bucket, other, GOOD)
    _put(bucket, KEY, GOOD)
    _run_importer(aws, bucket, KEY)
    assert _versions(bucket, KEY) == []
    assert len(_versions(bucket, "customers/2027-03-01.jsonl.bak")) == 1
    assert len(_versions(bucket, "customers/2027-03-02.jsonl")) == 1


def test_given_newer_upload_while_importing_when_discarded_then_the_newer_one_stays(bucket):
    oldest = _put(bucket, KEY, "v1\n")
    imported = _put(bucket, KEY, "v2\n")
    newer = _put(bucket, KEY, "v3\n")  # uploaded after the importer read v2
    deleted = discard_import_file(boto3.client("s3"), bucket, KEY, imported)
    assert deleted == 2
    assert [v["VersionId"] for v in _versions(bucket, KEY)] == [newer]
    assert oldest not in [v["VersionId"] for v in _versions(bucket, KEY)]


def test_given_unversioned_bucket_when_discarded_then_the_file_is_deleted(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key=KEY, Body=b"x")
    version = s3.get_object(Bucket="plain", Key=KEY).get("VersionId")
    assert discard_import_file(s3, "plain", KEY, version) == 1
    assert s3.list_objects_v2(Bucket="plain").get("KeyCount") == 0


def test_given_file_imported_when_s3_delivers_its_event_again_then_skipped_and_report_kept(
    aws, bucket
):
    _put(bucket, KEY, GOOD)
    first = _run_importer(aws, bucket, KEY)
    again = _run_importer(aws, bucket, KEY)
    assert first["imported"] == 1
    assert again == {
        "key": KEY,
        "source": "2027-03-01.jsonl",
        "imported": 0,
        "rejected": [],
        "skipped": "file gone",
    }
    assert _report(bucket, KEY)["imported"] == 1  # the first report, not overwritten


def test_given_import_fails_when_tables_unavailable_then_file_kept_for_the_retry(aws, bucket):
    _put(bucket, KEY, GOOD)
    boto3.client("dynamodb").delete_table(TableName=aws.physical["CustomersTable"])
    with pytest.raises(Exception, match=r"ResourceNotFoundException|Requested resource"):
        _run_importer(aws, bucket, KEY)
    assert len(_versions(bucket, KEY)) == 1  # Lambda retries the event, then ImportDLQ


# -- the report keeps no personal data ----------------------------------------------------
PERSONAL = [
    "ana.lopez@example",
    "+49 151 not a number",
    "1990-02-30",
    "Mars/Olympus",
    "lena@@example.com",
    "ana lopez",
    "Ana",
]
LINES = [
    json.dumps(customer_doc("c-001", first_name="Ana")),  # 1: imported
    json.dumps(customer_doc("c-002", birthday="1990-02-30")),  # 2
    json.dumps(customer_doc("c-003", phone="+49 151 not a number")),  # 3
    json.dumps(customer_doc("c-004", email="lena@@example.com")),  # 4
    json.dumps(customer_doc("c-005", timezone="Mars/Olympus")),  # 5
    json.dumps(customer_doc("ana lopez <ana.lopez@example>")),  # 6: the id is refused
    json.dumps(customer_doc("c-erased")),  # 7: erased before this import
    '{"customer_id": "c-006", "email": "x@example.com", "nickname": "Ana"}',  # 8: warning
]


def test_given_customers_file_with_bad_lines_when_imported_then_report_has_ids_and_lines_only(
    aws, bucket
):
    import_customers([json.dumps(customer_doc("c-erased"))], "earlier.jsonl", T0)
    erase_customer("c-erased", T0)
    _put(bucket, KEY, "\n".join(LINES) + "\n")
    answer = _run_importer(aws, bucket, KEY)
    kept = _report(bucket, KEY)
    text = json.dumps(kept, ensure_ascii=False)
    assert [value for value in PERSONAL if value in text] == []
    assert [(r["line"], r["id"], r["reason"]) for r in kept["rejected"]] == [
        (2, "c-002", "birthday"),
        (3, "c-003", "phone"),
        (4, "c-004", "email"),
        (5, "c-005", "timezone"),
        (6, None, "customer_id"),
        (7, "c-erased", "erased"),
    ]
    assert [(w["line"], w["id"]) for w in kept["warnings"]] == [(8, "c-006")]
    assert (kept["imported"], kept["source"]) == (2, "2027-03-01.jsonl")
    # The function's answer (not kept anywhere) still has the full reasons.
    assert answer["rejected"][0]["reason"].startswith("birthday: 1990-02-30")
    assert get_customer("c-erased") is not None


def test_given_campaigns_file_when_imported_then_report_keeps_full_reasons(aws, bucket):
    broken = birthday_campaign("broken", send_at_local="25:00")
    _put(bucket, "campaigns/c.json", json.dumps([birthday_campaign(), broken]))
    _run_importer(aws, bucket, "campaigns/c.json", "s3_put_campaigns.json")
    rejected = _report(bucket, "campaigns/c.json")["rejected"]
    assert [r["id"] for r in rejected] == ["broken"]
    assert rejected[0]["reason"].startswith("send_at_local")
    assert ":" in rejected[0]["reason"]  # campaigns are no personal data: reasons stay
