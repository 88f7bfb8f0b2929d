"""The marketer console's static site (GET /console/{path}) and its config.json.

The pages call the marketer API under /api on the same stage, signed in through Cognito;
see :mod:`lifecycle.api.site`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lifecycle.api.site import console_response
from lifecycle.core.clock import get_clock
from lifecycle.core.observability import logger
from lifecycle.core.settings import get_settings

STATIC = Path(__file__).resolve().parent / "static"


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return console_response(event, STATIC, get_settings(), get_clock().now().date())
