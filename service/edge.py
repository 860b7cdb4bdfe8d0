"""The outermost middleware: a request id for every request, and the security headers.

The id comes from the client's ``X-Request-ID`` when it is a short token (so a proxy's id
carries through), else it is made here. It is set in ``service.logs.REQUEST_ID`` for every
log line of the request, kept in ``request.state.request_id`` and sent back as
``X-Request-ID``.

Headers are only added when the response has none of that name, so the dashboard keeps its
own Content-Security-Policy. API answers (anything that is not HTML) get
``default-src 'none'``: a JSON body opened in a browser can run nothing.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import REQUEST_ID

_INCOMING_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and _INCOMING_ID.match(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestContext:
    """Request id (log context, ``X-Request-ID``) and security headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode("ascii")))
                extra = list(SECURITY_HEADERS)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if not content_type.startswith(b"text/html"):
                    extra.append(API_CSP)
                headers.extend((n, v) for n, v in extra if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            REQUEST_ID.reset(token)
