"""Sign-in, sessions, CSRF and security headers of the dashboard."""

from __future__ import annotations

import re

from dashboard_support import PASSWORD, Dash, World, csrf_of, sign_in
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.dashboard import routes
from service.dashboard.web import LoginThrottle, dashboard_state_of

PAGES = ["/", "/queue", "/models", "/sites", "/try", "/sites/1", "/models/x", "/models/x/plots/y"]


def post_routes() -> list[str]:
    """Every POST route of the dashboard, path parameters filled with 1."""
    paths = [
        "/dashboard" + re.sub(r"\{[^}]+\}", "1", route.path)
        for page in routes.PAGES
        for route in page.router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    assert len(paths) >= 9, paths
    return paths


def test_pages_need_a_session(web: TestClient, world: World) -> None:
    for path in PAGES:
        response = web.get("/dashboard" + path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/dashboard/login?next="), path


def test_forms_need_a_session(web: TestClient, world: World) -> None:
    for path in post_routes():
        if path == "/dashboard/login":
            continue
        response = web.post(path, data={"csrf": "x"}, follow_redirects=False)
        assert response.status_code == 401, path


def test_sign_in_sets_a_http_only_same_site_cookie_and_goes_back(
    web: TestClient, world: World
) -> None:
    page = web.get("/dashboard/queue?site=1", follow_redirects=True)
    assert "Sign in" in page.text
    response = web.post(
        "/dashboard/login",
        data={
            "csrf": csrf_of(page.text),
            "username": "ada",
            "password": PASSWORD,
            "next": "/dashboard/queue?site=1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/queue?site=1"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("sluice_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http in this test
    assert web.get("/dashboard/").status_code == 200


def test_cookie_is_secure_over_https(app, world: World) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        response = sign_in(client, "ada")
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("sluice_session=")
        )
        assert "Secure" in cookie


def test_next_never_leaves_the_dashboard(web: TestClient, world: World) -> None:
    for target in ("https://evil.example/", "//evil.example/dashboard/", "/admin/sites"):
        web.cookies.clear()
        page = web.get("/dashboard/login")
        form = {"csrf": csrf_of(page.text), "username": "ada", "password": PASSWORD}
        response = web.post(
            "/dashboard/login", data={**form, "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/dashboard/"


def test_wrong_password_or_unknown_user_get_the_same_answer(web: TestClient, world: World) -> None:
    wrong = sign_in(web, "ada", "wrong password!")
    unknown = sign_in(web, "nobody", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username or password." in (
        unknown.text
    )
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303


def test_sign_in_form_needs_its_csrf_cookie(app, world: World) -> None:
    client = TestClient(app)
    page = client.get("/dashboard/login")
    client.cookies.clear()
    response = client.post(
        "/dashboard/login",
        data={"csrf": csrf_of(page.text), "username": "ada", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_repeated_failures_are_throttled(web: TestClient, world: World) -> None:
    web.get("/dashboard/login")
    dashboard_state_of(web.app).throttle = LoginThrottle(limit=3)
    for _ in range(3):
        assert sign_in(web, "ada", "wrong password!").status_code == 401
    assert sign_in(web, "ada", PASSWORD).status_code == 429


def test_every_form_refuses_a_missing_or_wrong_csrf_token(admin: Dash) -> None:
    for path in post_routes():
        if path == "/dashboard/login":
            continue
        missing = admin.client.post(path, data={"version": "x"}, follow_redirects=False)
        wrong = admin.client.post(path, data={"csrf": "0" * 64}, follow_redirects=False)
        assert missing.status_code == 403, path
        assert wrong.status_code == 403, path
        assert "Form expired" in wrong.text
    assert admin.get("/dashboard/").status_code == 200  # still signed in


def test_csrf_token_is_tied_to_the_session(world: World, admin: Dash) -> None:
    other = world.client(world.admin)
    assert other.csrf != admin.csrf
    response = other.post("/dashboard/logout", {"csrf": admin.csrf})
    assert response.status_code == 403


def test_logout_ends_the_session(admin: Dash) -> None:
    token = admin.client.cookies.get("sluice_session")
    response = admin.post("/dashboard/logout")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/login")
    admin.client.cookies.set("sluice_session", token, path="/dashboard")
    assert admin.get("/dashboard/", follow_redirects=False).status_code == 303


def test_security_headers(admin: Dash) -> None:
    response = admin.get("/dashboard/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert '<a class="skip-link" href="#main">' in response.text
