"""``/campaigns``: create, read, list, update, delete, validate and move through the lifecycle.

* Validation on save lists every problem by field (422 ``{"errors": [{field, message}]}``).
* Optimistic concurrency: every campaign has a ``version``; updates, status changes and
  deletes must send the version they read (``"version"`` in the body or ``If-Match``), else
  428; a stale version answers 409 with the current one.
* Lifecycle: new campaigns are ``draft``; ``POST /campaigns/{id}/status`` moves draft ->
  active -> paused -> active, and anything to ``archived`` (final). Only drafts can be deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from lifecycle.campaigns.model import CampaignError, FieldError, parse_campaign
from lifecycle.campaigns.repository import (
    TRANSITIONS,
    CampaignConflictError,
    CampaignStateError,
    StoredCampaign,
    change_status,
    delete_campaign,
    get_stored,
    list_stored,
    save_campaign,
)
from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock, utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.secrets import signing_key
from lifecycle.core.settings import get_settings
from lifecycle.features.dryrun import as_dicts, dry_run, estimate, preview, test_send
from lifecycle.features.insights import campaign_stats
from lifecycle.messages.channels.email import ProviderError
from lifecycle.pipeline.sender import SendDependencies
from lifecycle.rules.records import normalize_email, normalize_phone
from lifecycle.rules.templates import RenderError
from lifecycle.store.customers import get_customer

router = Router()
JSON = "application/json"
MAX_DRY_RUN_DAYS = 92


def _respond(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers or {},
    )


def _errors(status: int, errors: list[FieldError]) -> Response[str]:
    return _respond(status, {"errors": [{"field": e.field, "message": e.message} for e in errors]})


def _problem(status: int, code: str, message: str, **extra: Any) -> Response[str]:
    return _respond(status, {"error": code, "message": message, **extra})


def _not_found(campaign_id: str) -> Response[str]:
    return _problem(404, "not_found", f"no campaign {campaign_id}")


def _conflict(exc: CampaignConflictError) -> Response[str]:
    return _problem(
        409,
        "version_conflict",
        "the campaign changed since you read it",
        current_version=exc.current_version,
    )


def _view(stored: StoredCampaign, status: int = 200) -> Response[str]:
    body = {
        "campaign": stored.campaign.document(),
        "version": stored.version,
        "updated_at": stored.updated_at,
    }
    return _respond(status, body, {"ETag": f'"{stored.version}"'})


def _body() -> dict[str, Any] | Response[str]:
    raw = router.current_event.body or ""
    try:
        data = json.loads(raw) if raw else None
    except json.JSONDecodeError as exc:
        return _errors(400, [FieldError("body", f"not valid JSON ({exc.msg})")])
    if not isinstance(data, dict):
        return _errors(400, [FieldError("body", "must be a JSON object")])
    return data


def _expected_version(body: dict[str, Any]) -> int | Response[str]:
    header = router.current_event.headers.get("If-Match") or router.current_event.headers.get(
        "if-match"
    )
    value = body.pop("version", None)
    if value is None and header:
        value = header.strip().strip('"')
    if value is None:
        return _problem(
            428, "version_required", "send the version you read (body 'version' or If-Match)"
        )
    try:
        return int(value)
    except (TypeError, ValueError):
        return _errors(400, [FieldError("version", "must be an integer")])


def _versioned_body() -> tuple[dict[str, Any], int] | Response[str]:
    """The JSON body and the version the caller read (body ``version`` or ``If-Match``)."""
    body = _body()
    if isinstance(body, Response):
        return body
    expected = _expected_version(body)
    if isinstance(expected, Response):
        return expected
    return body, expected


@router.post("/campaigns/validate")
def validate() -> Response[str]:
    body = _body()
    if isinstance(body, Response):
        return body
    body.pop("version", None)
    try:
        campaign = parse_campaign(body)
    except CampaignError as exc:
        return _respond(
            200,
            {
                "valid": False,
                "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
            },
        )
    return _respond(
        200,
        {
            "valid": True,
            "errors": [],
            "warnings": [f"ignored unknown field {f}" for f in campaign.unknown_fields],
        },
    )


@router.post("/campaigns")
def create() -> Response[str]:
    body = _body()
    if isinstance(body, Response):
        return body
    body.pop("version", None)
    if body.get("status", "draft") != "draft":
        return _errors(
            422,
            [
                FieldError(
                    "status",
                    "new campaigns start as draft; activate with POST /campaigns/{id}/status",
                )
            ],
        )
    body["status"] = "draft"
    try:
        campaign = parse_campaign(body)
        save_campaign(campaign, get_clock().now(), must_not_exist=True)
    except CampaignError as exc:
        return _errors(422, exc.errors)
    except CampaignConflictError:
        return _problem(409, "already_exists", f"campaign {body.get('campaign_id')} exists")
    stored = get_stored(campaign.campaign_id)
    assert stored is not None
    logger.info("campaign created", extra={"campaign_id": campaign.campaign_id})
    return _view(stored, 201)


@router.get("/campaigns")
def list_all() -> Response[str]:
    status = router.current_event.get_query_string_value("status")
    if status and status not in TRANSITIONS:
        return _errors(400, [FieldError("status", f"must be one of {', '.join(TRANSITIONS)}")])
    items = [
        {
            "campaign_id": s.campaign.campaign_id,
            "name": s.campaign.name,
            "status": s.campaign.status,
            "occasion": s.campaign.occasion.type,
            "channels": s.campaign.channels,
            "version": s.version,
            "updated_at": s.updated_at,
        }
        for s in list_stored(status)
    ]
    return _respond(200, {"campaigns": items})


@router.get("/campaigns/<campaign_id>")
def read(campaign_id: str) -> Response[str]:
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    return _view(stored)


@router.put("/campaigns/<campaign_id>")
def replace(campaign_id: str) -> Response[str]:
    parsed = _versioned_body()
    if isinstance(parsed, Response):
        return parsed
    body, expected = parsed
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    if body.setdefault("campaign_id", campaign_id) != campaign_id:
        return _errors(422, [FieldError("campaign_id", "does not match the URL")])
    if body.setdefault("status", stored.campaign.status) != stored.campaign.status:
        return _errors(
            422, [FieldError("status", "change the status with POST /campaigns/{id}/status")]
        )
    if stored.campaign.status == "archived":
        return _problem(409, "archived", "archived campaigns cannot change")
    try:
        save_campaign(parse_campaign(body), get_clock().now(), expected_version=expected)
    except CampaignError as exc:
        return _errors(422, exc.errors)
    except CampaignConflictError as exc:
        return _conflict(exc)
    updated = get_stored(campaign_id)
    assert updated is not None
    return _view(updated)


@router.post("/campaigns/<campaign_id>/status")
def set_status(campaign_id: str) -> Response[str]:
    parsed = _versioned_body()
    if isinstance(parsed, Response):
        return parsed
    body, expected = parsed
    status = body.get("status")
    if status not in TRANSITIONS:
        return _errors(422, [FieldError("status", f"must be one of {', '.join(TRANSITIONS)}")])
    try:
        change_status(campaign_id, status, get_clock().now(), expected)
    except KeyError:
        return _not_found(campaign_id)
    except CampaignStateError as exc:
        return _problem(409, "invalid_transition", str(exc))
    except CampaignConflictError as exc:
        return _conflict(exc)
    stored = get_stored(campaign_id)
    assert stored is not None
    logger.info("campaign status changed", extra={"campaign_id": campaign_id, "status": status})
    return _view(stored)


@router.get("/campaigns/<campaign_id>/stats")
def stats(campaign_id: str) -> Response[str]:
    if get_stored(campaign_id) is None:
        return _not_found(campaign_id)
    return _respond(200, campaign_stats(campaign_id))


def _period(body: dict[str, Any]) -> tuple[datetime, datetime] | Response[str]:
    try:
        start = datetime.fromisoformat(str(body["from"])).replace(tzinfo=UTC)
        end = datetime.fromisoformat(str(body["to"])).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return _errors(422, [FieldError("from", "from and to are dates YYYY-MM-DD (UTC)")])
    if not start < end <= start + timedelta(days=MAX_DRY_RUN_DAYS):
        return _errors(
            422, [FieldError("to", f"must be after from, at most {MAX_DRY_RUN_DAYS} days")]
        )
    return start, end


def _deps() -> SendDependencies:
    settings = get_settings()
    return SendDependencies(
        settings=settings,
        key=signing_key(settings),
        sesv2=client("sesv2"),
        events=None,
        sns=client("sns"),
    )


def _dry_run(campaigns: list[Any]) -> Response[str]:
    body = _body()
    if isinstance(body, Response):
        return body
    period = _period(body)
    if isinstance(period, Response):
        return period
    plans, excluded = dry_run(
        campaigns, period[0], period[1], _deps(), country_shards=get_settings().country_shards
    )
    return _respond(
        200,
        {
            "from": utc_iso(period[0]),
            "to": utc_iso(period[1]),
            "messages": as_dicts(plans),
            "excluded": as_dicts(excluded),
        },
    )


@router.post("/campaigns/<campaign_id>/dry-run")
def dry_run_one(campaign_id: str) -> Response[str]:
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    # A draft can be dry-run as if it were active.
    return _dry_run([stored.campaign.model_copy(update={"status": "active"})])


@router.post("/dry-run")
def dry_run_all() -> Response[str]:
    return _dry_run([s.campaign for s in list_stored("active")])


@router.post("/campaigns/<campaign_id>/preview")
def preview_one(campaign_id: str) -> Response[str]:
    body = _body()
    if isinstance(body, Response):
        return body
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    customer = get_customer(str(body.get("customer_id", "")))
    if customer is None:
        return _errors(422, [FieldError("customer_id", "no such customer")])
    channel = body.get("channel", stored.campaign.channels[0])
    if channel not in stored.campaign.channels:
        return _errors(422, [FieldError("channel", "not a channel of this campaign")])
    settings = get_settings()
    try:
        rendered = preview(
            stored.campaign,
            customer,
            channel,
            signing_key(settings),
            settings.public_base_url,
            get_clock().now(),
        )
    except RenderError as exc:
        return _errors(422, [FieldError(exc.field, exc.message)])
    return _respond(200, rendered)


@router.get("/campaigns/<campaign_id>/estimate")
def estimate_one(campaign_id: str) -> Response[str]:
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    return _respond(200, estimate(stored.campaign, get_clock().now()))


@router.post("/campaigns/<campaign_id>/test-send")
def test_send_one(campaign_id: str) -> Response[str]:
    body = _body()
    if isinstance(body, Response):
        return body
    stored = get_stored(campaign_id)
    if stored is None:
        return _not_found(campaign_id)
    channel = body.get("channel", stored.campaign.channels[0])
    if channel not in stored.campaign.channels:
        return _errors(422, [FieldError("channel", "not a channel of this campaign")])
    to = str(body.get("to", ""))
    try:
        to = normalize_email(to) if channel == "email" else normalize_phone(to)
    except ValueError as exc:
        return _errors(422, [FieldError("to", str(exc))])
    try:
        result = test_send(
            stored.campaign, channel, to, body.get("customer_id"), _deps(), get_clock().now()
        )
    except RenderError as exc:
        return _errors(422, [FieldError(exc.field, exc.message)])
    except ProviderError as exc:
        return _problem(502, "provider_error", str(exc))
    return _respond(200, result)


@router.delete("/campaigns/<campaign_id>")
def remove(campaign_id: str) -> Response[str]:
    expected = _expected_version({})
    if isinstance(expected, Response):
        return expected
    try:
        delete_campaign(campaign_id, expected)
    except KeyError:
        return _not_found(campaign_id)
    except CampaignStateError as exc:
        return _problem(409, "invalid_transition", str(exc))
    except CampaignConflictError as exc:
        return _conflict(exc)
    return Response(status_code=204, content_type=JSON, body="")
