"""``/customers``: bulk import (JSON Lines or CSV), history ("why"), erasure."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from lifecycle.api.common import BadRequestError, raw_body, require_customer, responses
from lifecycle.api.models import CustomerHistory, ImportReport
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger
from lifecycle.core.settings import get_settings
from lifecycle.features.erasure import ErasureReport, erase_customer
from lifecycle.features.importer import import_customers, split_lines, split_text
from lifecycle.features.insights import customer_history
from lifecycle.features.preferences import consent_history
from lifecycle.rules.records import CUSTOMER_ID_RE

router = Router()
TAGS = ["customers"]
CSV_TYPES = ("text/csv", "application/csv")

CustomerId = Annotated[str, Path(description="The customer's `customer_id`.")]

_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "One customer per line as JSON Lines (default), or CSV with a header row "
            "(`Content-Type: text/csv`): `customer_id`, customer fields, "
            "`consent_email`/`consent_sms` (true/false/yes/no/1/0), `attr_<name>`."
        ),
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/customers/import",
    summary="Import customers (JSON Lines or CSV)",
    description=(
        "Upserts every valid row; bad rows are listed with their line and reason and never "
        "stop the good ones. The row of an erased customer is rejected with reason `erased`: "
        "their data never comes back."
    ),
    operation_id="importCustomers",
    tags=TAGS,
    responses=responses(
        "What was imported and what was rejected.",
        400,
        bad_request="Empty body (`empty_body`) or unreadable file (`unreadable_file`).",
    ),
    openapi_extensions=_IMPORT_BODY,
)
def bulk_import(
    content_type: Annotated[
        str | None, Header(alias="Content-Type", include_in_schema=False)
    ] = None,
) -> ImportReport:
    # A base64 body stays bytes: each line is decoded on its own, so a line that is not
    # UTF-8 is rejected alone (as in an S3 upload).
    body = raw_body(router.current_event)
    if not body.strip():
        raise BadRequestError("empty_body", "send JSON Lines or CSV (text/csv) in the body")
    lines = split_lines(body) if isinstance(body, bytes) else split_text(body)
    media_type = (content_type or "").split(";")[0].strip().lower()
    source = "request.csv" if media_type in CSV_TYPES else "request.jsonl"
    result = import_customers(lines, source, get_clock().now(), get_settings().country_shards)
    logger.info(
        "customers imported", extra={"imported": result.imported, "rejected": len(result.rejected)}
    )
    return ImportReport(
        imported=result.imported, rejected=result.rejected, warnings=result.warnings
    )


@router.get(
    "/customers/<customer_id>/history",
    summary="Why a customer did or did not get a message",
    description=(
        "Every ledger entry of the customer with its status history. With `campaign_id` "
        "and nothing planned for it, `not_planned_because` lists the reasons (evaluated now). "
        "`consent_events`: every recorded consent change (what, when, how)."
    ),
    operation_id="getCustomerHistory",
    tags=TAGS,
    responses=responses("The customer's deliveries.", 400, 404, bad_request="Not a customer id."),
)
def history(
    customer_id: CustomerId,
    campaign_id: Annotated[str | None, Query(description="Only this campaign.")] = None,
) -> CustomerHistory:
    _check_id(customer_id)
    require_customer(customer_id)
    history = customer_history(customer_id, campaign_id)
    history["consent_events"] = consent_history(customer_id)
    return CustomerHistory.model_validate(history)


@router.delete(
    "/customers/<customer_id>",
    summary="Erase a customer's personal data",
    description=(
        "The customer becomes a tombstone (consent withdrawn, every channel unsubscribed); "
        "ledger items lose their context and queued ones are skipped as `erased`; survey "
        "answers lose comment and order id; the consent trail is deleted. Their survey, "
        "unsubscribe and preference links answer 410 and store nothing; later imports of the "
        "id are rejected (`erased`). Answers 200 "
        "also when the customer is unknown."
    ),
    operation_id="eraseCustomer",
    tags=TAGS,
    responses=responses("What was erased.", 400, bad_request="Not a customer id."),
)
def erase(customer_id: CustomerId) -> ErasureReport:
    _check_id(customer_id)
    report = erase_customer(customer_id, get_clock().now())
    logger.info("customer erased", extra={"customer_id": customer_id, **asdict(report)})
    return report


def _check_id(customer_id: str) -> None:
    if not CUSTOMER_ID_RE.match(customer_id):
        raise BadRequestError("bad_customer_id", "not a customer id")
