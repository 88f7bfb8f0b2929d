"""The console's static site: files under one root, answered as API Gateway proxy responses.

``GET /console`` redirects to ``/console/`` (relative URLs need the slash), ``GET
/console/{path}`` answers the file below the root (``index.html`` for the folder), and
``config.json`` is generated: how to sign in (the Cognito hosted UI, or the local stack's
page), where the API is, and the stack's today (the local runner's clock may stand in 2027).

Every answer carries a Content-Security-Policy: scripts and connections only from the
console's own origin, no framing by others, no plugins. Styles may be inline because the
e-mail preview (a sandboxed ``srcdoc`` frame, which inherits this policy) shows e-mails as
they are written. Paths that leave the root, hidden files and unknown types answer 404.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from lifecycle.core.settings import Settings

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; frame-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_PATH = 200


def _response(status: int, body: str, content_type: str, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, **SECURITY_HEADERS, **headers},
        "body": body,
        "isBase64Encoded": False,
    }


def not_found() -> dict[str, Any]:
    return _response(
        404, "Not found\n", "text/plain; charset=utf-8", **{"Cache-Control": "no-store"}
    )


def console_config(settings: Settings, today: date) -> dict[str, Any]:
    """What the console's pages need to know before they can call the API."""
    config: dict[str, Any] = {"api_base": "../api/", "today": today.isoformat()}
    if settings.console_auth == "local":
        return {
            **config,
            "auth": "local",
            "signin_url": "signin.html",
            "local_signin_url": "../_local/signin",
        }
    hosted_ui = (
        f"https://{settings.cognito_domain}/login?client_id={quote(settings.cognito_client_id)}"
        f"&response_type=token&scope=openid+email+profile"
        f"&redirect_uri={quote(settings.console_url, safe='')}"
    )
    return {**config, "auth": "cognito", "signin_url": hosted_ui}


def resolve(root: Path, requested: str) -> Path | None:
    """The file below ``root`` that ``requested`` (a URL path below /console/) names."""
    if len(requested) > MAX_PATH or "\\" in requested or "\x00" in requested:
        return None
    parts = PurePosixPath(requested or "index.html").parts
    if any(part in ("..", ".") or part.startswith(".") for part in parts):
        return None
    path = root.joinpath(*parts) if parts else root / "index.html"
    if path.is_dir():
        path = path / "index.html"
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return path if path.is_file() and path.suffix in CONTENT_TYPES else None


def console_response(
    event: dict[str, Any], root: Path, settings: Settings, today: date
) -> dict[str, Any]:
    """The answer to one request for the console's site."""
    if event.get("httpMethod") not in ("GET", "HEAD"):
        return _response(405, "Method not allowed\n", "text/plain; charset=utf-8", Allow="GET")
    proxy = (event.get("pathParameters") or {}).get("proxy")
    if proxy is None:
        # API Gateway routes /console/ to the /console resource too: only the path without
        # its slash is sent on (relatively, so it stays below whatever stage or domain).
        if str(event.get("path") or "").endswith("/"):
            proxy = ""
        else:
            return _response(301, "", "text/plain; charset=utf-8", Location="console/")
    if proxy == "config.json":
        body = json.dumps(console_config(settings, today))
        return _response(200, body, "application/json", **{"Cache-Control": "no-store"})
    path = resolve(root, proxy)
    if path is None:
        return not_found()
    cache = "public, max-age=86400, immutable" if "vendor" in path.parts else "no-cache"
    return _response(
        200,
        path.read_text(encoding="utf-8"),
        CONTENT_TYPES[path.suffix],
        **{"Cache-Control": cache},
    )
