"""The faster ``prepare`` gives exactly what the straightforward version gave.

``normalize.fold``/``normalize_text``/``find_urls`` skip substitutions that cannot match and
``features._text_shape``/``_obfuscation`` count per distinct character; the reference versions
below are the plain code they replaced, kept here so any drift shows up on real comments and on
arbitrary Unicode.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from training import features, normalize
from training.data import available_public, load_authored, load_public, to_records
from training.features import PreparedComment, prepare

REF_LEET_INTERIOR = re.compile(r"[a-z][0-9@$]+[a-z]")
REF_URL_HINT = re.compile(r"://|www\.|[a-z0-9-]\." + normalize._TLDS + r"\b", re.IGNORECASE)
REF_LEET_WORD = re.compile(r"(?<![\w@$])[a-z0-9@$]*[a-z][a-z0-9@$]*(?![\w@$])")


def ref_fold_leet(match: re.Match[str]) -> str:
    word = match.group(0)
    if "@" in word and match.string[match.end() : match.end() + 1] == ".":
        return word
    if REF_LEET_INTERIOR.search(word):
        return word.translate(normalize._LEET)
    return word


def ref_fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(normalize._INVISIBLE).lower()
    if not normalize._CONFUSABLE_CHARS.isdisjoint(text):
        text = " ".join(normalize._fold_confusables(word) for word in text.split(" "))
    text = normalize._SPACED.sub(normalize._join_spaced, text)
    text = REF_LEET_WORD.sub(ref_fold_leet, text)
    return normalize._SPACE_RUN.sub(" ", text).strip()


def ref_find_urls(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:!?") for m in normalize._URL.finditer(text)]


def ref_normalize_text(text: str) -> str:
    text = ref_fold(normalize.strip_bbcode(normalize.strip_html(text)))
    text = normalize._EMAIL.sub(normalize.EMAIL_TOKEN, text)

    def link(match: re.Match[str]) -> str:
        host = normalize.url_host(match.group(0))
        tld = host.rsplit(".", 1)[-1] if "." in host else ""
        return f"{normalize.URL_TOKEN}{host.replace('.', ' ').replace('-', ' ')} xtld{tld} "

    text = normalize._URL.sub(link, text)
    text = normalize._PHONE.sub(normalize.PHONE_TOKEN, text)
    text = normalize._REPEAT_RUN.sub(r"\1\1\1", text)
    return normalize._SPACE_RUN.sub(" ", text).strip()


def ref_text_shape(raw: str, meta: dict[str, float]) -> None:
    letters = [ch for ch in raw if ch.isalpha()]
    n_chars = max(len(raw), 1)
    n_letters = max(len(letters), 1)
    meta["length_log"] = min(math.log1p(len(raw)) / 8.0, 1.0)
    meta["caps_share"] = sum(ch.isupper() for ch in letters) / n_letters
    meta["digit_share"] = sum(ch.isdigit() for ch in raw) / n_chars
    meta["symbol_share"] = sum(not ch.isalnum() and not ch.isspace() for ch in raw) / n_chars
    meta["exclamation_share"] = min(raw.count("!") / n_chars * 10, 1.0)
    longest = max((len(m.group(0)) for m in re.finditer(r"(.)\1*", raw)), default=0)
    meta["repeated_chars"] = 1.0 if longest >= 4 else 0.0
    scripts = {features._script(ch) for ch in letters[:400]}
    for script in scripts:
        meta[f"script={script}"] = 1.0
    if len(scripts) > 1:
        meta["several_scripts"] = 1.0
    if letters and len(letters) < 3:
        meta["almost_no_letters"] = 1.0


def ref_obfuscation(raw: str, meta: dict[str, float]) -> None:
    if any(ord(ch) in normalize._INVISIBLE for ch in raw if ch != "\ufeff"):
        meta["invisible_chars"] = 1.0
    if not normalize._CONFUSABLE_CHARS.isdisjoint(raw.lower()):
        for word in features._WORD.findall(raw.lower()):
            if not normalize._CONFUSABLE_CHARS.isdisjoint(word) and any(
                "a" <= c <= "z" for c in word
            ):
                meta["mixed_script_word"] = 1.0
                break
    if normalize._SPACED.search(raw.lower()):
        meta["spaced_letters"] = 1.0
    if any(0xFF01 <= ord(ch) <= 0xFF5E for ch in raw):
        meta["fullwidth_chars"] = 1.0


def ref_prepare(record: dict[str, Any]) -> PreparedComment:
    raw = features._field(record, "content").replace("\ufeff", "")
    text = ref_normalize_text(raw)
    meta: dict[str, float] = {}
    ref_text_shape(raw, meta)
    ref_obfuscation(raw, meta)
    flat = ref_fold(normalize.strip_bbcode(normalize.strip_html(raw)))
    urls_before = ref_find_urls(flat)
    hosts = features._links(text, raw, flat, meta)
    assert normalize.find_urls(flat) == urls_before
    features._author(record, hosts, meta)
    features._request(record, meta)
    if not any(features._field(record, name) for name in features.OPTIONAL_SIGNAL_FIELDS):
        meta["content_only"] = 1.0
    return PreparedComment(text=text, meta=meta)


@pytest.fixture(scope="module")
def corpus_records() -> list[dict[str, str]]:
    # The authored corpus is part of the repository; the public ones are read where found.
    frames = [load_authored(), *(load_public(name) for name in available_public())]
    return to_records(pd.concat(frames, ignore_index=True))  # every comment: about 3 s


def test_prepare_unchanged_on_corpora(corpus_records: list[dict[str, str]]) -> None:
    for record in corpus_records:
        assert prepare(record) == ref_prepare(record), record["content"][:80]


TRICKY = st.sampled_from(
    [
        *"aZ09 .-_*@$!?<>&;/:\n\t\u00a0\u200b\ufeff\u3000аеорсіο日ü€ſıKＡ１！",
        *["http://", "www.", ".com", ".shop", "x@y.io", "+1 (555) 123-4567", "c4s1n0", "v i a"],
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(TRICKY, max_size=60).map("".join)))
def test_prepare_unchanged_on_any_text(text: str) -> None:
    assert normalize.fold(text) == ref_fold(text)
    assert normalize.normalize_text(text) == ref_normalize_text(text)
    assert normalize.find_urls(text) == ref_find_urls(text)
    flat = normalize.flatten(text)
    normalized, urls = normalize.normalize_flat_urls(flat)
    assert normalized == ref_normalize_text(text)
    assert urls is None or urls == ref_find_urls(flat)
    assert prepare({"content": text}) == ref_prepare({"content": text})


@pytest.mark.parametrize(
    "text",
    [
        "see x@y.io.com www.a.b@c.de http://u@v.org/p and mail\nme@x.org\tnow",
        "a.com.b.shop/x?y z.company .com com. ftp://x\u3000y.ru/z go.to/abc",
        "(www.x.com) [http://y.net] <a.org> 'b.info' \"c.biz\" end.com",
        "no link here at all, just a sentence. it ends.",
        "x" * 50 + ".com " + "a1" * 300 + " c4s1n0 " + "b@" * 20 + ".net",
    ],
)
def test_links_and_addresses_found_where_they_were(text: str) -> None:
    """Links and e-mail addresses are searched only around their hints; same result."""
    assert normalize.find_urls(text) == ref_find_urls(text)
    assert normalize.normalize_text(text) == ref_normalize_text(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(min_size=features._NUMPY_COUNT_FROM, max_size=1200),
        st.lists(TRICKY, min_size=150, max_size=400).map("".join),
    )
)
def test_prepare_unchanged_on_long_text(text: str) -> None:
    """Long texts take other routes (characters counted in numpy, set look-ups)."""
    assert features._char_counts(text) == Counter(text)
    assert prepare({"content": text}) == ref_prepare({"content": text})


@pytest.mark.parametrize(
    "text",
    [
        "vіagra сheap саsinо and a plain Русский текст here",
        "Русский_текст_abc ΣΑΣ σας ΚΑΛΟΣ kαλος İstanbul ǅ",
        "д" * 3000 + " x",
        "a\u200bb с\u00ad d ＦＲＥＥ　ｍｏｎｅｙ",
        "p\u0430ypal\nlogin\tnоw",
    ],
)
def test_look_alikes_found_where_they_were(text: str) -> None:
    """Look-alike words are found by pattern instead of word by word; same result."""
    assert normalize.fold(text) == ref_fold(text)
    assert prepare({"content": text}) == ref_prepare({"content": text})


def test_ascii_classes_are_str_methods() -> None:
    """The byte tables ``_text_shape`` counts ASCII text with agree with ``str`` methods."""
    ascii_chars = [chr(i) for i in range(128)]
    assert {c for c in ascii_chars if c.isupper()} == set(features._ASCII_UPPER.decode())
    assert {c for c in ascii_chars if c.isalpha() and not c.isupper()} == set(
        features._ASCII_LOWER.decode()
    )
    assert {c for c in ascii_chars if c.isdigit()} == set(features._ASCII_DIGITS.decode())
    assert {c for c in ascii_chars if c.isspace()} == set(features._ASCII_SPACES.decode())
    assert all(c.isalpha() or c.isdigit() or not c.isalnum() for c in ascii_chars)
    assert all(features._script(c) == "latin" for c in ascii_chars if c.isalpha())


_RUN_PIECES = st.sampled_from(["a", "a", "\n", "\n", " ", "é", "\ud800", "😀"])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 900).flatmap(lambda n: st.lists(_RUN_PIECES, min_size=n, max_size=n)))
def test_repeat_run_found_as_by_the_pattern(pieces: list[str]) -> None:
    """Short and long texts (numpy above ``_NUMPY_SCAN_FROM`` characters)."""
    text = "".join(pieces)
    assert normalize.has_repeat_run(text) == bool(re.search(r"(.)\1{3,}", text))


_PHONE_PIECES = st.sampled_from(
    ["1", "2", "٣", " ", "  ", "\n", "(", ")", ".", "-", "+", "a", "_", "x", "é", "555 123 4567"]
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 600).flatmap(lambda n: st.lists(_PHONE_PIECES, min_size=n, max_size=n)))
def test_phones_and_runs_replaced_as_by_the_patterns(pieces: list[str]) -> None:
    """Phone numbers searched only in stretches of phone characters; runs shortened in numpy
    for long texts; same text as the plain substitutions."""
    text = "".join(pieces)
    assert normalize._sub_phones(text) == normalize._PHONE.sub(normalize.PHONE_TOKEN, text)
    assert normalize.shorten_runs(text) == normalize._REPEAT_RUN.sub(r"\1\1\1", text)
    doubled = text.replace("1", "1111").replace("a", "aaaaa")
    assert normalize.shorten_runs(doubled) == normalize._REPEAT_RUN.sub(r"\1\1\1", doubled)


@settings(max_examples=300, deadline=None)
@given(st.lists(TRICKY, max_size=80).map("".join))
def test_hints_find_the_same_stretches(text: str) -> None:
    """The hints rewritten to start at a rarer character mark the same stretches of text."""
    for case in (text, text.lower()):
        urls = list(normalize._near_hints(case, normalize._URL_HINT))
        assert urls == list(normalize._near_hints(case, REF_URL_HINT))
        leet = list(normalize._near_hints(case, normalize._LEET_HINT))
        assert leet == list(normalize._near_hints(case, REF_LEET_INTERIOR))
