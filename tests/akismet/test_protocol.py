"""The Akismet API through the app: every endpoint, and every exactness rule clients rely on."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote_plus, urlencode

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from service.storage import DatabaseUnavailable, Site, Storage

FORM = "application/x-www-form-urlencoded"
BLOG = "https://blog.example"
THANKS = "Thanks for making the web a better place."
HAM_TEXT = (
    "Thanks for the detailed write-up. I tried the second approach with PostgreSQL 15 and the "
    "vacuum settings you suggested, and the bloat went away."
)
SPAM_TEXT = (
    "Great post!!! Buy cheap v1agra and cialis online, no prescription: "
    "http://cheap-rx-pills.shop/order call +1 888 555 0199"
)


def post(client: TestClient, path: str, body: str | bytes, **headers: str) -> object:
    """POST a raw body, exactly as written, with a form content type unless one is given."""
    raw = body.encode() if isinstance(body, str) else body
    sent = {"content-type": FORM, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return client.post(path, content=raw, headers=sent)


def form(**fields: str) -> str:
    return urlencode(fields)


def storage_of(client: TestClient) -> Storage:
    return client.app.state.moderation.storage


def key_id(client: TestClient, key: str) -> int:
    match = storage_of(client).find_key(plaintext=key)
    assert match is not None
    return match.key.id


def assert_text(response, body: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.content == body.encode()  # byte-exact: no newline, no whitespace
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def assert_invalid(response, help_text: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert_text(response, "invalid")
    assert response.headers.get("x-akismet-debug-help"), "every invalid needs a debug-help"
    if help_text is not None:
        assert response.headers["x-akismet-debug-help"] == help_text


@pytest.fixture
def check(anonymous_client: TestClient, api_key: str):  # type: ignore[no-untyped-def]
    """comment-check with the site's key and blog, plus the given fields."""

    def run(**fields: str):  # type: ignore[no-untyped-def]
        body = form(api_key=api_key, blog=BLOG, user_ip="203.0.113.5", **fields)
        return post(anonymous_client, "/1.1/comment-check", body)

    return run


# -- verify-key ---------------------------------------------------------------------------------


def test_verify_key_accepts_key_or_api_key(anonymous_client: TestClient, api_key: str) -> None:
    for name in ("key", "api_key"):
        response = post(anonymous_client, "/1.1/verify-key", form(**{name: api_key, "blog": BLOG}))
        assert_text(response, "valid")
        assert "x-akismet-debug-help" not in response.headers
    # The key's site need not be the blog sent (http vs https, www...): the key decides.
    response = post(
        anonymous_client, "/1.1/verify-key", form(key=api_key, blog="http://www.other.example/")
    )
    assert_text(response, "valid")


@pytest.mark.parametrize(
    ("fields", "help_text"),
    [
        ({"key": "0123456789ab", "blog": BLOG}, "Unknown or revoked API key"),
        ({"key": "KEY", "blog": ""}, "Missing required field: blog."),
        ({"key": "KEY"}, "Missing required field: blog."),
        ({"key": "KEY", "blog": "blog.example"}, "We were unable to parse your blog URI"),
        ({"key": "KEY", "blog": "ftp://blog.example"}, "We were unable to parse your blog URI"),
        ({"key": "KEY", "blog": "http://"}, "We were unable to parse your blog URI"),
        ({"blog": BLOG}, "Missing required field: key."),
    ],
)
def test_verify_key_invalid_always_says_why(
    anonymous_client: TestClient, api_key: str, fields: dict[str, str], help_text: str
) -> None:
    body = form(**{k: v.replace("KEY", api_key) for k, v in fields.items()})
    assert_invalid(post(anonymous_client, "/1.1/verify-key", body), help_text)


def test_revoked_key_is_invalid_everywhere(anonymous_client: TestClient, api_key: str) -> None:
    storage_of(anonymous_client).revoke_key(key_id=key_id(anonymous_client, api_key))
    assert_invalid(
        post(anonymous_client, "/1.1/verify-key", form(key=api_key, blog=BLOG)),
        "Unknown or revoked API key",
    )
    fields = form(api_key=api_key, blog=BLOG, comment_content=HAM_TEXT)
    for path in ("/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"):
        assert_invalid(post(anonymous_client, path, fields), "Unknown or revoked API key")


# -- comment-check ------------------------------------------------------------------------------


def test_guaranteed_spam_author_and_email(check, anonymous_client: TestClient) -> None:  # type: ignore[no-untyped-def]
    for fields in (
        {"comment_author": "akismet-guaranteed-spam"},
        {"comment_author_email": "akismet-guaranteed-spam@example.com", "comment_content": "hi"},
    ):
        response = check(**fields)
        assert_text(response, "true")
        guid = response.headers["x-akismet-guid"]
        stored = storage_of(anonymous_client).get_check(guid)
        assert stored is not None and stored.verdict.value == "spam"


def test_administrator_role_is_never_spam(check) -> None:  # type: ignore[no-untyped-def]
    for role in ("administrator", "editor,administrator", "administrator,super_admin"):
        response = check(
            comment_content=SPAM_TEXT, comment_author="cheap viagra online", user_role=role
        )
        assert_text(response, "false")
        assert response.headers["x-akismet-guid"]
    # No content at all is fine for the role test value (clients test with it bare).
    assert_text(check(user_role="administrator"), "false")


def test_spam_and_ham_comments(check) -> None:  # type: ignore[no-untyped-def]
    assert_text(check(comment_content=HAM_TEXT, comment_author="Maria Keller"), "false")
    spam = check(
        comment_content=SPAM_TEXT,
        comment_author="cheap viagra online",
        comment_author_url="http://cheap-rx-pills.shop/",
    )
    assert_text(spam, "true")


def test_guid_names_the_stored_check_and_header_case_is_akismets(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient
) -> None:
    response = check(comment_content=HAM_TEXT, comment_author="Maria Keller")
    raw_names = [name for name, _ in response.headers.raw]
    assert b"X-akismet-guid" in raw_names
    stored = storage_of(anonymous_client).get_check(response.headers["x-akismet-guid"])
    assert stored is not None and stored.content == HAM_TEXT


@pytest.mark.parametrize(
    ("value", "is_test"),
    [
        *[(v, True) for v in ("true", "True", "1")],
        *[(v, False) for v in ("False", "false", "0", "", None)],
    ],
)
def test_is_test_answers_normally_but_is_not_counted(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, api_key: str, value: str | None, is_test: bool
) -> None:
    fields = {"comment_author": "akismet-guaranteed-spam"}
    if value is not None:
        fields["is_test"] = value
    response = check(**fields)
    assert_text(response, "true")
    storage = storage_of(anonymous_client)
    assert storage.get_check(response.headers["x-akismet-guid"]).is_test is is_test
    assert storage.usage(key_id=key_id(anonymous_client, api_key)) == (0 if is_test else 1)


def test_wordpress_style_body_bare_names_unknown_fields_arrays(
    anonymous_client: TestClient, api_key: str
) -> None:
    """About what WordPress sends: ~40 fields, empty ones bare, server variables, arrays."""
    pairs = [
        ("comment_post_ID", "12"),
        ("comment_author", "Maria Keller"),
        ("comment_author_email", "maria.keller@gmail.com"),
        ("comment_author_url", ""),
        ("comment_content", HAM_TEXT),
        ("comment_type", "comment"),
        ("user_ID", ""),
        ("user_role", ""),
        ("blog", BLOG),
        ("blog_lang", "de_DE"),
        ("blog_charset", "UTF-8"),
        ("permalink", f"{BLOG}/2024/05/vacuum/"),
        ("comment_context[]", "postgres"),
        ("comment_context[]", "databases"),
        ("POST_ak_hp_textarea", ""),
        ("POST_ak_js", "1714557600123"),
        ("POST_comment_post_ID", "12"),
        ("HTTP_HOST", "blog.example"),
        ("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("HTTP_ACCEPT_LANGUAGE", "de,en;q=0.8"),
        ("REMOTE_ADDR", "198.51.100.23"),
        ("REQUEST_URI", "/wp-comments-post.php"),
        ("DOCUMENT_URI", "/wp-comments-post.php"),
        ("akismet_comment_nonce", "passed"),
        ("api_key", api_key),
    ]
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" if v else quote_plus(k) for k, v in pairs)
    assert "&comment_author_url&" in body  # bare names, as WordPress sends empty values
    response = post(
        anonymous_client,
        "/1.1/comment-check",
        body,
        content_type=f"{FORM}; charset=UTF-8",
        user_agent="WordPress/6.5 | Akismet/5.3",
        host="rest.akismet.com",
    )
    assert_text(response, "false")
    storage = storage_of(anonymous_client)
    stored = storage.get_check(response.headers["x-akismet-guid"])
    assert stored.content == HAM_TEXT
    assert stored.fields["lang"] == "de_DE"
    assert stored.fields["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert stored.fields.get("user_ip_hash")  # REMOTE_ADDR used, stored hashed
    assert "honeypot" not in stored.fields


def test_plus_and_percent_20_give_the_same_comment(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str
) -> None:
    contents = []
    for space in ("+", "%20"):
        body = form(api_key=api_key, blog=BLOG) + f"&comment_content=Hello{space}there{space}world"
        response = post(anonymous_client, "/1.1/comment-check", body)
        assert response.content in (b"true", b"false")
        contents.append(
            storage_of(anonymous_client).get_check(response.headers["x-akismet-guid"]).content
        )
    assert contents == ["Hello there world"] * 2


@pytest.mark.parametrize(
    ("content_type", "extra"),
    [(f"{FORM}; charset=ISO-8859-1", ""), (FORM, "&blog_charset=ISO-8859-1")],
)
def test_latin1_bodies_are_decoded(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str, content_type: str, extra: str
) -> None:
    text = (
        "Tr\u00e8s bon article, merci beaucoup pour ces d\u00e9tails sur la cuisine fran\u00e7aise."
    )
    content = quote_plus(text, encoding="latin-1")
    body = f"{form(api_key=api_key, blog=BLOG)}&comment_content={content}{extra}"
    response = post(anonymous_client, "/1.1/comment-check", body, content_type=content_type)
    assert response.content in (b"true", b"false")
    stored = storage_of(anonymous_client).get_check(response.headers["x-akismet-guid"])
    assert stored.content == text


def test_undecodable_bytes_never_fail(anonymous_client: TestClient, api_key: str) -> None:
    body = f"api_key={api_key}&blog={quote_plus(BLOG)}&comment_content=caf%E9%FF%00+ok".encode()
    response = post(anonymous_client, "/1.1/comment-check", body + b"&\xff\xfe=\x80")
    assert response.content in (b"true", b"false")
    stored = storage_of(anonymous_client).get_check(response.headers["x-akismet-guid"])
    assert stored.content == "caf\ufffd\ufffd ok"


def test_duplicated_parameters_last_one_wins(anonymous_client: TestClient, api_key: str) -> None:
    body = f"{form(api_key=api_key, blog=BLOG)}&comment_author=Someone"
    body += "&comment_author=akismet-guaranteed-spam"
    assert_text(post(anonymous_client, "/1.1/comment-check", body), "true")


def test_honeypot_field_named_by_honeypot_field_name(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient
) -> None:
    storage = storage_of(anonymous_client)
    response = check(
        comment_content=HAM_TEXT, honeypot_field_name="hidden_phone", hidden_phone="555-1234"
    )
    assert storage.get_check(response.headers["x-akismet-guid"]).fields["honeypot"] == "555-1234"
    wordpress = check(comment_content=HAM_TEXT, POST_ak_hp_textarea="I am a bot")
    assert storage.get_check(wordpress.headers["x-akismet-guid"]).fields["honeypot"] == "I am a bot"


def test_key_in_the_host_name(anonymous_client: TestClient, api_key: str) -> None:
    body = form(blog=BLOG, comment_author="akismet-guaranteed-spam", user_ip="192.0.2.1")
    response = post(anonymous_client, "/1.1/comment-check", body, host=f"{api_key}.localhost:8000")
    assert_text(response, "true")
    response = post(anonymous_client, "/1.1/submit-ham", body, host=f"{api_key}.rest.akismet.com")
    assert_text(response, THANKS)
    unknown = post(anonymous_client, "/1.1/comment-check", body, host="0123456789ab.localhost:8000")
    assert_invalid(unknown, "Unknown or revoked API key")
    nowhere = post(anonymous_client, "/1.1/comment-check", body, host="rest.akismet.com")
    assert_invalid(nowhere, "Missing required field: api_key.")


def test_a_non_hex_key_in_the_host_works_when_known(anonymous_client: TestClient) -> None:
    storage = storage_of(anonymous_client)
    site = storage.create_site(url="https://other.example")
    storage.create_key(site_id=site.id, plaintext="legacykey2010")
    body = form(blog="https://other.example", comment_author="akismet-guaranteed-spam")
    response = post(anonymous_client, "/1.1/comment-check", body, host="legacykey2010.localhost")
    assert_text(response, "true")


@pytest.mark.parametrize(
    ("fields", "help_text"),
    [
        ({"blog": ""}, "Missing required field: blog."),
        ({"blog": "not a url"}, "We were unable to parse your blog URI"),
        ({"api_key": ""}, "Missing required field: api_key."),
        ({"api_key": "0123456789ab"}, "Unknown or revoked API key"),
        ({"comment_content": "", "comment_author": ""}, "Empty comment content"),
    ],
)
def test_comment_check_invalid_always_says_why(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str, fields: dict[str, str], help_text: str
) -> None:
    base = {"api_key": api_key, "blog": BLOG, "comment_content": HAM_TEXT, "user_ip": "1.2.3.4"}
    response = post(anonymous_client, "/1.1/comment-check", form(**{**base, **fields}))
    assert_invalid(response, help_text)
    assert response.headers["x-akismet-guid"]  # on every comment-check
    assert storage_of(anonymous_client).usage(key_id=key_id(anonymous_client, api_key)) == 0


def test_discard_pro_tip_only_with_true_on_discard(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, site: Site
) -> None:
    storage = storage_of(anonymous_client)
    spam = {"comment_content": SPAM_TEXT, "comment_author": "cheap viagra online"}
    storage.update_site_settings(
        site_id=site.id, cutoffs={"unsure": 0.001, "spam": 0.002, "discard": 0.003}
    )
    response = check(**spam)
    assert_text(response, "true")
    assert response.headers["x-akismet-pro-tip"] == "discard"
    assert (b"X-akismet-pro-tip", b"discard") in response.headers.raw
    storage.update_site_settings(
        site_id=site.id, cutoffs={"unsure": 0.001, "spam": 0.002, "discard": 1.0}
    )
    response = check(**spam)
    assert_text(response, "true")
    assert "x-akismet-pro-tip" not in response.headers
    # The guaranteed-spam test value is spam, not discard.
    assert "x-akismet-pro-tip" not in check(comment_author="akismet-guaranteed-spam").headers
    storage.update_site_settings(site_id=site.id, cutoffs=None)
    response = check(comment_content=HAM_TEXT)
    assert_text(response, "false")
    assert "x-akismet-pro-tip" not in response.headers


def test_unsure_answers_as_the_site_chose(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, site: Site
) -> None:
    storage = storage_of(anonymous_client)
    storage.update_site_settings(
        site_id=site.id, cutoffs={"unsure": 0.0, "spam": 1.0, "discard": 1.0}
    )
    response = check(comment_content=HAM_TEXT)
    assert storage.get_check(response.headers["x-akismet-guid"]).verdict.value == "unsure"
    assert_text(response, "false")
    storage.update_site_settings(site_id=site.id, unsure_is_spam=True)
    assert_text(check(comment_content=HAM_TEXT), "true")


def test_get_works_too_and_errors_are_never_json(
    anonymous_client: TestClient, api_key: str
) -> None:
    response = anonymous_client.get(
        "/1.1/comment-check",
        params={"api_key": api_key, "blog": BLOG, "comment_author": "akismet-guaranteed-spam"},
    )
    assert_text(response, "true")
    for path in ("/1.1/comment-check", "/1.1/verify-key", "/1.2/usage-limit", "/1.2/key-sites"):
        response = post(anonymous_client, path, b"\xff\xfe garbage \x00 body")
        assert_invalid(response)
        response = post(anonymous_client, path, '{"json": true}', content_type="application/json")
        assert_invalid(response)


def test_without_a_model_it_fails_open(tmp_path, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    empty = settings.model_copy(update={"models_dir": tmp_path / "no-models"})
    with TestClient(create_app(empty)) as client:
        storage = storage_of(client)
        site = storage.create_site(url=BLOG)
        _, key = storage.create_key(site_id=site.id)
        body = form(api_key=key, blog=BLOG, comment_content=HAM_TEXT)
        response = post(client, "/1.1/comment-check", body)
        assert_text(response, "false")
        assert response.headers["x-akismet-guid"]
        assert "x-akismet-error" not in response.headers
        storage.update_site_settings(site_id=site.id, fail_open="unsure")
        response = post(client, "/1.1/comment-check", body)
        assert_text(response, "false")
        assert response.headers["x-akismet-error"]  # WordPress holds the comment


def test_oversized_bodies_get_413(anonymous_client: TestClient, api_key: str) -> None:
    limit = anonymous_client.app.state.settings.max_body_bytes
    body = form(api_key=api_key, blog=BLOG) + "&comment_content=" + "x" * limit
    assert post(anonymous_client, "/1.1/comment-check", body).status_code == 413


# -- submit-spam / submit-ham -------------------------------------------------------------------


def _key_sites(client: TestClient, key: str, **params: str) -> dict:
    response = client.get("/1.2/key-sites", params={"api_key": key, **params})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_submissions_link_to_the_check_by_content(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, api_key: str, site: Site
) -> None:
    storage = storage_of(anonymous_client)
    ham_check = check(comment_content=HAM_TEXT, comment_author="Maria Keller")
    assert_text(ham_check, "false")
    spam_check = check(
        comment_content="Buy followers now", comment_author="akismet-guaranteed-spam"
    )
    assert_text(spam_check, "true")
    # WordPress sends no guid back: the same content identifies the check.
    missed = post(
        anonymous_client,
        "/1.1/submit-spam",
        form(
            api_key=api_key,
            blog=BLOG,
            comment_content=HAM_TEXT,
            comment_author="Maria Keller",
            reporter="admin",
            comment_check_response="false",
            site_domain="blog.example",
        ),
    )
    assert_text(missed, THANKS)
    false_positive = post(
        anonymous_client,
        "/1.1/submit-ham",
        form(api_key=api_key, blog=BLOG, comment_content="Buy followers now"),
    )
    assert_text(false_positive, THANKS)
    feedback = storage.list_feedback(site_id=site.id)
    assert [(f.label.value, f.check_id, f.source.value) for f in feedback] == [
        ("spam", ham_check.headers["x-akismet-guid"], "akismet"),
        ("ham", spam_check.headers["x-akismet-guid"], "akismet"),
    ]
    assert feedback[0].reporter == "admin"
    row = _key_sites(anonymous_client, api_key)
    (site,) = next(v for k, v in row.items() if k not in ("limit", "offset", "total"))
    assert (site["missed_spam"], site["false_positives"]) == ("1", "1")


def test_test_submissions_are_not_learned(
    anonymous_client: TestClient, api_key: str, site: Site
) -> None:
    storage = storage_of(anonymous_client)
    fields = {"api_key": api_key, "blog": BLOG, "comment_content": "Buy", "comment_author": "Eve"}
    entry = ("author_name", "Eve")
    assert_text(post(anonymous_client, "/1.1/submit-spam", form(**fields, is_test="1")), THANKS)
    assert storage.get_reputation(site_id=site.id, entries=[entry])[entry].spam == 0
    assert_text(post(anonymous_client, "/1.1/submit-spam", form(**fields)), THANKS)
    assert storage.get_reputation(site_id=site.id, entries=[entry])[entry].spam == 1


def test_submit_needs_key_blog_and_something_to_report(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str
) -> None:
    for path in ("/1.1/submit-spam", "/1.1/submit-ham"):
        assert_invalid(post(anonymous_client, path, form(api_key=api_key, comment_content="x")))
        assert_invalid(post(anonymous_client, path, form(blog=BLOG, comment_content="x")))
        assert_invalid(
            post(anonymous_client, path, form(api_key=api_key, blog=BLOG)), "Empty comment content"
        )


# -- 1.2: usage-limit and key-sites -------------------------------------------------------------


def test_usage_limit_counts_real_checks_only(
    check, anonymous_client: TestClient, api_key: str
) -> None:  # type: ignore[no-untyped-def]
    check(comment_content=HAM_TEXT)
    check(comment_author="akismet-guaranteed-spam")
    check(comment_author="akismet-guaranteed-spam", is_test="true")
    post(anonymous_client, "/1.1/verify-key", form(key=api_key, blog=BLOG))
    expected = {"limit": "none", "usage": 2, "percentage": "0.00", "throttled": False}
    response = anonymous_client.get("/1.2/usage-limit", params={"api_key": api_key})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == expected
    assert post(anonymous_client, "/1.2/usage-limit", form(api_key=api_key)).json() == expected
    extended = anonymous_client.get(
        "/1.2/usage-limit", params={"api_key": api_key, "extended": "1"}
    )
    assert extended.json() == {**expected, "notice_level": None, "upgrade": False}
    assert_invalid(anonymous_client.get("/1.2/usage-limit", params={"api_key": "0123456789ab"}))
    assert_invalid(anonymous_client.get("/1.2/usage-limit"), "Missing required field: api_key.")


def test_key_sites_json_shape(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, api_key: str, site: Site
) -> None:
    check(comment_content=HAM_TEXT)
    check(comment_author="akismet-guaranteed-spam")
    check(comment_author="akismet-guaranteed-spam")
    data = _key_sites(anonymous_client, api_key)
    month = next(k for k in data if k not in ("limit", "offset", "total"))
    assert len(month) == 7 and month[4] == "-"
    assert data == {
        month: [
            {
                "site": site.url.removeprefix("https://"),
                "api_calls": "3",
                "spam": "2",
                "ham": "1",
                "missed_spam": "0",
                "false_positives": "0",
                "is_revoked": False,
            }
        ],
        "limit": 500,
        "offset": 0,
        "total": 1,
    }
    assert list(data) == [month, "limit", "offset", "total"]
    paged = _key_sites(anonymous_client, api_key, limit="10", offset="1", order="spam")
    assert paged == {month: [], "limit": 10, "offset": 1, "total": 1}
    assert _key_sites(anonymous_client, api_key, filter="nomatch")[month] == []
    assert _key_sites(anonymous_client, api_key, filter=site.url[8:].upper())["total"] == 1
    old = _key_sites(anonymous_client, api_key, month="2020-01")
    assert old["2020-01"][0]["api_calls"] == "0"
    bad = anonymous_client.get("/1.2/key-sites", params={"api_key": api_key, "month": "2020-13"})
    assert_invalid(bad)
    by_post = post(anonymous_client, "/1.2/key-sites", form(api_key=api_key, format="json"))
    assert json.loads(by_post.content) == data


def test_key_sites_csv_shape(  # type: ignore[no-untyped-def]
    check, anonymous_client: TestClient, api_key: str, site: Site
) -> None:
    check(comment_author="akismet-guaranteed-spam")
    response = anonymous_client.get(
        "/1.2/key-sites", params={"api_key": api_key, "format": "csv", "limit": "10"}
    )
    assert response.status_code == 200
    lines = response.text.split("\n")
    assert not response.text.endswith("\n")
    month = next(iter(_key_sites(anonymous_client, api_key)))
    assert lines[0] == f"Active sites for {api_key} during {month} (limit:10, offset: 0, total: 1)"
    assert lines[1] == "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked"
    assert list(csv.reader(io.StringIO(lines[2]))) == [
        [site.url.removeprefix("https://"), "1", "1", "0", "0", "0", "false"]
    ]
    assert len(lines) == 3


def test_pypi_key_sites_without_a_key_is_invalid_but_a_bearer_header_works(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str
) -> None:
    """akismet 25.10 ``key_sites()`` sends only ``format=json``: documented answer."""
    response = anonymous_client.get("/1.2/key-sites", params={"format": "json"})
    assert_invalid(response, "Missing required field: api_key.")
    response = anonymous_client.get(
        "/1.2/key-sites",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200 and response.json()["total"] == 1


# -- what the WordPress settings screen calls ---------------------------------------------------


def test_wordpress_settings_screen_calls(anonymous_client: TestClient, api_key: str) -> None:
    sub = post(anonymous_client, "/1.1/get-subscription", form(key=api_key, blog=BLOG))
    assert sub.status_code == 200 and sub.json()["status"] == "active"
    assert_invalid(post(anonymous_client, "/1.1/get-subscription", form(key="0123456789ab")))
    for interval in ("6-months", "all"):
        stats = post(
            anonymous_client, "/1.1/get-stats", form(key=api_key, blog=BLOG, **{"from": interval})
        )
        assert stats.json() == {
            "spam": 0,
            "ham": 0,
            "missed_spam": 0,
            "false_positives": 0,
            "accuracy": 100.0,
        }
    assert_text(anonymous_client.get("/1.1/test"), "connected")
    assert_text(
        post(anonymous_client, "/1.1/deactivate", form(key=api_key, blog=BLOG)), "deactivated"
    )
    assert_invalid(post(anonymous_client, "/1.1/deactivate", form(blog=BLOG)))


def test_get_stats_counts_checks_and_feedback(
    check, anonymous_client: TestClient, api_key: str
) -> None:  # type: ignore[no-untyped-def]
    check(comment_author="akismet-guaranteed-spam", comment_content="Cheap pills")
    check(comment_content=HAM_TEXT)
    post(
        anonymous_client,
        "/1.1/submit-ham",
        form(api_key=api_key, blog=BLOG, comment_content="Cheap pills"),
    )
    stats = post(
        anonymous_client, "/1.1/get-stats", form(key=api_key, blog=BLOG, **{"from": "all"})
    )
    assert stats.json() == {
        "spam": 1,
        "ham": 1,
        "missed_spam": 0,
        "false_positives": 1,
        "accuracy": 50.0,
    }


def test_database_outage_is_a_503_clients_retry(  # type: ignore[no-untyped-def]
    anonymous_client: TestClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(**_: object) -> None:
        raise DatabaseUnavailable("database unavailable (OperationalError)")

    monkeypatch.setattr(storage_of(anonymous_client), "find_key", down)
    response = post(anonymous_client, "/1.1/comment-check", form(api_key=api_key, blog=BLOG))
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-akismet-error"]
    assert response.headers["x-akismet-guid"]
