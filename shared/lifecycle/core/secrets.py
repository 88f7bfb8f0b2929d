"""The signing key for links and coupon codes (Secrets Manager, cached by Powertools)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

from lifecycle.core.settings import Settings, SettingsError

SECRET_MAX_AGE_SECONDS = 300


def signing_key(settings: Settings) -> bytes:
    """Secret from ``SIGNING_SECRET_NAME`` (Secrets Manager) or, locally, ``SIGNING_SECRET``."""
    if settings.signing_secret_name:
        value = parameters.get_secret(settings.signing_secret_name, max_age=SECRET_MAX_AGE_SECONDS)
        secret = value if isinstance(value, str) else str(value)
    else:
        secret = settings.signing_secret
    if len(secret) < 16:
        raise SettingsError("signing secret missing or shorter than 16 characters")
    return secret.encode()
