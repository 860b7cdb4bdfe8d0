"""Rate limits per API key and per client IP: 429 with ``Retry-After`` past the limit.

Fixed one-minute windows, counted in memory (one process) or in Redis when
``SLUICE_REDIS_URL`` is set, so every worker and host shares the same counts. If Redis stops
answering, counting falls back to memory rather than failing requests (logged), and goes back
to Redis when it answers again.

The key is the credential the caller presents, read without a database lookup: the bearer
token, or for the Akismet API the ``api_key``/``key`` form or query field or the key in the
host name. Only a hash of it is kept. A caller who rotates made-up keys is still held by the
per-IP limit, which is why the IP limit is the higher of the two and applies to every route
but the health checks. The client IP is the connection's (uvicorn rewrites it from
``X-Forwarded-For`` only for trusted proxies, ``--forwarded-allow-ips``).

The refusal is JSON on the JSON API and plain text with Akismet's error headers on the Akismet
API (``service.akismet.rate_limited``), still status 429 with ``Retry-After`` on both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.akismet import rate_limited

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")
_AKISMET_PATH = re.compile(r"^/1\.[12]/")
_FORM_KEY = re.compile(rb"(?:^|&)(?:api_key|key)=([^&]{1,200})")
_HEX_HOST_KEY = re.compile(r"^([0-9a-f]{12})\.")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class Counter(Protocol):
    async def hit(self, name: str, limit: int, window: int) -> Decision: ...


class MemoryCounter:
    """Fixed windows in this process's memory; stale windows are swept as new ones open."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._current = -1

    async def hit(self, name: str, limit: int, window: int) -> Decision:
        now = self._clock()
        index = int(now // window)
        with self._lock:
            if index != self._current:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
                self._current = index
            count = self._counts.get((name, index), 0) + 1
            self._counts[(name, index)] = count
        if count <= limit:
            return Decision(True)
        return Decision(False, max(1, math.ceil((index + 1) * window - now)))


class RedisCounter:
    """Fixed windows in Redis (``INCR`` and ``EXPIRE`` in one round trip), memory if it fails."""

    def __init__(self, url: str, fallback: MemoryCounter | None = None) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30
        )
        self._fallback = fallback or MemoryCounter()
        self._failing_since: float | None = None

    async def hit(self, name: str, limit: int, window: int) -> Decision:
        now = time.time()
        index = int(now // window)
        key = f"sluice:rate:{name}:{index}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, window + 1)
                count, _ = await pipe.execute()
        except Exception as exc:  # any Redis trouble: count here instead of refusing service
            if self._failing_since is None:
                log.warning("Redis unavailable for rate limits (%s); counting in memory", exc)
                self._failing_since = now
            return await self._fallback.hit(name, limit, window)
        if self._failing_since is not None:
            log.warning("Redis answers again; rate limits shared again")
            self._failing_since = None
        if int(count) <= limit:
            return Decision(True)
        return Decision(False, max(1, math.ceil((index + 1) * window - now)))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def _digest(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(raw).hexdigest()[:20]


def presented_key(scope: Scope, body: bytes | None) -> str | None:
    """The API key a request presents (not verified), or None."""
    headers = dict(scope.get("headers", []))
    authorization = headers.get(b"authorization", b"")
    if authorization[:7].lower() == b"bearer " and authorization[7:].strip():
        return _digest(authorization[7:].strip())
    if not _AKISMET_PATH.match(scope.get("path", "")):
        return None
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name in ("api_key", "key") and value:
            return _digest(value)
    if body:
        found = _FORM_KEY.search(body)
        if found:
            return _digest(found.group(1))
    host = headers.get(b"host", b"").decode("latin-1").lower()
    match = _HEX_HOST_KEY.match(host)
    return _digest(match.group(1)) if match else None


class RateLimit:
    """ASGI middleware: one hit per request on the caller's IP and on the key it presents."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        counter: Counter,
        per_key: int,
        per_ip: int,
        window: int = 60,
        on_refused: Callable[[str], None] = lambda scope: None,
    ) -> None:
        self.app = app
        self.counter = counter
        self.per_key = per_key
        self.per_ip = per_ip
        self.window = window
        self.on_refused = on_refused  # called with "ip" or "key" (the metrics counter)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        if self.per_ip:
            client = scope.get("client") or ("unknown", 0)
            decision = await self.counter.hit(f"ip:{_digest(client[0])}", self.per_ip, self.window)
            if not decision.allowed:
                self.on_refused("ip")
                await self._refuse(
                    scope, send, "client IP address", self.per_ip, decision.retry_after
                )
                return
        if self.per_key:
            body = None
            if scope.get("method") == "POST" and _AKISMET_PATH.match(scope.get("path", "")):
                body, receive = await _buffer(receive)
            key = presented_key(scope, body)
            if key is not None:
                decision = await self.counter.hit(f"key:{key}", self.per_key, self.window)
                if not decision.allowed:
                    self.on_refused("key")
                    await self._refuse(scope, send, "API key", self.per_key, decision.retry_after)
                    return
        await self.app(scope, receive, send)

    async def _refuse(
        self, scope: Scope, send: Send, what: str, limit: int, retry_after: int
    ) -> None:
        message = (
            f"too many requests for this {what}: at most {limit} per "
            f"{self.window} seconds; retry in {retry_after} s"
        )
        headers = [(b"retry-after", str(retry_after).encode())]
        if _AKISMET_PATH.match(scope.get("path", "")):
            reply = rate_limited(message)
            body = reply.body.encode()
            headers.append((b"content-type", f"{reply.media_type}; charset=utf-8".encode()))
            headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        else:
            body = json.dumps({"error": "rate_limited", "message": message, "details": []}).encode()
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body (its size is already bounded by ``BodySizeLimit``), then replay it."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
