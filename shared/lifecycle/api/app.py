"""The marketer API as one Powertools resolver: the routers, the error answers, the document.

``functions/campaign_api/handler.py`` serves it; ``scripts/export_openapi.py`` and the tests
import the same ``app``. There is exactly one resolver: the routers read the current event
through it.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from lifecycle.api import campaigns, customers, drafts, lookup, policy, results
from lifecycle.api.access import access_middleware
from lifecycle.api.common import JSON, register_error_handlers, use_json_body_validation
from lifecycle.api.openapi import openapi_json
from lifecycle.core import jsonsafe

# Bodies are parsed by the safe loader: nesting deeper than 64, NaN and Infinity are refused
# as invalid JSON (400 on field ``body``) instead of a RecursionError (502).
# The console's API (Cognito-authorized) serves the same routes under /api.
app = APIGatewayRestResolver(
    enable_validation=True, json_body_deserializer=jsonsafe.loads, strip_prefixes=["/api"]
)
app.use(middlewares=[access_middleware])  # console viewers may read, not change (403)
use_json_body_validation(app)  # JSON bodies only: Content-Type case-insensitive, forms 415
app.include_router(campaigns.router)
app.include_router(customers.router)
app.include_router(policy.router)
app.include_router(results.router)
app.include_router(drafts.router)
app.include_router(lookup.router)
register_error_handlers(app)
policy.register_policy_errors(app)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=JSON, body=openapi_json(app))
