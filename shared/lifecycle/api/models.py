"""What the marketer API accepts and answers: the request and response bodies as models.

The routes declare these in their signatures, so Powertools validates requests against them
and the OpenAPI document describes them. Campaign documents are the exception: they stay
free-form JSON objects on the way in (``CampaignDocument``) because
:func:`lifecycle.campaigns.model.parse_campaign` validates them and names every bad field;
the document still describes them with the ``Campaign`` schema.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from lifecycle.campaigns.model import Campaign, CampaignStatus, Channel
from lifecycle.features.dryrun import Exclusion, PlannedMessage
from lifecycle.features.importer import Rejection

MAX_DRY_RUN_DAYS = 92
CAMPAIGN_SCHEMA_REF = "#/components/schemas/Campaign"

CampaignDocument = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "allOf": [{"$ref": CAMPAIGN_SCHEMA_REF}],
            "description": "A campaign document, validated field by field on save.",
        }
    ),
]
"""A campaign as sent by the marketer: any JSON object, checked by ``parse_campaign``."""

VersionedCampaignDocument = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "allOf": [
                {"$ref": CAMPAIGN_SCHEMA_REF},
                {
                    "type": "object",
                    "properties": {
                        "version": {
                            "type": "integer",
                            "description": "The version you read (or send If-Match).",
                        }
                    },
                },
            ],
            "description": "The whole new campaign document and the version it replaces.",
        }
    ),
]


# ---------------------------------------------------------------- errors


class FieldProblem(BaseModel):
    """One problem with one field of the request."""

    field: str = Field(description="Dotted path of the field, e.g. `content.email.en.text`.")
    message: str


class Errors(BaseModel):
    """The request was read but some fields are invalid (400: the body is not a JSON object)."""

    errors: list[FieldProblem]


class Problem(BaseModel):
    """The request cannot be done as asked; ``error`` is a stable code, ``message`` explains."""

    error: str = Field(
        description=(
            "`not_found`, `already_exists`, `version_conflict`, `invalid_transition`, "
            "`archived`, `version_required`, `empty_body`, `unreadable_file`, "
            "`bad_customer_id`, `unsupported_media_type`, `provider_error`, `internal_error`"
        )
    )
    message: str
    current_version: int | None = Field(
        default=None, description="With `version_conflict`: the version stored now."
    )


# ---------------------------------------------------------------- campaigns


class CampaignView(BaseModel):
    """A stored campaign with the version to send back when changing it (also the ETag)."""

    campaign: Campaign
    version: int
    updated_at: str | None


class CampaignSummary(BaseModel):
    campaign_id: str
    name: str
    status: CampaignStatus
    occasion: str = Field(description="The occasion type, e.g. `birthday`.")
    channels: list[Channel]
    category: str = Field(default="marketing", description="`marketing` or `service`.")
    topic: str = Field(default="", description="What a customer can switch off.")
    version: int
    updated_at: str | None


class CampaignPage(BaseModel):
    """One page of campaigns; pass ``next_token`` back to read the next one."""

    items: list[CampaignSummary]
    next_token: str | None = Field(description="`null` on the last page.")


class ValidationReport(BaseModel):
    valid: bool
    errors: list[FieldProblem]
    warnings: list[str] = Field(description="Unknown top-level fields, ignored on save.")


class StatusChange(BaseModel):
    status: CampaignStatus = Field(
        description="draft -> active -> paused -> active ...; anything -> archived (final)."
    )
    version: int | None = Field(
        default=None, description="The version you read; or send it as If-Match."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        # Lax int reads true as 1. Not StrictInt: "3" stays a version, like body version of PUT.
        if isinstance(value, bool):
            raise ValueError("Input should be a valid integer, not true or false")
        return value


# ---------------------------------------------------------------- previews, dry runs, sends


class PreviewRequest(BaseModel):
    customer_id: str = Field(description="An existing customer; their language is used.")
    channel: Channel | None = Field(default=None, description="Default: the first channel.")


class EmailRendering(BaseModel):
    channel: Literal["email"]
    locale: str
    subject: str
    text: str
    html: str | None = None


class SmsRendering(BaseModel):
    channel: Literal["sms"]
    locale: str
    text: str
    encoding: str = Field(description="`GSM-7` or `UCS-2`.")
    segments: int


Rendering = Annotated[EmailRendering | SmsRendering, Field(discriminator="channel")]


class TestSendRequest(BaseModel):
    channel: Channel | None = Field(default=None, description="Default: the first channel.")
    to: str = Field(description="An e-mail address or an E.164 phone number.")
    customer_id: str | None = Field(
        default=None, description="Render with this customer's data instead of a sample."
    )


class EmailTestSend(EmailRendering):
    delivery_id: str
    provider_message_id: str


class SmsTestSend(SmsRendering):
    delivery_id: str
    provider_message_id: str


TestSendResult = Annotated[EmailTestSend | SmsTestSend, Field(discriminator="channel")]


class DryRunRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from", description="First day (UTC), YYYY-MM-DD.")
    end: date = Field(
        alias="to",
        description=f"Day after the last one (UTC), at most {MAX_DRY_RUN_DAYS} days later.",
    )

    @field_validator("end")
    @classmethod
    def _bounded(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and not 0 < (end - start).days <= MAX_DRY_RUN_DAYS:
            raise ValueError(f"must be after from, at most {MAX_DRY_RUN_DAYS} days")
        return end


class DryRunResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    messages: list[PlannedMessage] = Field(
        description="Who would get what, when (UTC and the customer's local time)."
    )
    excluded: list[Exclusion] = Field(
        description="Customers an occasion matched who would not get it, with the reason code."
    )


class Estimate(BaseModel):
    customers: int
    in_audience: int
    reachable: dict[str, int] = Field(description="Customers reachable today, per channel.")
    holdout: dict[str, int] = Field(
        default_factory=dict, description="Reachable customers held back, per channel."
    )


class SurveyStats(BaseModel):
    responses: int
    nps: float | None
    csat: float | None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None


class AutoPause(BaseModel):
    at: str = Field(description="When the campaign was paused (UTC).")
    reason: str = Field(description="The complaint rate and the counts it was computed from.")


class Conversions(BaseModel):
    attribution_days: int = Field(description="An order within this many days converts.")
    recipients: int = Field(description="Occurrences with at least one message sent.")
    holdout: int = Field(description="Occurrences held back (skipped `holdout`).")
    recipient_conversions: int
    holdout_conversions: int
    recipient_rate: float | None
    holdout_rate: float | None
    lift: float | None = Field(
        description="Recipients' minus the holdout's conversion rate; null without both groups."
    )
    lift_ci95: list[float] | None = Field(
        description="95% confidence interval of the lift (Newcombe's hybrid score method)."
    )
    relative_lift: float | None = Field(description="lift / holdout_rate.")
    revenue_per_recipient: dict[str, float] = Field(description="Per currency.")
    revenue_per_holdout_member: dict[str, float] = Field(description="Per currency.")
    open_windows: int = Field(description="Occurrences whose attribution window is still open.")


class CampaignStats(BaseModel):
    campaign_id: str
    planned: int
    sent: int
    pending: int
    skipped: dict[str, int] = Field(description="Skipped deliveries by reason code.")
    failed: dict[str, int] = Field(description="Failed deliveries by reason code.")
    sent_by_channel: dict[str, int]
    test_sends: int
    delivered: int = Field(
        description="Messages SES delivered (complained ones included: a complaint proves it)."
    )
    bounced: int = Field(description="Messages that bounced.")
    bounced_by_type: dict[str, int] = Field(
        description="Bounces by reason: bounce_permanent, bounce_transient, bounce_undetermined."
    )
    complained: int = Field(description="Messages whose recipient marked them as spam.")
    delivery_rate: float | None = Field(description="delivered / sent; null before any send.")
    bounce_rate: float | None = Field(description="bounced / sent; null before any send.")
    complaint_rate: float | None = Field(
        description="complained / delivered; null before any delivery."
    )
    auto_pause: AutoPause | None = Field(
        description="The last automatic pause for the complaint rate, if any."
    )
    survey: SurveyStats | None = Field(default=None, description="Survey campaigns only.")
    conversions: Conversions | None = Field(
        default=None, description="Conversions after sending and the holdout's lift."
    )


# ---------------------------------------------------------------- customers


class ImportReport(BaseModel):
    imported: int
    rejected: list[Rejection] = Field(description="Rows not imported, by line, with the reason.")
    warnings: list[Rejection] = Field(description="Rows imported with a remark.")


class HistoryEntry(BaseModel):
    at: str
    status: str
    reason: str | None


class DeliveryHistory(BaseModel):
    delivery_id: str
    campaign_id: str
    occasion: str
    occurrence: str
    channel: str
    status: str = Field(
        description=(
            "queued, sending, sent, skipped or failed; after sent, as SES reports: delivered, "
            "bounced or complained."
        )
    )
    reason: str | None
    deliver_at: str
    local_send_time: str
    sent_at: str | None
    test: bool
    history: list[HistoryEntry]


class ConsentChange(BaseModel):
    channel: str
    action: str = Field(
        description=(
            "unsubscribed (from everything on the channel), resubscribed, topic_off, topic_on, "
            "consent_given, consent_withdrawn, suppressed_bounce, suppressed_complaint"
        )
    )
    topic: str | None = None


class ConsentEventOut(BaseModel):
    event_id: str
    at: str
    via: str = Field(
        description=(
            "How: one_click (List-Unsubscribe), page (preference centre), undo, import, api, "
            "sms_stop, complaint, bounce"
        )
    )
    changes: list[ConsentChange]
    campaign_id: str | None = Field(default=None, description="The message whose link was used.")
    undoes: str | None = Field(default=None, description="The event_id this change undid.")


class CustomerHistory(BaseModel):
    customer_id: str
    deliveries: list[DeliveryHistory]
    consent_events: list[ConsentEventOut] = Field(
        default_factory=list,
        description="Every recorded change of the customer's consent, oldest first.",
    )
    not_planned_because: list[str] | None = Field(
        default=None,
        description="With `campaign_id` and nothing planned: why (evaluated now).",
    )
