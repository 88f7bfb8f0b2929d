"""Who may change what, decided in one place for every route of the marketer API.

Two kinds of callers reach the same routes:

* automation through the IAM-authorized campaign API (SigV4): API Gateway already checked
  the caller's IAM policy, so every route is allowed;
* people through the console's API, behind a Cognito user pool authorizer: API Gateway puts
  the ID token's claims under ``requestContext.authorizer.claims``. Members of the
  ``marketers`` group may read and change; everyone else signed in (the ``viewers`` group, or
  no group at all) may only read. A change by a reader answers 403 ``forbidden`` before the
  route runs, so nothing is written.

Reading is GET (and HEAD/OPTIONS) plus the POST routes that only compute: validation, dry
runs and previews. Test sends really send, so they are changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from lifecycle.api.common import JSON
from lifecycle.core.observability import logger

WRITERS = "marketers"
READERS = "viewers"
GROUPS_CLAIM = "cognito:groups"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST routes that compute an answer and change nothing.
READ_ONLY_POSTS = frozenset(
    {
        "/campaigns/validate",
        "/campaigns/<campaign_id>/dry-run",
        "/campaigns/<campaign_id>/preview",
        "/dry-run",
        "/drafts/preview",
        "/drafts/estimate",
    }
)


def parse_groups(value: Any) -> frozenset[str]:
    """The groups of a ``cognito:groups`` claim as API Gateway passes it: a list, a
    comma-separated string, or a bracketed space-separated string (``[a b]``)."""
    if isinstance(value, list | tuple):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    if not isinstance(value, str):
        return frozenset()
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        parts = text[1:-1].replace(",", " ").split()
    else:
        parts = text.split(",")
    return frozenset(part.strip() for part in parts if part.strip())


def console_groups(event: Mapping[str, Any]) -> frozenset[str] | None:
    """The caller's Cognito groups, or None for a caller without Cognito claims (IAM)."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if not isinstance(claims, Mapping):
        return None
    return parse_groups(claims.get(GROUPS_CLAIM))


def changes_state(method: str, route_path: str) -> bool:
    """Whether the route (as registered, e.g. ``/campaigns/<campaign_id>``) may change data."""
    if method.upper() in READ_METHODS:
        return False
    return not (method.upper() == "POST" and route_path in READ_ONLY_POSTS)


def may(groups: frozenset[str] | None, method: str, route_path: str) -> bool:
    """IAM callers may do everything; Cognito callers change only as marketers."""
    if groups is None:
        return True
    return WRITERS in groups or not changes_state(method, route_path)


def forbidden() -> Response[str]:
    return Response(
        status_code=403,
        content_type=JSON,
        body=(
            '{"error": "forbidden", "message": "viewers can read but not change anything: '
            'ask a member of the marketers group"}'
        ),
    )


def access_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Refuse a change by a console user who is not a marketer (403), before the route."""
    route = app.context.get("_route")
    route_path = getattr(route, "path", app.current_event.path)
    groups = console_groups(app.current_event.raw_event)
    if not may(groups, app.current_event.http_method, route_path):
        logger.info("change refused: not a marketer", route=route_path)
        return forbidden()
    return next_middleware(app)
