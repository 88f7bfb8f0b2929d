"""template.yaml: the import bucket keeps nothing personal for long, the importer may delete.

Import files and reports hold personal data or customer ids: the importer deletes each file
(every version) once imported, and a lifecycle rule removes whatever is left within a day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
BUCKET = RESOURCES["ImportBucket"]["Properties"]
IMPORTER_STATEMENTS = [
    statement
    for policy in RESOURCES["ImporterFunction"]["Properties"]["Policies"]
    for statement in policy.get("Statement", [])
]


def _resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    items = value if isinstance(value, list) else [value]
    return [str(item.get("Fn::Sub", item)) if isinstance(item, dict) else item for item in items]


def _statements_with(action: str) -> list[dict[str, Any]]:
    return [s for s in IMPORTER_STATEMENTS if action in s["Action"]]


def test_given_import_bucket_when_read_then_versioned_and_everything_expires_within_a_day():
    assert BUCKET["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = BUCKET["LifecycleConfiguration"]["Rules"]
    everything = [r for r in rules if r["Status"] == "Enabled" and not r.get("Prefix")]
    assert "Filter" not in everything[0]  # the whole bucket: imports, reports, stray files
    assert everything[0]["ExpirationInDays"] == 1
    assert everything[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert everything[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_given_importer_when_template_read_then_it_may_delete_every_version_of_import_files():
    deletes = _statements_with("s3:DeleteObjectVersion")
    assert len(deletes) == 1 and "s3:DeleteObject" in deletes[0]["Action"]
    assert sorted(r.rsplit("/", 2)[-2] for r in _resources(deletes[0])) == [
        "campaigns",
        "customers",
    ]
    (listing,) = _statements_with("s3:ListBucketVersions")
    assert _resources(listing)[0].endswith("-imports-${AWS::AccountId}")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["customers/*", "campaigns/*"]}}


def test_given_importer_when_template_read_then_it_never_deletes_reports_or_other_prefixes():
    for statement in IMPORTER_STATEMENTS:
        if any(action.startswith("s3:Delete") for action in statement["Action"]):
            assert all(r.endswith(("/customers/*", "/campaigns/*")) for r in _resources(statement))
