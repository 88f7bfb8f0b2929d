"""Campaign documents: validation with field-level errors, and the sample template context.

A campaign is rejected when it is saved or imported if anything in it could fail later:
unknown occasion, bad time or timezone, a channel without content, a template that does not
compile or uses undefined variables, an offer out of range, a malformed audience rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from lifecycle.core.localtime import parse_hhmm
from lifecycle.messages.channels import channel_for
from lifecycle.occasions import registry
from lifecycle.occasions.base import OccasionSpec
from lifecycle.rules.audience import AudienceRuleError, validate_rule
from lifecycle.rules.records import (
    C0_C1_CONTROL_RE,
    CUSTOMER_ID_RE,
    check_no_control,
    is_valid_timezone,
    normalize_locale,
)
from lifecycle.rules.templates import (
    TEMPLATE_VARIABLES,
    RenderError,
    check_template,
    render,
)

CampaignStatus = Literal["draft", "active", "paused", "archived"]
Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
CODE_PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}\Z")
# A topic is what a customer can switch off in the preference centre: a short id.
TOPIC_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
Category = Literal["marketing", "service"]
LOCALE_TAG_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}\Z")
MAX_TOPIC_NAMES = 20
MAX_TOPIC_NAME_CHARS = 80
CATEGORIES: tuple[Category, ...] = ("marketing", "service")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CampaignError(ValueError):
    """A campaign document is invalid; ``errors`` lists every problem by field."""

    def __init__(self, errors: list[FieldError], campaign_id: str | None = None) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors
        self.campaign_id = campaign_id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


if TYPE_CHECKING:
    Occasion = OccasionSpec
else:
    # The discriminated union of every registered occasion's model.
    Occasion = Annotated[Union[registry.spec_models()], Field(discriminator="type")]  # noqa: UP007
OCCASION_TYPES = registry.types()


class Offer(_Strict):
    # Strict: JSON true is not 1 (an int is still a float).
    percent_off: StrictFloat = Field(gt=0, le=100)
    valid_days: StrictInt = Field(default=14, ge=1, le=366)
    code_prefix: str = "OFFER"

    @field_validator("code_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not CODE_PREFIX_RE.match(value):
            raise ValueError("must be 1-10 characters A-Z or 0-9")
        return value


class EmailTemplate(_Strict):
    subject: str = Field(min_length=1)
    text: str = Field(min_length=1)
    html: str | None = None


class SmsTemplate(_Strict):
    text: str = Field(min_length=1)


class Content(_Strict):
    email: dict[str, EmailTemplate] | None = None
    sms: dict[str, SmsTemplate] | None = None


class Campaign(BaseModel):
    """A validated campaign. Unknown top-level keys are kept and reported as warnings."""

    model_config = ConfigDict(extra="allow", frozen=True)

    campaign_id: str
    name: str = Field(min_length=1, max_length=200)
    status: CampaignStatus = "draft"
    occasion: Occasion
    channels: list[Channel] = Field(min_length=1)
    send_at_local: str = "09:00"
    default_timezone: str = "UTC"
    audience: dict[str, Any] | None = None
    offer: Offer | None = None
    content: Content
    sms_max_segments: StrictInt = Field(default=3, ge=1, le=10)
    # Marketing messages count toward the policy's caps; service messages do not.
    category: Category = "marketing"
    # Defaults to the occasion type (filled in before validation, so it is stored).
    topic: str
    # The topic's name in the preference centre per locale (custom topics; occasion-type
    # topics have built-in names): {"en": "Newsletter", "de": "Newsletter"}.
    topic_names: dict[str, str] | None = None
    # A deterministic share of the eligible audience held back (skipped ``holdout``) to
    # measure what the campaign earns: conversions within ``attribution_days`` of sending.
    holdout_percent: StrictFloat = Field(default=0, ge=0, le=50)
    attribution_days: StrictInt = Field(default=7, ge=1, le=90)

    @model_validator(mode="before")
    @classmethod
    def _default_topic(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and "topic" not in raw:
            occasion = raw.get("occasion")
            kind = occasion.get("type") if isinstance(occasion, Mapping) else None
            if isinstance(kind, str) and TOPIC_RE.match(kind):
                return {**raw, "topic": kind}
        return raw

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not TOPIC_RE.match(value):
            raise ValueError("must be 1-40 characters a-z 0-9 _ - starting with a letter or digit")
        return value

    @field_validator("topic_names")
    @classmethod
    def _topic_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > MAX_TOPIC_NAMES:
            raise ValueError(f"at most {MAX_TOPIC_NAMES} locales")
        for locale, name in value.items():
            if not LOCALE_TAG_RE.match(locale):
                raise ValueError(f"{locale[:20]!r} is not a locale tag such as en or zh-CN")
            if not name.strip() or len(name) > MAX_TOPIC_NAME_CHARS:
                raise ValueError(f"{locale}: a name of 1-{MAX_TOPIC_NAME_CHARS} characters")
            check_no_control(name, C0_C1_CONTROL_RE)
        return value

    @property
    def is_marketing(self) -> bool:
        return self.category == "marketing"

    @field_validator("campaign_id")
    @classmethod
    def _campaign_id(cls, value: str) -> str:
        if not CUSTOMER_ID_RE.match(value):
            raise ValueError("must be 1-128 characters from A-Z a-z 0-9 . _ : @ + -")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # A name reaches logs and reports: CR/LF, NUL and the other C0/C1 controls are refused
        # as in customer names (a U+2028 line separator is allowed).
        check_no_control(value, C0_C1_CONTROL_RE)
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a channel twice")
        return value

    @field_validator("send_at_local")
    @classmethod
    def _send_at(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if not is_valid_timezone(value):
            raise ValueError(f"{value!r} is not an IANA timezone")
        return value

    @property
    def unknown_fields(self) -> list[str]:
        return sorted((self.model_extra or {}).keys())

    def content_for(self, channel: str) -> dict[str, dict[str, str | None]]:
        """The templates of one channel by locale (first locale first)."""
        templates: dict[str, EmailTemplate] | dict[str, SmsTemplate] = (
            getattr(self.content, channel, None) or {}
        )
        return {locale: tpl.model_dump() for locale, tpl in templates.items()}

    def document(self) -> dict[str, Any]:
        """The JSON document stored in the campaigns table (unknown keys dropped)."""
        return self.model_dump(mode="json", exclude=set(self.model_extra or {}))


def _loc(parts: tuple[Any, ...]) -> str:
    # pydantic puts the union tag right after "occasion" (occasion.birthday.feb29): drop it,
    # and only it (a field may share an occasion's name, e.g. date.date).
    if len(parts) > 1 and parts[0] == "occasion" and parts[1] in OCCASION_TYPES:
        parts = (parts[0], *parts[2:])
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "campaign"


def _pydantic_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            message = (
                f"unknown occasion type {err.get('input', {}).get('type')!r}; "
                f"known: {', '.join(OCCASION_TYPES)}"
            )
            errors.append(FieldError("occasion.type", message))
            continue
        if err["type"] == "union_tag_not_found":
            errors.append(FieldError("occasion.type", "is required"))
            continue
        if err["type"] == "missing" and tuple(err["loc"]) == ("topic",):
            continue  # the default topic comes from the occasion, which has its own error
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        errors.append(FieldError(_loc(tuple(err["loc"])), message))
    return errors


def template_variables(campaign: Campaign) -> frozenset[str]:
    """The variables templates of ``campaign`` may use."""
    names = TEMPLATE_VARIABLES | registry.occasion_for(campaign.occasion).variables
    return names | {"offer"} if campaign.offer else names


SAMPLE_DATE = "2027-03-14"


def sample_context(campaign: Campaign) -> dict[str, Any]:
    """A realistic context used to test-render templates when a campaign is saved."""
    sample = registry.occasion_for(campaign.occasion).sample(campaign.occasion)
    context: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "customer": {
            "customer_id": "c-sample",
            "locale": "en",
            "country": "ES",
            "timezone": campaign.default_timezone,
        },
        "campaign": {"id": campaign.campaign_id, "name": campaign.name},
        "occasion": {"type": campaign.occasion.type, "date": SAMPLE_DATE, **sample.occasion},
        "unsubscribe_url": "https://example.invalid/u/sample",
        "preferences_url": "https://example.invalid/p/sample",
        **sample.variables,
    }
    if campaign.offer:
        context["offer"] = offer_context(campaign.offer, "SAMPLE-CODE", date(2027, 3, 28))
    return context


def offer_context(offer: Offer, code: str, valid_until: date) -> dict[str, Any]:
    percent: float | int = (
        int(offer.percent_off) if offer.percent_off.is_integer() else offer.percent_off
    )
    return {
        "percent_off": percent,
        "valid_days": offer.valid_days,
        "code_prefix": offer.code_prefix,
        "code": code,
        "valid_until": valid_until.isoformat(),
    }


def _check_content(campaign: Campaign) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = template_variables(campaign)
    context = sample_context(campaign)
    for channel in campaign.channels:
        templates: dict[str, EmailTemplate] | dict[str, SmsTemplate] = (
            getattr(campaign.content, channel) or {}
        )
        if not templates:
            errors.append(FieldError(f"content.{channel}", f"channel {channel} has no content"))
            continue
        seen: set[str] = set()
        for locale, template in templates.items():
            prefix = f"content.{channel}.{locale}"
            try:
                normalized = normalize_locale(locale)
            except ValueError as exc:
                errors.append(FieldError(prefix, str(exc)))
                continue
            if normalized.lower() in seen:
                errors.append(FieldError(prefix, "locale listed twice"))
            seen.add(normalized.lower())
            part_errors = _check_parts(template, prefix, allowed, context)
            errors.extend(part_errors)
            if part_errors:
                continue
            sender = channel_for(channel)
            rendered = sender.render({locale: template.model_dump()}, locale, context)
            too_long = sender.over_limit(rendered, campaign.sms_max_segments)
            if too_long:
                errors.append(
                    FieldError(f"{prefix}.text", f"renders to {too_long} with sample data")
                )
    return errors


def _check_parts(
    template: EmailTemplate | SmsTemplate,
    prefix: str,
    allowed: frozenset[str],
    context: dict[str, Any],
) -> list[FieldError]:
    """Compile and test-render each part (subject, text, html) of one locale's template."""
    errors: list[FieldError] = []
    for part in ("subject", "text", "html"):
        source = getattr(template, part, None)
        if source is None:
            continue
        field = f"{prefix}.{part}"
        try:
            check_template(source, field, html=part == "html", allowed=allowed)
            render(source, context, field, html=part == "html")
        except RenderError as exc:
            errors.append(FieldError(exc.field, exc.message))
    return errors


def parse_campaign(raw: object) -> Campaign:
    """Validate a campaign document; raise :class:`CampaignError` listing every problem."""
    if not isinstance(raw, Mapping):
        raise CampaignError([FieldError("campaign", "must be a JSON object")])
    campaign_id = raw.get("campaign_id") if isinstance(raw.get("campaign_id"), str) else None
    try:
        campaign = Campaign.model_validate(dict(raw))
    except ValidationError as exc:
        raise CampaignError(_pydantic_errors(exc), campaign_id) from None
    errors: list[FieldError] = []
    if campaign.audience is not None:
        try:
            validate_rule(campaign.audience)
        except AudienceRuleError as exc:
            errors.append(FieldError(exc.path, exc.message))
    errors.extend(_check_content(campaign))
    if errors:
        raise CampaignError(errors, campaign.campaign_id)
    return campaign
