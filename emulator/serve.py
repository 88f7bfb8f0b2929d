"""``python -m emulator serve``: the simulated stack over HTTP, for a person to click through.

Owns the local HTTP server. It simulates the period first (:func:`emulator.runner.simulated`,
the same run as ``simulate``; moto's state stays in this process afterwards and the simulated
clock stands at the end of the period), then serves on ``http://HOST:PORT/``:

* every API Gateway route of ``template.yaml``: the ``Api`` events of every function, of
  ``CampaignApi`` and ``PublicApi`` alike, read from the template (:func:`routes`), so a route
  added there is served here without a change. Each HTTP request becomes the REST API proxy
  event API Gateway would send (resource, path and path parameters, query strings and
  headers, single and multi-value, the body, base64 when the API's ``BinaryMediaTypes`` match
  its type or it is not UTF-8, ``requestContext`` with the stage ``v1`` and the caller's
  identity) and the real handler runs with a Lambda context, through the simulation (a handler
  error is API Gateway's 502). An unknown resource or method answers 403 ``Missing
  Authentication Token`` as API Gateway does. **Local only:** routes of an API whose
  authorizer is ``AWS_IAM`` accept unsigned requests here; the event names a fixed local IAM
  user as the caller. Routes behind a Cognito user pool authorizer (the console's ``/api``)
  need an ID token as on API Gateway (401 without one); locally ``POST /_local/signin``
  issues one for a marketer or a viewer (:class:`LocalTokens`). Never expose this server
  beyond your machine.
* ``/_local/outbox`` and ``/_local/outbox.json``: the messages sent in this process
  (:mod:`emulator.outbox`); ``POST /_local/signin`` (the console's local sign-in) and
  ``POST /_local/clock {"days": n}`` (runs the stack's clock n days on, jobs and all);
* static apps under a prefix (:data:`STATIC_APPS`: one line per app).

``PUBLIC_BASE_URL`` is this server's URL (without a stage), so the links in the e-mails point
here. Handlers run one at a time (moto and the runner's hooks are not thread-safe); the
server answers on threads (``ThreadingHTTPServer``). Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from emulator.environment import ACCOUNT, ROOT, TEMPLATE
from emulator.outbox import (
    HTML_PART_CSP,
    OutboxCache,
    OutboxMessage,
    collect,
    html_part,
    message_page,
    outbox_json,
    outbox_page,
)

if TYPE_CHECKING:
    from emulator.config import SimulationConfig
    from emulator.runner import SimulationResult
    from emulator.simulation import Simulation

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8300
STAGE = "v1"
LOCAL_API_ID = "local"
# Static apps served as files: URL prefix -> directory. Adding one is one line, e.g.
#     "/console/": ROOT / "console" / "dist",
STATIC_APPS: dict[str, Path] = {}
# The caller named in requestContext.identity of IAM-authorized routes (local only).
LOCAL_IAM_USER = f"arn:aws:iam::{ACCOUNT}:user/local-serve"
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
# Routes behind a Cognito user pool authorizer (the console's /api): as API Gateway does,
# a request needs an ID token in Authorization, else 401. Locally the tokens come from
# POST /_local/signin {"role": "marketer" | "viewer"} (the console's local sign-in page):
# JWTs signed with a key of this process, whose claims reach the handler as
# requestContext.authorizer.claims.
ROLES = {"marketer": "marketers", "viewer": "viewers"}
TOKEN_HOURS = 8
UNAUTHORIZED = {"message": "Unauthorized"}
MAX_ADVANCE_DAYS = 31


# ------------------------------------------------------------------------------ routes
@dataclass(frozen=True)
class Route:
    """One ``Api`` event of a function: ``method`` on ``resource`` of the API ``api``."""

    api: str
    function: str
    method: str  # upper case, or ANY
    resource: str  # "/campaigns/{campaign_id}"
    iam: bool  # the API (or the event) requires SigV4 (AWS_IAM)
    binary_types: tuple[str, ...] = ()
    cognito: bool = False  # a Cognito user pool authorizer

    @property
    def segments(self) -> list[str]:
        return [s for s in self.resource.split("/") if s]

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` (decoded) is of this resource, else None."""
        parts = [s for s in path.split("/") if s]
        names = self.segments
        parameters: dict[str, str] = {}
        for n, name in enumerate(names):
            if name.startswith("{") and name.endswith("+}"):
                if n >= len(parts):
                    return None
                parameters[name[1:-2]] = "/".join(parts[n:])
                return parameters
            if n >= len(parts):
                return None
            if name.startswith("{") and name.endswith("}"):
                parameters[name[1:-1]] = parts[n]
            elif name != parts[n]:
                return None
        return parameters if len(parts) == len(names) else None

    def specificity(self) -> tuple[int, ...]:
        """API Gateway prefers literal segments to variables, and variables to greedy ones."""
        return tuple(
            2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments
        )


def _api_id(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def routes(template: dict[str, Any]) -> list[Route]:
    """Every ``Api`` event of every function in ``template``."""
    resources = template.get("Resources", {})
    found = []
    for function, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            properties = event.get("Properties", {})
            api = _api_id(properties.get("RestApiId")) or "ServerlessRestApi"
            api_properties = resources.get(api, {}).get("Properties", {})
            default = (api_properties.get("Auth") or {}).get("DefaultAuthorizer")
            own = (properties.get("Auth") or {}).get("Authorizer")
            authorizer = own if own is not None else default
            pools = (api_properties.get("Auth") or {}).get("Authorizers") or {}
            cognito = "UserPoolArn" in (pools.get(authorizer) or {})
            found.append(
                Route(
                    api=api,
                    function=function,
                    method=str(properties["Method"]).upper(),
                    resource=str(properties["Path"]),
                    iam=authorizer == "AWS_IAM",
                    binary_types=tuple(api_properties.get("BinaryMediaTypes") or ()),
                    cognito=cognito,
                )
            )
    return found


def resolve(table: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route of ``method path``: the most specific resource, then its method (or ANY)."""
    matches = [(route, params) for route in table if (params := route.match(path)) is not None]
    if not matches:
        return None
    best = min(route.specificity() for route, _ in matches)
    resource = [(r, p) for r, p in matches if r.specificity() == best]
    for wanted in (method, "ANY"):
        for route, params in resource:
            if route.method == wanted:
                return route, params
    return None


# ------------------------------------------------------------------------------ events
@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query as sent
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str


def _is_binary(content_type: str, binary_types: tuple[str, ...]) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatch(media, pattern.lower()) for pattern in binary_types)


def proxy_event(
    request: HttpRequest,
    route: Route,
    path_parameters: dict[str, str],
    host: str,
    now_epoch_ms: int,
    request_time: str,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API (v1) proxy event API Gateway sends for ``request`` on ``route``
    (``claims``: of the ID token, on a route behind a Cognito authorizer)."""
    split = urlsplit(request.target)
    path = unquote(split.path)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    forwarded = {
        "X-Forwarded-For": request.client_ip,
        "X-Forwarded-Port": host.rpartition(":")[2] if ":" in host else "80",
        "X-Forwarded-Proto": "http",
    }
    for name, value in forwarded.items():
        headers.setdefault(name, value)
        multi_headers.setdefault(name, [value])
    content_type = next(
        (v for k, v in request.headers if k.lower() == "content-type"), "application/json"
    )
    body: str | None = None
    encoded = False
    if request.body:
        if _is_binary(content_type, route.binary_types):
            body, encoded = base64.b64encode(request.body).decode("ascii"), True
        else:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(request.body).decode("ascii"), True
    user_agent = headers.get("User-Agent") or headers.get("user-agent")
    identity: dict[str, Any] = {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": request.client_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": user_agent,
        "user": None,
    }
    if route.iam:  # local only: the request was not signed, the caller is a fixed local user
        identity.update(
            accountId=ACCOUNT,
            caller="AIDALOCALSERVE",
            accessKey="ASIALOCALSERVE",
            userArn=LOCAL_IAM_USER,
            user="AIDALOCALSERVE",
        )
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {}
    if claims is not None:  # what the Cognito authorizer found in the verified token
        context["authorizer"] = {"claims": claims}
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id[:16],
            "requestTime": request_time,
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": host.split(":", 1)[0],
            "requestTimeEpoch": now_epoch_ms,
            "requestId": request_id,
            "identity": identity,
            "domainName": host,
            "apiId": LOCAL_API_ID,
            **context,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def from_proxy_response(response: dict[str, Any]) -> HttpResponse:
    """API Gateway's HTTP answer to a proxy integration's response."""
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    headers: list[tuple[str, str]] = []
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values]
    named = {name.lower() for name, _ in headers}
    for name, value in (response.get("headers") or {}).items():
        if str(name).lower() not in named:
            headers.append((str(name), str(value)))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(response.get("statusCode", 502)), headers, data)


def _json(status: int, value: Any) -> HttpResponse:
    data = json.dumps(value, ensure_ascii=False, indent=1).encode()
    return HttpResponse(status, [("Content-Type", "application/json; charset=utf-8")], data)


def _html(
    status: int, text: str, csp: str = "default-src 'self'; style-src 'unsafe-inline'"
) -> HttpResponse:
    return HttpResponse(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
        ],
        text.encode("utf-8"),
    )


MISSING_TOKEN = {"message": "Missing Authentication Token"}


# ------------------------------------------------------------------------------ sign-in
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalTokens:
    """ID tokens for the console's local sign-in, shaped as Cognito's (a JWT whose claims
    carry ``cognito:groups``), signed with HMAC-SHA256 under a key of this process."""

    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)

    def issue(self, role: str, now: float) -> str:
        group = ROLES[role]
        header = {"alg": "HS256", "typ": "JWT", "kid": "local"}
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"local:{role}")),
            "email": f"{role}@local.invalid",
            "cognito:username": f"local-{role}",
            "cognito:groups": [group],
            "token_use": "id",
            "aud": "local",
            "iss": "local",
            "iat": int(now),
            "exp": int(now) + TOKEN_HOURS * 3600,
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self.key, signing.encode("ascii"), hashlib.sha256).digest()
        return f"{signing}.{_b64(signature)}"

    def claims(self, token: str | None, now: float) -> dict[str, str] | None:
        """The claims as API Gateway's REST API passes them (strings), or None (401)."""
        if not token:
            return None
        parts = token.removeprefix("Bearer ").strip().split(".")
        if len(parts) != 3:
            return None
        signing = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
        expected = hmac.new(self.key, signing, hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict) or int(claims.get("exp", 0)) < now:
            return None
        groups = claims.get("cognito:groups") or []
        return {
            **{k: str(v) for k, v in claims.items() if k != "cognito:groups"},
            "cognito:groups": ",".join(str(g) for g in groups),
        }


# ------------------------------------------------------------------------------ the app
class LocalApp:
    """Routes one HTTP request: local pages, static apps, or a handler of the template."""

    def __init__(self, simulation: Simulation, base_url: str, template: dict[str, Any]) -> None:
        self.simulation = simulation
        self.base_url = base_url.rstrip("/")
        self.table = routes(template)
        self.lock = threading.Lock()  # one handler (and one moto read) at a time
        self.tokens = LocalTokens()
        self._outbox = OutboxCache()  # the messages of the outbox read so far
        self.local: list[tuple[re.Pattern[str], Callable[[re.Match[str]], HttpResponse]]] = [
            (re.compile(r"/_local/outbox/?"), lambda _: self._outbox_page()),
            (re.compile(r"/_local/outbox\.json"), lambda _: self._outbox_json()),
            (re.compile(r"/_local/outbox/([a-z]+-[0-9a-f]+)/?"), self._message),
            (re.compile(r"/_local/outbox/([a-z]+-[0-9a-f]+)/html"), self._message_html),
        ]

    def handle(self, request: HttpRequest, host: str) -> HttpResponse:
        path = urlsplit(request.target).path
        if path == "/" and request.method in ("GET", "HEAD"):
            return HttpResponse(302, [("Location", "/_local/outbox")], b"")
        if path == "/favicon.ico":  # browsers ask for it; not a route of the template
            return HttpResponse(204, [], b"")
        if path.startswith("/_local/"):
            if path == "/_local/signin" and request.method == "POST":
                return self._sign_in(request)
            if path == "/_local/clock" and request.method == "POST":
                return self._advance(request)
            if request.method not in ("GET", "HEAD"):
                return _json(405, {"message": "Method Not Allowed"})
            for pattern, page in self.local:
                match = pattern.fullmatch(path)
                if match is not None:
                    return page(match)
            return _json(404, {"message": "Not Found"})
        for prefix, directory in STATIC_APPS.items():
            if path == prefix.rstrip("/"):
                return HttpResponse(301, [("Location", prefix)], b"")
            if path.startswith(prefix):
                return static_file(directory, path[len(prefix) :])
        found = resolve(self.table, request.method, unquote(path))
        if found is None:
            return _json(403, MISSING_TOKEN)
        route, parameters = found
        return self.invoke(request, route, parameters, host)

    def invoke(
        self, request: HttpRequest, route: Route, parameters: dict[str, str], host: str
    ) -> HttpResponse:
        claims = None
        if route.cognito:
            token = next((v for k, v in request.headers if k.lower() == "authorization"), None)
            claims = self.tokens.claims(token, time.time())
            if claims is None:
                return _json(401, UNAUTHORIZED)
        with self.lock:
            now = self.simulation.clock.now().astimezone(UTC)
            event = proxy_event(
                request,
                route,
                parameters,
                host,
                int(now.timestamp() * 1000),
                now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                claims,
            )
            response = self.simulation.invoke_sync(route.function, event)
        return from_proxy_response(response)

    # -- local controls -------------------------------------------------------------------
    def _sign_in(self, request: HttpRequest) -> HttpResponse:
        """POST /_local/signin {"role": "marketer" | "viewer"} -> {"id_token": ...}."""
        try:
            role = json.loads(request.body or b"{}").get("role")
        except (ValueError, AttributeError):
            role = None
        if role not in ROLES:
            return _json(400, {"message": 'send {"role": "marketer"} or {"role": "viewer"}'})
        return _json(200, {"id_token": self.tokens.issue(role, time.time())})

    def _advance(self, request: HttpRequest) -> HttpResponse:
        """POST /_local/clock {"days": 1-31}: run the stack's clock on, as the runner does."""
        try:
            days = json.loads(request.body or b"{}").get("days")
        except (ValueError, AttributeError):
            days = None
        if type(days) is not int or not 1 <= days <= MAX_ADVANCE_DAYS:
            return _json(400, {"message": f'send {{"days": 1-{MAX_ADVANCE_DAYS}}}'})
        with self.lock:
            self.simulation.run(days)
            now = self.simulation.clock.now().astimezone(UTC)
        return _json(200, {"now": now.strftime("%Y-%m-%dT%H:%M:%SZ")})

    # -- the outbox ---------------------------------------------------------------------
    def messages(self) -> list[OutboxMessage]:
        with self.lock:
            return collect(
                self.base_url,
                lambda: list(self.simulation.ledger_items()),
                lambda: list(self.simulation.customer_items()),
                self._outbox,
            )

    def _outbox_page(self) -> HttpResponse:
        return _html(200, outbox_page(self.messages()))

    def _outbox_json(self) -> HttpResponse:
        return _json(200, outbox_json(self.messages()))

    def _find(self, message_id: str) -> OutboxMessage | None:
        return next((m for m in self.messages() if m.id == message_id), None)

    def _message(self, match: re.Match[str]) -> HttpResponse:
        message = self._find(match.group(1))
        if message is None:
            return _json(404, {"message": "no such message"})
        return _html(
            200, message_page(message), "default-src 'self'; style-src 'unsafe-inline'; img-src *"
        )

    def _message_html(self, match: re.Match[str]) -> HttpResponse:
        message = self._find(match.group(1))
        document = html_part(message) if message is not None else None
        if document is None:
            return _json(404, {"message": "no HTML part"})
        return _html(200, document, HTML_PART_CSP)


def static_file(directory: Path, relative: str) -> HttpResponse:
    """A file of a static app (``index.html`` for a directory); nothing outside it."""
    root = directory.resolve()
    target = (root / unquote(relative).lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return _json(404, {"message": "Not Found"})
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return _json(404, {"message": "Not Found"})
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return HttpResponse(200, [("Content-Type", kind)], target.read_bytes())


# ------------------------------------------------------------------------------ HTTP
class _Handler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(_json(413, {"message": "Request Too Long"}))
            return
        body = self.rfile.read(length) if length > 0 else b""
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
        )
        app = self.server.app
        if app is None:
            self._write(_json(503, {"message": "simulating, not ready yet"}))
            return
        host = self.headers.get("Host") or self.server.authority
        self._write(app.handle(request, host))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve  # noqa: N815

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status, HTTPStatus(response.status).phrase)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class LocalServer(ThreadingHTTPServer):
    """The listening socket (bound at once, so the URL is known before the simulation)."""

    daemon_threads = True

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        super().__init__((host, port), _Handler)
        self.app: LocalApp | None = None
        self.verbose = False
        bound_port = self.server_address[1]
        self.authority = f"{host}:{bound_port}"
        self.url = f"http://{host}:{bound_port}"


@contextlib.contextmanager
def serving(
    config: SimulationConfig, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> Iterator[tuple[LocalServer, SimulationResult]]:
    """Bind, simulate the period, then serve on a thread until the block ends.

    ``port`` 0 takes a free port (tests); the server's ``url`` has the one bound.
    """
    from emulator.runner import simulated
    from emulator.template import load_template

    server = LocalServer(host, port)
    try:
        local = {"PUBLIC_BASE_URL": server.url, "CONSOLE_AUTH": "local"}
        with simulated(config, local) as (simulation, result):
            server.app = LocalApp(simulation, server.url, load_template(TEMPLATE))
            server.app.messages()  # read the outbox once now, not on the first request
            thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
            thread.start()
            try:
                yield server, result
            finally:
                server.shutdown()
                thread.join(timeout=5)
    finally:
        server.server_close()


def serve(
    config: SimulationConfig,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    on_ready: Callable[[LocalServer, SimulationResult], None] | None = None,
) -> None:
    """Simulate, then serve until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with serving(config, host, port) as (server, result):
            if on_ready is not None:
                on_ready(server, result)
            with contextlib.suppress(KeyboardInterrupt):
                while not stop.wait(0.5):
                    pass
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = [
    "DEFAULT_PORT",
    "ROOT",
    "STATIC_APPS",
    "LocalApp",
    "LocalServer",
    "LocalTokens",
    "Route",
    "proxy_event",
    "resolve",
    "routes",
    "serve",
    "serving",
]
