"""Sign-in and sign-out pages.

Accounts are created from the command line (``python -m service users create``); there
is no sign-up page. A failed sign-in says only that the name or the password is wrong,
takes the same time whether the user exists or not, and repeated failures for one name
or one address are refused for a while (``LoginThrottle``).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from service.dashboard.web import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    Form,
    FormDep,
    TooManyAttempts,
    UserDep,
    base_path,
    clear_cookie,
    dashboard_state,
    make_router,
    read_form,
    redirect,
    render,
    set_cookie,
    signed_in,
)

router = make_router()
LOGIN_COOKIE_SECONDS = 3600


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: only a path inside the dashboard, never another site."""
    base = base_path(request)
    if (
        target
        and target.startswith(base + "/")
        and not target.startswith("//")
        and "\\" not in target
        and len(target) < 2000
    ):
        return target
    return base + "/"


def _login_page(
    request: Request, *, next_url: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE, "")
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        next_url=next_url,
        username=username,
        errors=[error] if error else [],
    )
    set_cookie(request, response, LOGIN_COOKIE, token, LOGIN_COOKIE_SECONDS)
    return response


@router.get("/login")
def read_login(
    request: Request,
    next_url: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    """The sign-in form (or straight on, when already signed in)."""
    if signed_in(request) is not None:
        return redirect(safe_next(request, next_url))
    return _login_page(request, next_url=safe_next(request, next_url))


async def _login_form(request: Request) -> Form:
    form = await read_form(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("csrf")
    if not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
        raise CsrfRejected(
            "The sign-in form has expired (or cookies are blocked). Reload the page and try again."
        )
    return form


@router.post("/login")
def create_session(request: Request, form: Annotated[Form, Depends(_login_form)]) -> Response:
    """Check the name and password and start a session."""
    state = dashboard_state(request)
    username = form.get("username").strip()[:64]
    password = form.get("password")
    next_url = safe_next(request, form.get("next"))
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"ip:{client}")
    if state.throttle.blocked(*keys):
        raise TooManyAttempts("Too many failed sign-ins. Wait ten minutes and try again.")
    user = state.accounts.authenticate(username=username, password=password)
    if user is None:
        state.throttle.failed(*keys)
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error="Wrong username or password.",
            status=401,
        )
    state.throttle.succeeded(*keys)
    session = state.accounts.start_session(user_id=user.id)
    response = redirect(next_url)
    seconds = int(state.accounts.session_ttl.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, session.token, seconds)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def delete_session(request: Request, signed: UserDep, form: FormDep) -> Response:
    """End this session."""
    dashboard_state(request).accounts.end_session(token=signed.token)
    response = redirect(f"{base_path(request)}/login", msg="signed_out")
    clear_cookie(request, response, SESSION_COOKIE)
    return response
