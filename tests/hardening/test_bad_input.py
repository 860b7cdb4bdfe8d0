"""Bad input at the edge of the JSON API: a 4xx JSON error naming the field, never a 500,
and nothing stored is touched."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.limits import TimeLimit

GOOD = {"content": "Thanks, the second approach worked for me on PostgreSQL 15."}
JSON = {"content-type": "application/json"}


def _raw(body: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": content_type} if content_type else {}}


def _with(**fields: Any) -> dict[str, Any]:
    return {"json": {**GOOD, **fields}}


# (case, request kwargs for POST /v1/comments/check, expected status, text the error must name)
CHECK_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("content missing", {"json": {"author_name": "Ann"}}, 422, "content"),
    ("content a number", {"json": {"content": 5}}, 422, "content"),
    ("content a list", {"json": {"content": ["a"]}}, 422, "content"),
    ("content null", {"json": {"content": None}}, 422, "content"),
    ("content empty", _with(content=""), 422, "content"),
    ("content whitespace", _with(content=" \n\t\u3000 "), 422, "content"),
    ("content too long", _with(content="a" * 65_537), 422, "content"),
    ("content with NUL", _with(content="spam\x00here"), 422, "content"),
    ("author_name with NUL", _with(author_name="Ann\x00"), 422, "author_name"),
    ("author_email too long", _with(author_email="a" * 400 + "@x.org"), 422, "author_email"),
    ("user_agent a dict", _with(user_agent={"a": 1}), 422, "user_agent"),
    ("unknown field", _with(colour="red"), 422, "colour"),
    ("user_ip not an IP", _with(user_ip="999.1.1.1"), 422, "user_ip"),
    ("date in year 3000", _with(created_at="3000-01-01T00:00:00Z"), 422, "created_at"),
    ("date in year 1", _with(created_at="0001-01-01T00:00:00Z"), 422, "created_at"),
    ("date as huge number", _with(post_published_at=1e20), 422, "post_published_at"),
    ("date as text", _with(created_at="yesterday"), 422, "created_at"),
    ("author_url javascript", _with(author_url="javascript:alert(1)"), 422, "author_url"),
    ("author_url no scheme", _with(author_url="example.com/me"), 422, "author_url"),
    ("author_url with space", _with(author_url="http://exa mple.com"), 422, "author_url"),
    ("referrer ftp", _with(referrer="ftp://example.com/"), 422, "referrer"),
    ("permalink without host", _with(permalink="https:///path"), 422, "permalink"),
    ("permalink bad port", _with(permalink="http://example.com:http/"), 422, "permalink"),
    ("site not a URL", _with(site="my blog"), 422, "site"),
    ("malformed JSON", _raw(b'{"content": "x"'), 422, "malformed JSON"),
    ("invalid UTF-8", _raw(b'{"content": "caf\xe9"}'), 422, "UTF-8"),
    ("UTF-16 body", _raw(json.dumps(GOOD).encode("utf-16")), 422, "UTF-8"),
    ("lone surrogate", _raw(b'{"content": "a\\ud800b"}'), 422, "content"),
    ("duplicated key", _raw(b'{"content": "a", "content": "b"}'), 422, "content"),
    ("NaN", _raw(b'{"content": "a", "created_at": NaN}'), 422, "NaN"),
    ("deep nesting", _raw(b'{"content": ' + b"[" * 5000 + b"]" * 5000 + b"}"), 422, "nested"),
    ("array body", {"json": [GOOD]}, 422, "body"),
    ("empty body", _raw(b""), 422, "body"),
    ("wrong content type", _raw(json.dumps(GOOD).encode(), "text/plain"), 415, "Content-Type"),
    ("form body", {"data": GOOD}, 415, "Content-Type"),
    ("no content type", _raw(json.dumps(GOOD).encode(), None), 415, "Content-Type"),
]


def _assert_error(response: Any, status: int, names: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert names in body["message"] + json.dumps(body["details"])


@pytest.mark.parametrize(
    ("request_kwargs", "status", "names"),
    [pytest.param(kw, st, nm, id=case) for case, kw, st, nm in CHECK_CASES],
)
def test_bad_check_is_refused_naming_the_field(
    keyed_client: TestClient, request_kwargs: dict[str, Any], status: int, names: str
) -> None:
    _assert_error(keyed_client.post("/v1/comments/check", **request_kwargs), status, names)


def test_bad_requests_store_nothing(keyed_client: TestClient) -> None:
    storage = keyed_client.app.state.moderation.storage
    key = keyed_client.headers["Authorization"].split()[1]
    site = storage.find_key(plaintext=key).site
    stored = keyed_client.post("/v1/comments/check", json=GOOD).json()["id"]
    before = (storage.site_stats(site_id=site.id), storage.list_feedback(site_id=site.id))
    for _case, kwargs, _status, _names in CHECK_CASES:
        assert keyed_client.post("/v1/comments/check", **kwargs).status_code < 500
        assert keyed_client.post("/v1/comments/check-batch", **kwargs).status_code < 500
        assert keyed_client.post(f"/v1/comments/{stored}/feedback", **kwargs).status_code < 500
    assert [c.id for c in storage.list_checks(site_id=site.id)] == [stored]
    assert (storage.site_stats(site_id=site.id), storage.list_feedback(site_id=site.id)) == before


def test_bad_batches_and_feedback(keyed_client: TestClient) -> None:
    post = keyed_client.post
    limit = keyed_client.app.state.settings.max_batch
    _assert_error(post("/v1/comments/check-batch", json={"comments": []}), 422, "comments")
    too_many = {"comments": [GOOD] * (limit + 1)}
    _assert_error(post("/v1/comments/check-batch", json=too_many), 400, "comments")
    mixed = {"comments": [GOOD, {**GOOD, "content": " "}]}
    _assert_error(post("/v1/comments/check-batch", json=mixed), 422, "comments.1.content")
    check_id = post("/v1/comments/check", json=GOOD).json()["id"]
    url = f"/v1/comments/{check_id}/feedback"
    _assert_error(post(url, json={"label": "eggs"}), 422, "label")
    _assert_error(post(url, json={}), 422, "label")
    _assert_error(post(url, json={"label": "spam", "reporter": "x" * 201}), 422, "reporter")
    _assert_error(post("/v1/comments/a%20b/feedback", json={"label": "spam"}), 422, "check_id")
    _assert_error(post(f"/v1/comments/{'a' * 65}/feedback", json={"label": "spam"}), 422, "")
    _assert_error(post("/v1/comments/unknown/feedback", json={"label": "spam"}), 404, "unknown")


def test_url_with_a_bracketed_host_that_is_not_ipv6_is_no_server_error(
    keyed_client: TestClient,
) -> None:
    # Found by Schemathesis: urlsplit raises on "[2d]", once inside reputation hashing (a 500).
    comment = {**GOOD, "author_url": "http://[2d]/", "content": "see http://[2d]/ x"}
    assert keyed_client.post("/v1/comments/check", json=comment).status_code == 200
    key = keyed_client.headers["Authorization"].split()[1]
    form = {
        "api_key": key,
        "blog": "https://blog.example",
        "comment_content": "see http://[2d]/ x",
        "comment_author_url": "http://[2d]/",
    }
    assert keyed_client.post("/1.1/comment-check", data=form).status_code == 200


def test_admin_api_refuses_bad_bodies(shared_app_client: TestClient) -> None:
    headers = {"Authorization": "Bearer hardening-admin-token"}
    post = shared_app_client.post
    body = b'{"url": "https://a.example", "url": "https://b.example"}'
    _assert_error(post("/admin/sites", content=body, headers={**headers, **JSON}), 422, "url")
    _assert_error(post("/admin/sites", data={"url": "x"}, headers=headers), 415, "Content-Type")


def test_body_over_the_limit_is_413_before_reading_it(keyed_client: TestClient) -> None:
    limit = keyed_client.app.state.settings.max_body_bytes
    big = json.dumps({"content": "a" * limit}).encode()
    _assert_error(keyed_client.post("/v1/comments/check", content=big, headers=JSON), 413, "")

    def chunks():  # no Content-Length: the limit applies while streaming
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    response = keyed_client.post("/v1/comments/check", content=chunks(), headers=JSON)
    _assert_error(response, 413, "")


def test_time_limit_answers_503_json_instead_of_hanging() -> None:
    app = FastAPI()

    @app.get("/slow")
    def slow() -> dict[str, str]:
        time.sleep(1.0)
        return {"done": "late"}

    @app.get("/fast")
    def fast() -> dict[str, str]:
        return {"done": "now"}

    app.add_middleware(TimeLimit, seconds=0.2)
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/slow")
        assert time.monotonic() - started < 0.9
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "timeout"
        assert client.get("/fast").json() == {"done": "now"}


def test_request_id_and_security_headers(keyed_client: TestClient) -> None:
    response = keyed_client.post("/v1/comments/check", json=GOOD)
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    given = keyed_client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"})
    assert given.headers["x-request-id"] == "lb-1234.abc"
    forged = keyed_client.get("/healthz", headers={"X-Request-ID": "a\tb" + "x" * 100})
    assert forged.headers["x-request-id"] != "a\tb" + "x" * 100


def test_cors_is_closed_by_default(keyed_client: TestClient) -> None:
    preflight = keyed_client.options(
        "/v1/comments/check",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = keyed_client.post(
        "/v1/comments/check", json=GOOD, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers
