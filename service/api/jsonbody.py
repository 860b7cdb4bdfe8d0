"""Strict JSON request bodies for the JSON API routers (``route_class=StrictJsonRoute``).

FastAPI's own body reading accepts what ``json.loads`` accepts: UTF-16 and UTF-32, a
duplicated key (the last one silently wins), ``NaN`` and ``Infinity``, and it answers a
missing or foreign ``Content-Type`` with a puzzling "should be a valid dictionary". Here:

- a body with a ``Content-Type`` other than JSON (or none) is answered 415;
- the body must be UTF-8 (RFC 8259), a byte-order mark is tolerated;
- a key given twice in one object, ``NaN``/``Infinity`` and nesting deeper than
  ``MAX_DEPTH`` are malformed JSON.

Malformed bodies raise ``json.JSONDecodeError``, which FastAPI turns into a
``RequestValidationError`` and ``service.errors`` into a 422 that says what was wrong.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from service.errors import UnsupportedMediaType

MAX_DEPTH = 32
_BOM = b"\xef\xbb\xbf"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key[:64]!r} is given twice")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth_ok(text: str) -> bool:
    """Cheap upper bound on nesting: brackets outside strings never exceed ``MAX_DEPTH``."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return True
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_strict(body: bytes) -> Any:
    """Parse a request body as strict JSON; ``json.JSONDecodeError`` says why it is not."""
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(
            f"body is not valid UTF-8 (byte 0x{body[exc.start]:02x})", "", exc.start
        ) from None
    if not _depth_ok(text):
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None


def is_json_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """An ``APIRoute`` whose JSON body is read by ``parse_strict`` and must say it is JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        wants_json_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            request = StrictJsonRequest(request.scope, request.receive)
            if wants_json_body and await request.body():
                content_type = request.headers.get("content-type", "")
                if not is_json_type(content_type):
                    raise UnsupportedMediaType(
                        f"Content-Type {content_type[:100]!r} is not accepted here; "
                        "send 'Content-Type: application/json'"
                        if content_type
                        else "missing Content-Type; send 'Content-Type: application/json'"
                    )
            return await handler(request)

        return strict_handler
