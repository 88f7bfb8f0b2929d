"""``/customers``: bulk import (JSON Lines or CSV), history ("why"), erasure."""

from __future__ import annotations

from dataclasses import asdict

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from lifecycle.api.campaigns import _problem, _respond
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger
from lifecycle.core.settings import get_settings
from lifecycle.features.erasure import erase_customer
from lifecycle.features.importer import ImportFileError, import_customers
from lifecycle.features.insights import customer_history
from lifecycle.rules.records import CUSTOMER_ID_RE

router = Router()
CSV_TYPES = ("text/csv", "application/csv")


@router.post("/customers/import")
def bulk_import() -> Response[str]:
    """Upsert customers; bad rows are listed with their line and never stop the good ones."""
    event = router.current_event
    content_type = (
        (event.headers.get("Content-Type") or event.headers.get("content-type") or "")
        .split(";")[0]
        .strip()
        .lower()
    )
    text = event.decoded_body or ""
    if not text.strip():
        return _problem(400, "empty_body", "send JSON Lines or CSV (text/csv) in the body")
    source = "request.csv" if content_type in CSV_TYPES else "request.jsonl"
    try:
        result = import_customers(
            text.splitlines(), source, get_clock().now(), get_settings().country_shards
        )
    except ImportFileError as exc:
        return _problem(400, "unreadable_file", str(exc))
    logger.info(
        "customers imported", extra={"imported": result.imported, "rejected": len(result.rejected)}
    )
    return _respond(
        200,
        {
            "imported": result.imported,
            "rejected": [asdict(r) for r in result.rejected],
            "warnings": [asdict(w) for w in result.warnings],
        },
    )


@router.get("/customers/<customer_id>/history")
def history(customer_id: str) -> Response[str]:
    if not CUSTOMER_ID_RE.match(customer_id):
        return _problem(400, "bad_customer_id", "not a customer id")
    campaign_id = router.current_event.get_query_string_value("campaign_id")
    return _respond(200, customer_history(customer_id, campaign_id))


@router.delete("/customers/<customer_id>")
def erase(customer_id: str) -> Response[str]:
    """Erase personal data; keep a tombstone so the person stays suppressed."""
    if not CUSTOMER_ID_RE.match(customer_id):
        return _problem(400, "bad_customer_id", "not a customer id")
    report = erase_customer(customer_id, get_clock().now())
    logger.info("customer erased", extra={"customer_id": customer_id, **asdict(report)})
    return _respond(200, asdict(report))
