"""``/campaigns`` and ``/dry-run``: create, read, list, replace, delete, validate, move
through the lifecycle, and try a campaign out (preview, dry run, estimate, test send).

* Validation on save lists every problem by field (422 ``{"errors": [{field, message}]}``).
* Optimistic concurrency: every campaign has a ``version``; replacing, changing the status
  and deleting need the version read (``"version"`` in the body or ``If-Match``), else 428;
  a stale version answers 409 with the current one.
* Lifecycle: new campaigns are ``draft``; ``POST /campaigns/{id}/status`` moves draft ->
  active -> paused -> active, and anything to ``archived`` (final). Only drafts can be deleted.

Routes only translate: the rules live in :mod:`lifecycle.campaigns.repository` and
:mod:`lifecycle.features`; errors are raised and answered in :mod:`lifecycle.api.common`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import TypeAdapter

from lifecycle.api.common import (
    InvalidFieldsError,
    campaign_response,
    decode_cursor,
    encode_cursor,
    expected_version,
    responses,
)
from lifecycle.api.models import (
    CampaignDocument,
    CampaignPage,
    CampaignStats,
    CampaignSummary,
    CampaignView,
    DryRunRequest,
    DryRunResult,
    Estimate,
    FieldProblem,
    PreviewRequest,
    Rendering,
    StatusChange,
    TestSendRequest,
    TestSendResult,
    ValidationReport,
    VersionedCampaignDocument,
)
from lifecycle.campaigns.model import (
    Campaign,
    CampaignError,
    CampaignStatus,
    FieldError,
    parse_campaign,
)
from lifecycle.campaigns.repository import (
    change_status,
    create_campaign,
    delete_campaign,
    list_page,
    list_stored,
    quiet_hours_errors,
    replace_campaign,
    require_stored,
    stored_policy,
)
from lifecycle.core.aws import client
from lifecycle.core.clock import get_clock, utc_iso
from lifecycle.core.observability import logger
from lifecycle.core.secrets import signing_keys
from lifecycle.core.settings import get_settings
from lifecycle.features.dryrun import dry_run, estimate, preview
from lifecycle.features.insights import campaign_stats
from lifecycle.features.test_send import test_send
from lifecycle.pipeline.sender import SendDependencies
from lifecycle.rules.records import normalize_email, normalize_phone
from lifecycle.store.customers import get_customer

router = Router()
_RENDERING: TypeAdapter[Rendering] = TypeAdapter(Rendering)
_TEST_SEND_RESULT: TypeAdapter[TestSendResult] = TypeAdapter(TestSendResult)
TAGS = ["campaigns"]
TRY_TAGS = ["trying campaigns out"]

CampaignId = Annotated[str, Path(description="The campaign's `campaign_id`.")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The version you read, as in the ETag (`"3"`); or send body `version`.',
    ),
]


@router.post(
    "/campaigns/validate",
    summary="Check a campaign without saving it",
    description=(
        "Runs every check a save runs (structure first, then templates) and reports all "
        "problems by field. Nothing is stored; `version` and unknown fields are ignored."
    ),
    operation_id="validateCampaign",
    tags=TAGS,
    responses=responses("The verdict (also when invalid).", 400, 415),
)
def validate(
    document: Annotated[CampaignDocument, Body(description="The campaign to check.")],
) -> ValidationReport:
    try:
        campaign = parse_campaign(_without_version(document))
    except CampaignError as exc:
        return ValidationReport(valid=False, errors=_problems(exc.errors), warnings=[])
    # The save's own last check: the send time against the channels' quiet hours.
    quiet = quiet_hours_errors(campaign, stored_policy())
    if quiet:
        return ValidationReport(valid=False, errors=_problems(quiet), warnings=[])
    warnings = [f"ignored unknown field {f}" for f in campaign.unknown_fields]
    return ValidationReport(valid=True, errors=[], warnings=warnings)


@router.post(
    "/campaigns",
    summary="Create a campaign (as a draft)",
    description=(
        "Validates and stores a new campaign at version 1. It always starts as `draft` "
        "(`status` may be omitted); activate it with `POST /campaigns/{campaign_id}/status`."
    ),
    operation_id="createCampaign",
    tags=TAGS,
    status_code=201,
    responses=responses(
        "Created; `ETag` is its version.", 400, 409, 415, 422, status=201, etag=True
    ),
)
def create(
    document: Annotated[CampaignDocument, Body(description="The new campaign.")],
) -> Response[CampaignView]:
    stored = create_campaign(_without_version(document), get_clock().now())
    logger.info("campaign created", extra={"campaign_id": stored.campaign.campaign_id})
    return campaign_response(stored, 201)


@router.get(
    "/campaigns",
    summary="List campaigns, a page at a time",
    description=(
        "Summaries (no content) in table order, optionally of one status. Pass the "
        "`next_token` of a page to read the next; it is `null` on the last page."
    ),
    operation_id="listCampaigns",
    tags=TAGS,
    responses=responses("One page of campaigns.", 422),
)
def list_all(
    status: Annotated[CampaignStatus | None, Query(description="Only this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 50,
    next_token: Annotated[
        str | None, Query(max_length=1024, description="From the previous page.")
    ] = None,
) -> CampaignPage:
    after = decode_cursor(next_token) if next_token is not None else None
    page, last = list_page(status, limit, after)
    items = [
        CampaignSummary(
            campaign_id=s.campaign.campaign_id,
            name=s.campaign.name,
            status=s.campaign.status,
            occasion=s.campaign.occasion.type,
            channels=s.campaign.channels,
            category=s.campaign.category,
            topic=s.campaign.topic,
            version=s.version,
            updated_at=s.updated_at,
        )
        for s in page
    ]
    return CampaignPage(items=items, next_token=encode_cursor(last) if last else None)


@router.get(
    "/campaigns/<campaign_id>",
    summary="Read a campaign",
    description="The stored document, its `version` (also the `ETag`) and when it changed.",
    operation_id="getCampaign",
    tags=TAGS,
    responses=responses("The campaign.", 404, etag=True),
)
def read(campaign_id: CampaignId) -> Response[CampaignView]:
    return campaign_response(require_stored(campaign_id))


@router.put(
    "/campaigns/<campaign_id>",
    summary="Replace a campaign's document",
    description=(
        "Sends the whole document with the version it replaces (body `version` or "
        "`If-Match`). `campaign_id` and `status` cannot change here; archived campaigns "
        "cannot change at all."
    ),
    operation_id="replaceCampaign",
    tags=TAGS,
    responses=responses("Replaced; the new version.", 400, 404, 409, 415, 422, 428, etag=True),
)
def replace(
    campaign_id: CampaignId,
    document: Annotated[VersionedCampaignDocument, Body(description="The new document.")],
    if_match: IfMatch = None,
) -> Response[CampaignView]:
    expected = expected_version(_version_field(document), if_match)
    stored = replace_campaign(campaign_id, _without_version(document), get_clock().now(), expected)
    return campaign_response(stored)


@router.post(
    "/campaigns/<campaign_id>/status",
    summary="Activate, pause or archive a campaign",
    description=(
        "draft -> active -> paused -> active ..., and any status -> archived (final). "
        "Other moves answer 409 `invalid_transition`."
    ),
    operation_id="changeCampaignStatus",
    tags=TAGS,
    responses=responses("Moved; the new version.", 400, 404, 409, 415, 422, 428, etag=True),
)
def set_status(
    campaign_id: CampaignId,
    change: Annotated[StatusChange, Body(description="The new status and your version.")],
    if_match: IfMatch = None,
) -> Response[CampaignView]:
    expected = expected_version(change.version, if_match)
    change_status(campaign_id, change.status, get_clock().now(), expected)
    logger.info(
        "campaign status changed", extra={"campaign_id": campaign_id, "status": change.status}
    )
    return campaign_response(require_stored(campaign_id))


@router.delete(
    "/campaigns/<campaign_id>",
    summary="Delete a draft",
    description=(
        "Only drafts can be deleted; campaigns that ever ran are archived instead, so "
        "their history stays. Needs `If-Match`."
    ),
    operation_id="deleteCampaign",
    tags=TAGS,
    status_code=204,
    responses=responses("Deleted.", 404, 409, 422, 428, status=204),
)
def remove(campaign_id: CampaignId, if_match: IfMatch = None) -> Response[None]:
    delete_campaign(campaign_id, expected_version(None, if_match))
    return Response(status_code=204, body=None)


@router.get(
    "/campaigns/<campaign_id>/stats",
    summary="Delivery results of a campaign",
    description=(
        "Planned, sent, pending, skipped and failed (by reason), sent per channel, test "
        "sends; delivered, bounced and complained as SES reported them, with their rates and "
        "the last automatic pause for complaints; NPS/CSAT for survey campaigns."
    ),
    operation_id="getCampaignStats",
    tags=TAGS,
    responses=responses("The counts.", 404),
)
def stats(campaign_id: CampaignId) -> CampaignStats:
    require_stored(campaign_id)
    return CampaignStats.model_validate(campaign_stats(campaign_id))


@router.post(
    "/campaigns/<campaign_id>/dry-run",
    summary="Dry-run one campaign",
    description=(
        "Who would get which message when in the period, and who is excluded and why. "
        "A draft runs as if active. Nothing is written or sent."
    ),
    operation_id="dryRunCampaign",
    tags=TRY_TAGS,
    responses=responses("Messages and exclusions.", 400, 404, 415, 422),
)
def dry_run_one(
    campaign_id: CampaignId, period: Annotated[DryRunRequest, Body(description="The period.")]
) -> DryRunResult:
    stored = require_stored(campaign_id)
    return _dry_run([stored.campaign.model_copy(update={"status": "active"})], period)


@router.post(
    "/dry-run",
    summary="Dry-run every active campaign",
    description=(
        "As the dry run of one campaign, for all active campaigns together (the local "
        "runner's `dry-run` command calls this)."
    ),
    operation_id="dryRunActive",
    tags=TRY_TAGS,
    responses=responses("Messages and exclusions.", 400, 415, 422),
)
def dry_run_all(
    period: Annotated[DryRunRequest, Body(description="The period.")],
) -> DryRunResult:
    return _dry_run([s.campaign for s in list_stored("active")], period)


@router.post(
    "/campaigns/<campaign_id>/preview",
    summary="Render a campaign for one customer",
    description=(
        "The message in the customer's language (or the campaign's first) with sample "
        "occasion data. Nothing is stored or sent."
    ),
    operation_id="previewCampaign",
    tags=TRY_TAGS,
    responses=responses("The rendered message.", 400, 404, 415, 422),
)
def preview_one(
    campaign_id: CampaignId,
    request: Annotated[PreviewRequest, Body(description="Whom to render it for.")],
) -> Rendering:
    return render_for(require_stored(campaign_id).campaign, request.customer_id, request.channel)


def render_for(campaign: Campaign, customer_id: str, channel: str | None) -> Rendering:
    """``campaign`` rendered for an existing customer on ``channel`` (default: its first);
    422 on ``customer_id`` or ``channel`` otherwise. Nothing is stored or sent."""
    customer = get_customer(customer_id)
    if customer is None:
        raise InvalidFieldsError.one("customer_id", "no such customer")
    settings = get_settings()
    rendered = preview(
        campaign,
        customer,
        _channel(campaign, channel),
        signing_keys(settings),
        settings,
        get_clock().now(),
    )
    return _RENDERING.validate_python(rendered)


@router.get(
    "/campaigns/<campaign_id>/estimate",
    summary="Estimate a campaign's reach today",
    description=(
        "Customers, those in the audience, and those reachable per channel (consent and "
        "contact data) today. Reads every customer (a Scan)."
    ),
    operation_id="estimateCampaign",
    tags=TRY_TAGS,
    responses=responses("The counts.", 404),
)
def estimate_one(campaign_id: CampaignId) -> Estimate:
    campaign = require_stored(campaign_id).campaign
    return Estimate.model_validate(estimate(campaign, get_clock().now()))


@router.post(
    "/campaigns/<campaign_id>/test-send",
    summary="Send one test message",
    description=(
        "Sends the rendered message, subject prefixed `[TEST]`, to a test address. The "
        "ledger item is marked `test` and left out of the stats."
    ),
    operation_id="testSendCampaign",
    tags=TRY_TAGS,
    responses=responses("Sent.", 400, 404, 415, 422, 502),
)
def test_send_one(
    campaign_id: CampaignId,
    request: Annotated[TestSendRequest, Body(description="Where to send it.")],
) -> TestSendResult:
    campaign = require_stored(campaign_id).campaign
    channel = _channel(campaign, request.channel)
    try:
        to = normalize_email(request.to) if channel == "email" else normalize_phone(request.to)
    except ValueError as exc:
        raise InvalidFieldsError.one("to", str(exc)) from None
    result = test_send(campaign, channel, to, request.customer_id, _deps(), get_clock().now())
    return _TEST_SEND_RESULT.validate_python(result)


# ---------------------------------------------------------------- helpers


def _problems(errors: list[FieldError]) -> list[FieldProblem]:
    return [FieldProblem(field=e.field, message=e.message) for e in errors]


def _without_version(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "version"}


def _version_field(document: dict[str, Any]) -> int | None:
    """The body's ``version`` (the document is free-form, so checked here)."""
    value = document.get("version")
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidFieldsError.one("version", "must be an integer")
    try:
        return int(str(value))
    except ValueError:
        raise InvalidFieldsError.one("version", "must be an integer") from None


def _channel(campaign: Campaign, requested: str | None) -> str:
    channel = requested or campaign.channels[0]
    if channel not in campaign.channels:
        raise InvalidFieldsError.one("channel", "not a channel of this campaign")
    return channel


def _deps() -> SendDependencies:
    settings = get_settings()
    return SendDependencies(
        settings=settings,
        key=signing_keys(settings),
        sesv2=client("sesv2"),
        events=None,
        sns=client("sns"),
    )


def _dry_run(campaigns: list[Campaign], period: DryRunRequest) -> DryRunResult:
    start = datetime.combine(period.start, datetime.min.time(), UTC)
    end = datetime.combine(period.end, datetime.min.time(), UTC)
    plans, excluded = dry_run(
        campaigns, start, end, _deps(), country_shards=get_settings().country_shards
    )
    return DryRunResult.model_validate(
        {"from": utc_iso(start), "to": utc_iso(end), "messages": plans, "excluded": excluded}
    )
