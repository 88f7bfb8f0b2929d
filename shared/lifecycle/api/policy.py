"""``/policy``: read and change the account's messaging policy.

* ``GET /policy``: the stored document (``null`` when none is stored: SMS keeps to 08:00-21:00
  local, nothing else is limited), its ``version`` (0 when none) and ``ETag``.
* ``PUT /policy``: the whole new document with the version it replaces (body ``version`` or
  ``If-Match``; 0 for the first one), else 428; a stale version is 409 ``version_conflict``
  with ``current_version``; every invalid field is 422. A policy whose quiet hours contain
  the send time of an active campaign is refused (422 on ``quiet_hours.<channel>``, naming
  each campaign): move or pause those first, nothing already planned is silently dropped.

The rules live in :mod:`lifecycle.rules.policy`; the checks against campaigns in
:mod:`lifecycle.campaigns.repository`.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from pydantic import BaseModel, Field, WithJsonSchema

from lifecycle.api.common import (
    JSON,
    InvalidFieldsError,
    expected_version,
    problem_response,
    responses,
)
from lifecycle.campaigns.model import FieldError
from lifecycle.campaigns.repository import policy_conflicts
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger
from lifecycle.occasions.registry import types as occasion_types
from lifecycle.rules.policy import Policy, PolicyError, parse_policy
from lifecycle.store.policy import (
    PolicyConflictError,
    PolicyRecord,
    get_policy_record,
    put_policy_record,
)

router = Router()
TAGS = ["policy"]
POLICY_SCHEMA_REF = "#/components/schemas/Policy"

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The version you read, as in the ETag (`"3"`; `"0"`: none stored yet).',
    ),
]

VersionedPolicyDocument = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "allOf": [
                {"$ref": POLICY_SCHEMA_REF},
                {
                    "type": "object",
                    "properties": {
                        "version": {
                            "type": "integer",
                            "description": "The version you read (0: none stored yet).",
                        }
                    },
                },
            ],
            "description": "The whole new policy and the version it replaces.",
        }
    ),
]


class PolicyView(BaseModel):
    """The stored policy (``null``: none) with the version to send back when changing it."""

    policy: Policy | None = Field(
        description="`null`: no policy; SMS keeps to 08:00-21:00 local, nothing else limited."
    )
    version: int = Field(description="0 when no policy is stored.")
    updated_at: str | None


def _response(record: PolicyRecord) -> Response[PolicyView]:
    stored = None if record.document is None else parse_policy(record.document, None)
    body = PolicyView(policy=stored, version=record.version, updated_at=record.updated_at)
    return Response(
        status_code=200,
        content_type=JSON,
        body=body,
        headers={"ETag": f'"{record.version}"'},
    )


@router.get(
    "/policy",
    summary="Read the messaging policy",
    description=(
        "Quiet hours per channel, the daily limit, the frequency cap and the priority of "
        "occasions; `version` (also the `ETag`) is what a change must send back."
    ),
    operation_id="getPolicy",
    tags=TAGS,
    responses=responses("The policy.", etag=True),
)
def read_policy() -> Response[PolicyView]:
    return _response(get_policy_record())


@router.put(
    "/policy",
    summary="Replace the messaging policy",
    description=(
        "Sends the whole policy with the version it replaces (body `version` or `If-Match`; "
        "0 when none is stored). Refused (422 on `quiet_hours.<channel>`) while an active "
        "campaign's `send_at_local` falls inside the new quiet hours."
    ),
    operation_id="putPolicy",
    tags=TAGS,
    responses=responses("Stored; the new version.", 400, 409, 415, 422, 428, etag=True),
)
def replace_policy(
    document: Annotated[VersionedPolicyDocument, Body(description="The new policy.")],
    if_match: IfMatch = None,
) -> Response[PolicyView]:
    expected = expected_version(_version_field(document), if_match)
    raw = {k: v for k, v in document.items() if k != "version"}
    try:
        policy = parse_policy(raw, occasion_types())
    except PolicyError as exc:
        raise InvalidFieldsError([FieldError(e.field, e.message) for e in exc.errors]) from None
    conflicts = policy_conflicts(policy)
    if conflicts:
        raise InvalidFieldsError(conflicts)
    put_policy_record(policy.document(), get_clock().now(), expected)
    logger.info("messaging policy changed", extra={"version": expected + 1})
    return _response(get_policy_record())


def _version_field(document: dict[str, Any]) -> int | None:
    value = document.get("version")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidFieldsError.one("version", "must be an integer, 0 or more")
    return value


def register_policy_errors(app: APIGatewayRestResolver) -> None:
    """409 ``version_conflict`` with ``current_version`` for a stale policy version."""

    @app.exception_handler(PolicyConflictError)
    def _stale(exc: PolicyConflictError) -> Response[Any]:
        return problem_response(
            409,
            "version_conflict",
            "the policy changed since you read it",
            current_version=exc.current_version,
        )
