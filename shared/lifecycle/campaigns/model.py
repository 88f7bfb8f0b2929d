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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from lifecycle.core.localtime import parse_hhmm
from lifecycle.occasions.holiday import known_names, supported_country
from lifecycle.rules.audience import AudienceRuleError, validate_rule
from lifecycle.rules.records import CUSTOMER_ID_RE, is_valid_timezone, normalize_locale
from lifecycle.rules.templates import (
    TEMPLATE_VARIABLES,
    RenderError,
    check_template,
    render,
    render_sms,
)

CampaignStatus = Literal["draft", "active", "paused", "archived"]
Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
CODE_PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}$")


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


class BirthdayOccasion(_Strict):
    type: Literal["birthday"]
    feb29: Literal["feb28", "mar1"] = "feb28"


class CustomHoliday(_Strict):
    name: str = Field(min_length=1, max_length=100)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    names: dict[str, str] = Field(default_factory=dict)  # locale -> localized name

    @model_validator(mode="after")
    def _real_day(self) -> CustomHoliday:
        try:
            date(2000, self.month, self.day)
        except ValueError:
            raise ValueError(f"{self.month:02d}-{self.day:02d} is not a day of the year") from None
        return self


class LunarHoliday(_Strict):
    name: str = Field(min_length=1, max_length=100)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=30)
    leap_month: bool = False
    names: dict[str, str] = Field(default_factory=dict)


class HolidayOccasion(_Strict):
    type: Literal["holiday"]
    countries: list[str] = Field(min_length=1)
    holidays: list[str] = Field(default_factory=list)
    custom: list[CustomHoliday] = Field(default_factory=list)
    lunar: list[LunarHoliday] = Field(default_factory=list)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = [code.upper() for code in value]
        unknown = [code for code in codes if not supported_country(code)]
        if unknown:
            raise ValueError(f"no holiday calendar for {', '.join(unknown)}")
        if len(set(codes)) != len(codes):
            raise ValueError("lists a country twice")
        return codes

    @model_validator(mode="after")
    def _names_exist(self) -> HolidayOccasion:
        if not (self.holidays or self.custom or self.lunar):
            raise ValueError("needs at least one of holidays, custom, lunar")
        known: set[str] = set()
        for country in self.countries:
            known |= known_names(country, range(2025, 2031))
        missing = [name for name in self.holidays if name not in known]
        if missing:
            raise ValueError(
                f"unknown holiday name(s) {', '.join(repr(m) for m in missing)} for "
                f"{', '.join(self.countries)}; names are the library's English names, e.g. "
                f"{', '.join(sorted(known)[:5])}"
            )
        return self


class InactivityOccasion(_Strict):
    type: Literal["inactivity"]
    days: int = Field(ge=1, le=3650)


class ReplenishmentOccasion(_Strict):
    type: Literal["replenishment"]
    days_after_purchase: int = Field(ge=1, le=3650)
    skus: list[str] = Field(min_length=1)


class SurveyOccasion(_Strict):
    type: Literal["post_purchase_survey"]
    delay_days: int = Field(default=3, ge=0, le=365)
    kind: Literal["nps", "csat"] = "nps"
    throttle_days: int = Field(default=30, ge=0, le=3650)


Occasion = Annotated[
    BirthdayOccasion
    | HolidayOccasion
    | InactivityOccasion
    | ReplenishmentOccasion
    | SurveyOccasion,
    Field(discriminator="type"),
]
OCCASION_TYPES = ("birthday", "holiday", "inactivity", "replenishment", "post_purchase_survey")
DATE_PLANNED = ("birthday", "holiday", "inactivity")  # planned by the daily planner
ORDER_TRIGGERED = ("replenishment", "post_purchase_survey")  # created from the orders stream


class Offer(_Strict):
    percent_off: float = Field(gt=0, le=100)
    valid_days: int = Field(default=14, ge=1, le=366)
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
    sms_max_segments: int = Field(default=3, ge=1, le=10)

    @field_validator("campaign_id")
    @classmethod
    def _campaign_id(cls, value: str) -> str:
        if not CUSTOMER_ID_RE.match(value):
            raise ValueError("must be 1-128 characters from A-Z a-z 0-9 . _ : @ + -")
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

    def email_content(self) -> dict[str, dict[str, str | None]]:
        templates = self.content.email or {}
        return {locale: tpl.model_dump() for locale, tpl in templates.items()}

    def sms_content(self) -> dict[str, str]:
        return {locale: tpl.text for locale, tpl in (self.content.sms or {}).items()}

    def document(self) -> dict[str, Any]:
        """The JSON document stored in the campaigns table (unknown keys dropped)."""
        return self.model_dump(mode="json", exclude=set(self.model_extra or {}))


def _loc(parts: tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in OCCASION_TYPES and text == "occasion":
            continue  # pydantic adds the union tag to the location
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
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        errors.append(FieldError(_loc(tuple(err["loc"])), message))
    return errors


OCCASION_VARIABLES: dict[str, frozenset[str]] = {
    "birthday": frozenset(),
    "holiday": frozenset({"holiday"}),
    "inactivity": frozenset(),
    "replenishment": frozenset({"product", "order"}),
    "post_purchase_survey": frozenset({"survey_url", "order"}),
}


def template_variables(campaign: Campaign) -> frozenset[str]:
    """The variables templates of ``campaign`` may use."""
    names = TEMPLATE_VARIABLES | OCCASION_VARIABLES[campaign.occasion.type]
    return names | {"offer"} if campaign.offer else names


SAMPLE_ORDER = {
    "order_id": "o-sample",
    "created_at": "2027-03-01T10:00:00Z",
    "delivered_at": "2027-03-03T15:00:00Z",
    "total": 42.5,
    "currency": "EUR",
    "items": [{"sku": "COFFEE-1KG", "name": "Coffee beans 1 kg", "qty": 1, "price": 42.5}],
}


def sample_context(campaign: Campaign) -> dict[str, Any]:
    """A realistic context used to test-render templates when a campaign is saved."""
    occasion: dict[str, Any] = {"type": campaign.occasion.type, "date": "2027-03-14"}
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
        "occasion": occasion,
        "unsubscribe_url": "https://example.invalid/u/sample",
    }
    spec = campaign.occasion
    if isinstance(spec, BirthdayOccasion):
        occasion["age"] = 30
    elif isinstance(spec, HolidayOccasion):
        occasion.update(name="Christmas Day", country=spec.countries[0])
        context["holiday"] = {"name": "Christmas Day", "date": "2027-12-25"}
    elif isinstance(spec, InactivityOccasion):
        occasion.update(days=spec.days, last_active_date="2027-02-12")
    elif isinstance(spec, ReplenishmentOccasion):
        context["order"] = SAMPLE_ORDER
        context["product"] = {"sku": spec.skus[0], "name": "Coffee beans 1 kg", "qty": 1}
        occasion["days_after_purchase"] = spec.days_after_purchase
    else:
        context["order"] = SAMPLE_ORDER
        # As long as a real link (API host + signed token), so SMS length checks are honest.
        context["survey_url"] = "https://abcdefghij.execute-api.us-east-1.amazonaws.com/v1/s/" + (
            "x" * 130
        )
        occasion["kind"] = spec.kind
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
        templates = getattr(campaign.content, channel)
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
                    continue
                if channel == "sms":
                    sms = render_sms({locale: source}, locale, context)
                    if sms.segments > campaign.sms_max_segments:
                        errors.append(
                            FieldError(
                                field,
                                (
                                    f"renders to {sms.segments} {sms.encoding} segments with "
                                    f"sample data (sms_max_segments is "
                                    f"{campaign.sms_max_segments})"
                                ),
                            )
                        )
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
