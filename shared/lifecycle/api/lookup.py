"""Customer lookup for the console: one customer's profile and consent, and who has an address.

``GET /customers/{id}`` answers the profile as stored (contact data, locale, timezone,
consent per channel, channels unsubscribed, topics switched off, suppressed addresses, RFM
and NPS group); an erased customer answers only that it was erased. ``GET /customers?email=``
finds customers by e-mail address, any case (a Query on the ``by-email`` index). The
messages, the consent trail and the why-not are ``GET /customers/{id}/history``.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from lifecycle.api.common import InvalidFieldsError, require_customer, responses
from lifecycle.rules.records import is_erased, normalize_email
from lifecycle.store.customers import customer_ids_by_email

router = Router()
TAGS = ["customers"]
CustomerId = Annotated[str, Path(description="The customer's `customer_id`.")]
PROFILE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "locale",
    "timezone",
    "country",
    "birthday",
    "dates",
    "created_at",
    "last_active_at",
    "last_survey_at",
    "attributes",
    "rfm",
    "nps_group",
)


class CustomerProfile(BaseModel):
    customer_id: str
    erased: bool = Field(description="The customer's data was erased: nothing else is kept.")
    profile: dict[str, Any] = Field(description="Contact data, locale, dates, attributes.")
    consent: dict[str, bool] = Field(description="Consent given per channel.")
    unsubscribed: dict[str, str] = Field(description="Channel -> when the customer left it.")
    topics_off: dict[str, list[str]] = Field(description="Channel -> topics switched off.")
    suppressed: dict[str, Any] = Field(description="Channel -> the bounce or complaint.")


class CustomerMatches(BaseModel):
    customer_ids: list[str] = Field(description="At most 20.")


@router.get(
    "/customers/<customer_id>",
    summary="A customer's profile and consent",
    description="As stored; an erased customer answers `erased: true` and nothing else.",
    operation_id="getCustomer",
    tags=TAGS,
    responses=responses("The profile.", 404),
)
def profile(customer_id: CustomerId) -> CustomerProfile:
    customer = require_customer(customer_id)
    if is_erased(customer):
        return CustomerProfile(
            customer_id=customer_id,
            erased=True,
            profile={},
            consent={},
            unsubscribed={},
            topics_off={},
            suppressed={},
        )
    return CustomerProfile(
        customer_id=customer_id,
        erased=False,
        profile={name: customer.get(name) for name in PROFILE_FIELDS if customer.get(name)},
        consent=dict(customer.get("consent") or {}),
        unsubscribed=dict(customer.get("unsubscribed") or {}),
        topics_off=dict(customer.get("topics_off") or {}),
        suppressed=dict(customer.get("suppressed") or {}),
    )


@router.get(
    "/customers",
    summary="Find customers by e-mail address",
    description="Customers whose address is `email`, ignoring case.",
    operation_id="findCustomers",
    tags=TAGS,
    responses=responses("The matching ids.", 422),
)
def find(
    email: Annotated[str, Query(description="An e-mail address.", max_length=320)],
) -> CustomerMatches:
    try:
        address = normalize_email(email.strip())
    except ValueError as exc:
        raise InvalidFieldsError.one("email", str(exc)) from None
    return CustomerMatches(customer_ids=customer_ids_by_email(address))
