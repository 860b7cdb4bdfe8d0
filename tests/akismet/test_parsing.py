"""``service.akismet`` on its own: form parsing, field mapping, flags and key sources."""

from __future__ import annotations

import pytest

from service.akismet import (
    AkismetCall,
    Form,
    answer,
    comment_record,
    declared_charset,
    host_label,
    is_truthy,
    key_sources,
    parse_form,
    spam_and_ham,
)
from training.verdicts import Verdict

FORM = "application/x-www-form-urlencoded"


def test_plus_and_percent_20_are_both_spaces() -> None:
    assert parse_form(b"comment_content=a+b%20c").get("comment_content") == "a b c"
    assert parse_form(b"a%2Bb=1%2B1").get("a+b") == "1+1"


def test_bare_names_are_empty_values_and_empty_pieces_are_skipped() -> None:
    form = parse_form(b"comment_author&&is_test&user_ip=1.2.3.4&=x&")
    assert form.get("comment_author") == ""
    assert "comment_author" in form and "is_test" in form
    assert form.get("user_ip") == "1.2.3.4"
    assert form.get("") == "x"


def test_repeated_names_last_wins_and_arrays_collect() -> None:
    form = parse_form(
        b"comment_author=first&comment_author=second&comment_context[]=tag1"
        b"&comment_context%5B%5D=tag2&comment_context[7]=tag3&comment_context=solo"
    )
    assert form.get("comment_author") == "second"
    assert form.getlist("comment_context") == ["tag1", "tag2", "tag3", "solo"]
    assert form.get("comment_context[]") == "tag2"


def test_query_then_body_body_wins() -> None:
    form = parse_form(b"api_key=from-body", query="api_key=from-query&format=csv")
    assert form.get("api_key") == "from-body"
    assert form.get("format") == "csv"


@pytest.mark.parametrize(
    ("content_type", "fields", "expected"),
    [
        (f"{FORM}; charset=ISO-8859-1", b"", "caf\u00e9 cr\u00e8me"),
        (f'{FORM};charset="iso-8859-1"', b"", "caf\u00e9 cr\u00e8me"),
        (FORM, b"&blog_charset=ISO-8859-1", "caf\u00e9 cr\u00e8me"),
        (f"{FORM}; charset=latin1", b"&blog_charset=UTF-8", "caf\u00e9 cr\u00e8me"),
        (f"{FORM}; charset=no-such-codec", b"&blog_charset=ISO-8859-1", "caf\u00e9 cr\u00e8me"),
    ],
)
def test_declared_charset_decodes_values(content_type: str, fields: bytes, expected: str) -> None:
    body = b"comment_content=caf%E9+cr%E8me" + fields
    assert parse_form(body, content_type=content_type).get("comment_content") == expected


def test_utf8_is_the_default_and_bad_bytes_are_replaced_never_raised() -> None:
    assert parse_form(b"c=caf%C3%A9").get("c") == "caf\u00e9"
    assert parse_form(b"c=caf%E9%FF%00end").get("c") == "caf\ufffd\ufffdend"
    assert parse_form(b"c=%zz%4").get("c") == "%zz%4"
    assert parse_form(bytes(range(256))).pairs  # anything at all parses
    assert declared_charset("text/plain; charset=utf8", None) == "utf-8"
    assert declared_charset(None, "bogus") == "utf-8"


def test_field_count_is_bounded() -> None:
    body = "&".join(f"f{i}=v" for i in range(5000)).encode()
    assert len(parse_form(body)) == 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(v, True) for v in ("true", "True", "TRUE", "1", " true ")],
        *[(v, False) for v in ("false", "False", "0", "", None, "yes", "2")],
    ],
)
def test_is_test_truthiness(value: str | None, expected: bool) -> None:
    assert is_truthy(value) is expected


def test_comment_record_maps_every_akismet_field() -> None:
    form = Form(
        [
            ("comment_content", "Nice post"),
            ("comment_author", " Ann "),
            ("comment_author_email", "ann@example.org"),
            ("comment_author_url", "https://ann.example"),
            ("user_ip", "2001:db8::1"),
            ("user_agent", "Mozilla/5.0"),
            ("referrer", "https://blog.example/a"),
            ("permalink", "https://blog.example/post"),
            ("comment_type", "comment"),
            ("blog_lang", "en_US"),
            ("comment_date_gmt", "2024-05-01 10:00:00"),
            ("comment_post_modified_gmt", "2024-04-30T08:00:00Z"),
            ("honeypot_field_name", "hp"),
            ("hp", "bot text"),
        ]
    )
    assert comment_record(form) == {
        "content": "Nice post",
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "author_url": "https://ann.example",
        "user_ip": "2001:db8::1",
        "user_agent": "Mozilla/5.0",
        "referrer": "https://blog.example/a",
        "permalink": "https://blog.example/post",
        "comment_type": "comment",
        "lang": "en_US",
        "created_at": "2024-05-01T10:00:00+00:00",
        "post_published_at": "2024-04-30T08:00:00+00:00",
        "honeypot": "bot text",
    }


def test_server_variables_are_fallbacks_only() -> None:
    wp = Form(
        [
            ("REMOTE_ADDR", "203.0.113.9"),
            ("HTTP_USER_AGENT", "Firefox"),
            ("HTTP_REFERER", "https://r.example"),
            ("POST_ak_hp_textarea", "filled"),
        ]
    )
    record = comment_record(wp)
    assert (record["user_ip"], record["user_agent"], record["referrer"]) == (
        "203.0.113.9",
        "Firefox",
        "https://r.example",
    )
    assert record["honeypot"] == "filled"
    both = Form([("user_ip", "198.51.100.1"), ("REMOTE_ADDR", "203.0.113.9")])
    assert comment_record(both)["user_ip"] == "198.51.100.1"


def test_unusable_values_are_dropped_or_cut_not_refused() -> None:
    record = comment_record(
        Form(
            [
                ("user_ip", "not-an-ip, 192.0.2.7"),
                ("comment_date_gmt", "yesterday"),
                ("comment_post_modified_gmt", "1714557600"),
                ("comment_content", "x" * 70_000),
                ("honeypot_field_name", "comment_content"),
            ]
        )
    )
    assert record["user_ip"] == "192.0.2.7"
    assert record["created_at"] == ""
    assert record["post_published_at"] == "2024-05-01T10:00:00+00:00"
    assert len(record["content"]) == 65_536
    assert record["honeypot"] == ""  # a honeypot may not name a real field


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("0123456789ab.localhost:8000", "0123456789ab"),
        ("ABCDEF012345.rest.akismet.com", "abcdef012345"),
        ("rest.akismet.com", "rest"),
        ("localhost:8000", ""),
        ("127.0.0.1:9000", "127"),
        ("[::1]:8000", ""),
        ("", ""),
    ],
)
def test_host_label(host: str, label: str) -> None:
    assert host_label(host) == label


def test_key_sources_order() -> None:
    call = AkismetCall(
        form=Form([("key", "from-key"), ("api_key", "from-api-key")]),
        host="0123456789ab.localhost",
        authorization="Bearer from-bearer",
    )
    assert key_sources(call).explicit == "from-api-key"
    assert key_sources(call, ("key", "api_key")).explicit == "from-key"
    bearer = AkismetCall(form=Form(), authorization="Bearer abc123abc123")
    assert key_sources(bearer).explicit == "abc123abc123"
    host_only = AkismetCall(form=Form(), host="0123456789ab.localhost:8000")
    assert key_sources(host_only).explicit == ""
    assert key_sources(host_only).host_label == "0123456789ab"


def test_verdicts_become_true_or_false() -> None:
    assert answer(Verdict.SPAM, unsure_is_spam=False) == "true"
    assert answer(Verdict.DISCARD, unsure_is_spam=False) == "true"
    assert answer(Verdict.HAM, unsure_is_spam=True) == "false"
    assert answer(Verdict.UNSURE, unsure_is_spam=False) == "false"
    assert answer(Verdict.UNSURE, unsure_is_spam=True) == "true"
    counts = {"ham": 5, "unsure": 2, "spam": 3, "discard": 1}
    assert spam_and_ham(counts, unsure_is_spam=False) == (4, 7)
    assert spam_and_ham(counts, unsure_is_spam=True) == (6, 5)
