"""One settings model, parsed once from environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed."""


class Settings(BaseModel):
    """Runtime configuration (see README "Configuration")."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=1)
    campaigns_table: str = Field(alias="CAMPAIGNS_TABLE", min_length=1)
    deliveries_table: str = Field(alias="DELIVERIES_TABLE", min_length=1)
    orders_table: str = Field(default="", alias="ORDERS_TABLE")
    responses_table: str = Field(default="", alias="RESPONSES_TABLE")
    dates_table: str = Field(default="", alias="DATES_TABLE")
    plan_queue_url: str = Field(default="", alias="PLAN_QUEUE_URL")
    # Customer files larger than one chunk are cut into chunks of about this many bytes and
    # imported in parallel through ImportChunkQueue (none configured: imported in one go).
    import_chunk_queue_url: str = Field(default="", alias="IMPORT_CHUNK_QUEUE_URL")
    import_chunk_bytes: int = Field(
        default=4 * 1024 * 1024, alias="IMPORT_CHUNK_BYTES", ge=1024, le=256 * 1024 * 1024
    )
    import_write_concurrency: int = Field(default=10, alias="IMPORT_WRITE_CONCURRENCY", ge=1, le=64)
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    # One EventBridge event per sent message ($1 per million): only when a consumer needs it
    # (template parameter PublishSentEvents; README "Cost per message").
    publish_sent_events: bool = Field(default=False, alias="PUBLISH_SENT_EVENTS")
    country_shards: int = Field(default=16, alias="COUNTRY_SHARDS", ge=1, le=256)
    survey_token_ttl_days: int = Field(default=60, alias="SURVEY_TOKEN_TTL_DAYS", ge=1)
    send_queue_url: str = Field(default="", alias="SEND_QUEUE_URL")
    send_dlq_url: str = Field(default="", alias="SEND_DLQ_URL")
    max_send_rate: int = Field(default=14, alias="MAX_SEND_RATE", ge=1, le=100_000)
    dispatch_interval_seconds: int = Field(
        default=300, alias="DISPATCH_INTERVAL_SECONDS", ge=60, le=900
    )
    sender_email: str = Field(default="", alias="SENDER_EMAIL")
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    signing_secret_name: str = Field(default="", alias="SIGNING_SECRET_NAME")
    signing_secret: str = Field(default="", alias="SIGNING_SECRET", repr=False)
    ses_configuration_set: str = Field(default="", alias="SES_CONFIGURATION_SET")
    dispatch_shards: int = Field(default=4, alias="DISPATCH_SHARDS", ge=1, le=64)
    # Threads the dispatcher and the RFM job use for their SQS/DynamoDB calls (1: serial;
    # the local runner's default, so a seeded run repeats call for call).
    job_threads: int = Field(default=16, alias="JOB_THREADS", ge=1, le=64)
    ledger_ttl_days: int = Field(default=400, alias="LEDGER_TTL_DAYS", ge=30)
    # One-click unsubscribe links must keep working for at least a year after sending.
    unsubscribe_token_ttl_days: int = Field(default=400, alias="UNSUBSCRIBE_TOKEN_TTL_DAYS", ge=366)
    send_lease_seconds: int = Field(default=300, alias="SEND_LEASE_SECONDS", ge=30)
    max_send_delay_minutes: int = Field(default=15, alias="MAX_SEND_DELAY_MINUTES", ge=1)
    plan_ahead_days: int = Field(default=1, alias="PLAN_AHEAD_DAYS", ge=1, le=7)
    suppressions_table: str = Field(default="", alias="SUPPRESSIONS_TABLE")
    feedback_table: str = Field(default="", alias="FEEDBACK_TABLE")
    consent_events_table: str = Field(default="", alias="CONSENT_EVENTS_TABLE")
    # Preference centre links (in every marketing e-mail) keep working for over a year too.
    preferences_token_ttl_days: int = Field(default=400, alias="PREFERENCES_TOKEN_TTL_DAYS", ge=366)
    complaint_pause_rate: float = Field(default=0.003, alias="COMPLAINT_PAUSE_RATE", gt=0, le=1)
    complaint_pause_min_volume: int = Field(default=1000, alias="COMPLAINT_PAUSE_MIN_VOLUME", ge=1)
    # Branding of the customer pages and of every marketing e-mail's footer (template
    # parameters CompanyName, LogoUrl, BrandColour, PostalAddress).
    company_name: str = Field(default="Example Shop", alias="COMPANY_NAME", min_length=1)
    logo_url: str = Field(default="", alias="LOGO_URL")
    brand_colour: str = Field(
        default="#1a73e8", alias="BRAND_COLOUR", pattern=r"^#[0-9A-Fa-f]{6}\z"
    )
    postal_address: str = Field(default="", alias="POSTAL_ADDRESS")
    # The marketer console (functions/console): how people sign in. "cognito": the user
    # pool's hosted UI at COGNITO_DOMAIN with the app client COGNITO_CLIENT_ID, coming back
    # to CONSOLE_URL; "local": the local stack's sign-in page (python -m emulator serve).
    console_auth: Literal["cognito", "local"] = Field(default="cognito", alias="CONSOLE_AUTH")
    cognito_domain: str = Field(default="", alias="COGNITO_DOMAIN")
    cognito_client_id: str = Field(default="", alias="COGNITO_CLIENT_ID")
    console_url: str = Field(default="", alias="CONSOLE_URL")

    @field_validator("logo_url")
    @classmethod
    def _https_logo(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Parse the environment once; raise :class:`SettingsError` with every problem listed."""
    try:
        return Settings.model_validate(dict(os.environ))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid environment: {problems}") from exc


def reset_settings() -> None:
    """Forget the cached settings (tests and the local runner change the environment)."""
    get_settings.cache_clear()
