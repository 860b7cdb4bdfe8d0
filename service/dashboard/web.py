"""Plumbing shared by the dashboard pages: templates, sessions, CSRF, forms and error pages.

Every dashboard route is a ``DashboardRoute``: errors raised by a page (or by the domain
below it) become an HTML page, or a small JSON body when the page was called by the
dashboard's own JavaScript, instead of the API's JSON errors; every response gets strict
security headers. A page asks for the signed-in user with ``UserDep`` / ``AdminDep`` and
for a POSTed form with ``FormDep``, which refuses the request unless the form carries the
session's CSRF token: there is no way to read a form without checking it.

The CSRF token is an HMAC of the session token (itself random and only in an HttpOnly
cookie), so it needs no storage and changes with every sign-in. The sign-in form, which
has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup

from service.moderation import Moderation, NotReadyError
from service.storage import (
    AlreadyExists,
    DatabaseUnavailable,
    InvalidValue,
    NotFound,
    Site,
    StorageError,
)
from service.storage.accounts import Accounts, DashboardUser

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
SESSION_COOKIE = "sluice_session"
LOGIN_COOKIE = "sluice_login"
MAX_FORM_FIELDS = 2000
FORM_TYPE = "application/x-www-form-urlencoded"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

#: Messages shown after a redirect, chosen by the ``msg`` query parameter (never free text).
MESSAGES = {
    "feedback": "Feedback recorded for {n} comment(s); the filter has learnt from it.",
    "promoted": "Model {v} is now current and served.",
    "rolled_back": "Rolled back: model {v} is now current and served.",
    "site_created": "Site created. Create an API key for it below.",
    "settings_saved": "Settings saved.",
    "revoked": "Key revoked: requests with it are now refused.",
    "signed_out": "You are signed out.",
}


# -- errors --------------------------------------------------------------------------


class DashboardError(Exception):
    """An error page: ``status``, a short ``title`` and a message safe to show."""

    status = 400
    title = "Something is not right"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginRequired(DashboardError):
    status = 401
    title = "Please sign in"


class Forbidden(DashboardError):
    status = 403
    title = "Not allowed"


class CsrfRejected(Forbidden):
    title = "Form expired"


class PageNotFound(DashboardError):
    status = 404
    title = "Not found"


class BadForm(DashboardError):
    status = 422
    title = "Please check the form"


class TooManyAttempts(DashboardError):
    status = 429
    title = "Too many attempts"


_STORAGE_ERRORS: dict[type[StorageError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    AlreadyExists: (409, "Already exists"),
    InvalidValue: (422, "Please check the form"),
    DatabaseUnavailable: (503, "Database unavailable"),
}


# -- per-app state -------------------------------------------------------------------


class LoginThrottle:
    """Slows password guessing: at most ``limit`` failures per key in ``window`` seconds."""

    def __init__(self, *, limit: int = 10, window: float = 600.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._fresh(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > self.max_keys:
                self._failures.clear()  # crude but bounded; an attacker gains a few tries
            for key in keys:
                self._fresh(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


@dataclass
class DashboardState:
    accounts: Accounts
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


_state_lock = threading.Lock()


def dashboard_state(request: Request) -> DashboardState:
    """This app's dashboard state, made on first use over the app's storage engine."""
    return dashboard_state_of(request.app)


def dashboard_state_of(app: Any) -> DashboardState:
    state = app.state
    current = getattr(state, "dashboard", None)
    if current is None:
        with _state_lock:
            current = getattr(state, "dashboard", None)
            if current is None:
                current = DashboardState(accounts=Accounts(state.moderation.storage.engine))
                state.dashboard = current
    return current  # type: ignore[no-any-return]


def moderation_of(request: Request) -> Moderation:
    moderation: Moderation = request.app.state.moderation
    return moderation


# -- sessions and CSRF ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signed:
    """The signed-in user of a request, with the session's CSRF token."""

    user: DashboardUser
    token: str
    csrf: str


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"sluice-dashboard-csrf", hashlib.sha256).hexdigest()


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") + PREFIX


def signed_in(request: Request) -> Signed | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    user = dashboard_state(request).accounts.session_user(token=token)
    if user is None:
        return None
    return Signed(user=user, token=token, csrf=csrf_for(token))


def require_user(request: Request) -> Signed:
    signed = signed_in(request)
    if signed is None:
        raise LoginRequired("Your session has ended or you have not signed in yet.")
    return signed


def require_admin(signed: Annotated[Signed, Depends(require_user)]) -> Signed:
    if not signed.user.is_admin:
        raise Forbidden("Only administrators can do this.")
    return signed


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=base_path(request),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path=base_path(request),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


# -- forms ---------------------------------------------------------------------------


class Form:
    """A parsed ``application/x-www-form-urlencoded`` body."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self._fields = dict(fields)

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))

    def __contains__(self, name: object) -> bool:
        return name in self._fields


async def read_form(request: Request) -> Form:
    """Parse the body as a URL-encoded form (the body size is bounded by the app)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadForm(f"Forms must be sent as {FORM_TYPE}.")
    body = await request.body()
    try:
        fields = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm("The form could not be read.") from exc
    return Form(fields)


async def checked_form(request: Request, signed: Annotated[Signed, Depends(require_user)]) -> Form:
    """The POSTed form, after checking its CSRF token against the session's."""
    form = await read_form(request)
    given = form.get("csrf") or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(given.encode(), signed.csrf.encode()):
        raise CsrfRejected("This form has expired. Reload the page and try again.")
    return form


UserDep = Annotated[Signed, Depends(require_user)]
AdminDep = Annotated[Signed, Depends(require_admin)]
FormDep = Annotated[Form, Depends(checked_form)]


# -- templates and responses ---------------------------------------------------------


@functools.cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"
    env.filters["pct"] = lambda v, d=1: "–" if v is None else f"{100 * v:.{d}f}%"
    env.filters["when"] = format_time
    return env


def format_time(moment: datetime | None) -> Markup:
    if moment is None:
        return Markup("–")
    moment = moment.astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.isoformat(timespec="seconds"), moment.strftime("%Y-%m-%d %H:%M UTC")
    )


@functools.cache
def _asset_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(request: Request, name: str) -> str:
    return f"{base_path(request)}/static/{name}?v={_asset_version(name)}"


def visible_sites(request: Request, user: DashboardUser) -> list[Site]:
    sites = moderation_of(request).storage.list_sites()
    return [s for s in sites if user.may_see(s.id)]


def flash(request: Request) -> list[str]:
    code = request.query_params.get("msg", "")
    template = MESSAGES.get(code)
    if template is None:
        return []
    n = request.query_params.get("n", "")
    version = request.query_params.get("v", "")
    return [template.format(n=n if n.isdigit() else "some", v=version[:64])]


def render(
    request: Request,
    template: str,
    *,
    signed: Signed | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """An HTML page; ``signed`` fills the navigation and the forms' CSRF token."""
    base = base_path(request)
    page = templates().get_template(template)
    html = page.render(
        request=request,
        base=base,
        static=functools.partial(static_url, request),
        user=signed.user if signed else None,
        csrf=signed.csrf if signed else "",
        messages=context.pop("messages", None) or flash(request),
        errors=context.pop("errors", []),
        nav=context.pop("nav", ""),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def redirect(url: str, **query: Any) -> RedirectResponse:
    clean = {k: v for k, v in query.items() if v not in (None, "")}
    if clean:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(clean, doseq=True)}"
    return RedirectResponse(url, status_code=303)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def error_response(request: Request, exc: DashboardError) -> Response:
    if isinstance(exc, LoginRequired) and request.method == "GET" and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{base_path(request)}/login", next=target)
    if wants_json(request):
        return JSONResponse({"error": exc.title, "message": exc.message}, status_code=exc.status)
    try:
        signed = signed_in(request)
    except StorageError:
        signed = None
    response = render(
        request, "error.html", signed=signed, status=exc.status, title=exc.title, exc=exc
    )
    return response


def _as_dashboard_error(exc: Exception) -> DashboardError | None:
    if isinstance(exc, DashboardError):
        return exc
    if isinstance(exc, NotReadyError):
        error = DashboardError(f"No model is loaded yet: {exc}")
        error.status, error.title = 503, "Model not ready"
        return error
    if isinstance(exc, StorageError):
        status, title = next(
            (v for k, v in _STORAGE_ERRORS.items() if isinstance(exc, k)), (500, "Storage error")
        )
        error = DashboardError(str(exc))
        error.status, error.title = status, title
        return error
    return None


class DashboardRoute(APIRoute):
    """Turns page errors into HTML (or JSON for scripts) and adds security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                error = _as_dashboard_error(exc)
                if error is None:
                    raise
                if error.status >= 500:
                    log.warning("dashboard %s: %s", request.url.path, type(exc).__name__)
                response = error_response(request, error)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return dashboard_handler


def make_router(**kwargs: Any) -> APIRouter:
    """A router whose routes are ``DashboardRoute``s, hidden from the API's OpenAPI."""
    return APIRouter(route_class=DashboardRoute, include_in_schema=False, **kwargs)


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(json.dumps(data, default=str)), status_code=status)
