"""Feature extraction shared by training and serving.

Every class here is a module-level scikit-learn transformer so the fitted ``Pipeline`` pickles
whole: the service runs exactly the code the model was trained with. Input is a sequence of
comment records (mappings with the field names in ``COMMENT_FIELDS``; only ``content`` is
required), which keeps per-request overhead low compared with building a DataFrame.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from training.normalize import (
    _CONFUSABLE_CHARS,
    _INVISIBLE,
    CONFUSABLE_WORD,
    EMAIL_TOKEN,
    PHONE_TOKEN,
    URL_TOKEN,
    find_urls,
    flatten,
    fold,
    has_repeat_run,
    has_spaced_letters,
    normalize_flat_urls,
    url_host,
)

COMMENT_FIELDS = (
    "content",
    "author_name",
    "author_email",
    "author_url",
    "user_ip",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
    "lang",
    "created_at",
    "post_published_at",
    "honeypot",
)
OPTIONAL_SIGNAL_FIELDS = COMMENT_FIELDS[1:]

URL_SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "goo.gl",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rb.gy",
        "shorturl.at",
        "tiny.cc",
        "rebrand.ly",
        "bitly.com",
        "t.ly",
        "s.id",
        "v.gd",
    ]
)
# Top-level domains that never occur on the public web (RFC 2606/6761): the authored corpus
# uses them for its invented blogs, so a weight learned on them would be an artefact.
RESERVED_TLDS = frozenset(["example", "test", "invalid", "localhost"])
# No feature names the e-mail provider: in the authored corpus the providers are drawn by
# our own generator, and per site, moderators' decisions about an address count through
# reputation instead.
_BOT_AGENT = re.compile(
    r"curl|wget|python|java/|libwww|go-http|okhttp|scrapy|bot\b|spider|"
    r"headless|phantomjs|httpclient|perl",
    re.IGNORECASE,
)
_ANCHOR = re.compile(r"<a\s[^>]*href|\[url[=\]]", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_INVISIBLE_NOT_BOM_CHARS = frozenset(chr(c) for c in _INVISIBLE if c != 0xFEFF)
# The ASCII characters for which str.isupper / islower / isdigit / isspace hold (tested).
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LOWER = bytes(range(ord("a"), ord("z") + 1))
_ASCII_DIGITS = b"0123456789"
_ASCII_SPACES = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_NUMPY_COUNT_FROM = 400  # characters from which numpy counts them faster than Counter
_ASCII_LETTER = re.compile("[a-z]")
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
SCRIPT_SAMPLE = 400  # letters whose writing system is recorded


@dataclass(slots=True)
class PreparedComment:
    """A comment after normalisation: the text the n-grams see and its named metadata signals."""

    text: str
    meta: dict[str, float] = field(default_factory=dict)


def _field(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def parse_time(value: Any) -> datetime | None:
    """Timezone-aware datetime from ISO 8601 text or a datetime; None if absent or unparsable."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=8192)
def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "other"
    first = name.split(" ", 1)[0]
    if first in {"CJK", "HIRAGANA", "KATAKANA", "HANGUL"}:
        return "cjk"
    return first.lower()


def _char_counts(raw: str) -> dict[str, int]:
    """How often each distinct character occurs (``Counter(raw)``).

    Long texts are counted by sorting their code points in numpy, about five times faster than
    ``Counter``'s per-character loop; short ones with ``Counter``, which has less overhead.
    """
    if len(raw) < _NUMPY_COUNT_FROM:
        return Counter(raw)
    # surrogatepass: a lone surrogate is a character too, and is counted like one.
    codes = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    distinct, counts = np.unique(codes, return_counts=True)
    return dict(zip(map(chr, distinct.tolist()), counts.tolist(), strict=True))


def _text_shape(raw: str, meta: dict[str, float], counts: Mapping[str, int] | None = None) -> None:
    ascii_text = raw.isascii()
    # ASCII characters: each class deleted in C from the ASCII bytes, the count is what went
    # missing; every ASCII letter is Latin. Others: per distinct character (there are few).
    data = raw.encode("ascii", "ignore")
    size = len(data)
    n_upper = size - len(data.translate(None, _ASCII_UPPER))
    n_letters = n_upper + size - len(data.translate(None, _ASCII_LOWER))
    n_digits = size - len(data.translate(None, _ASCII_DIGITS))
    n_symbols = size - n_letters - n_digits - (size - len(data.translate(None, _ASCII_SPACES)))
    letters = ["a"] if n_letters else []
    if not ascii_text:
        if counts is None:
            counts = _char_counts(raw)
        for ch, k in counts.items():
            if ch < "\x80":
                continue
            if ch.isalpha():
                n_letters += k
                letters.append(ch)
                if ch.isupper():
                    n_upper += k
            if ch.isdigit():
                n_digits += k
            if not ch.isalnum() and not ch.isspace():
                n_symbols += k
    n_chars = max(len(raw), 1)
    meta["length_log"] = min(math.log1p(len(raw)) / 8.0, 1.0)
    meta["caps_share"] = n_upper / max(n_letters, 1)
    meta["digit_share"] = n_digits / n_chars
    meta["symbol_share"] = n_symbols / n_chars
    meta["exclamation_share"] = min(raw.count("!") / n_chars * 10, 1.0)
    meta["repeated_chars"] = 1.0 if has_repeat_run(raw) else 0.0
    if n_letters > SCRIPT_SAMPLE and not ascii_text:
        letters = list(set(islice(filter(str.isalpha, raw), SCRIPT_SAMPLE)))
    scripts = {_script(ch) for ch in letters}
    for script in scripts:
        meta[f"script={script}"] = 1.0
    if len(scripts) > 1:
        meta["several_scripts"] = 1.0
    if 0 < n_letters < 3:
        meta["almost_no_letters"] = 1.0


def _obfuscation(raw: str, meta: dict[str, float], chars: Iterable[str] | None = None) -> None:
    """``chars``: the distinct characters of ``raw`` if already known (set operations on them
    replace scans of the whole text)."""
    lower = raw.lower()
    if not raw.isascii():  # invisible, look-alike and full-width characters are not ASCII
        distinct = "".join(chars if chars is not None else set(raw))
        if not _INVISIBLE_NOT_BOM_CHARS.isdisjoint(distinct):
            meta["invisible_chars"] = 1.0
        # "lower has a look-alike" (lower-casing maps each character on its own; only sigma
        # looks at its neighbours, and neither sigma is a look-alike), then "a word (_WORD)
        # has a look-alike and a Latin letter": the look-alike words joined have a Latin letter.
        if not _CONFUSABLE_CHARS.isdisjoint(distinct.lower()) and _ASCII_LETTER.search(
            " ".join(CONFUSABLE_WORD.findall(lower))
        ):
            meta["mixed_script_word"] = 1.0
        if _FULLWIDTH.search(distinct):
            meta["fullwidth_chars"] = 1.0
    if has_spaced_letters(lower):
        meta["spaced_letters"] = 1.0


def _links(
    text: str, raw: str, flat: str, meta: dict[str, float], urls: list[str] | None = None
) -> set[str]:
    if urls is None:
        urls = find_urls(flat)
    hosts = {url_host(u) for u in urls} - {""}
    if urls:
        # "booked on Booking.com" names a site; a scheme, "www." or a path makes it a link.
        if any("/" in u or u[:4].lower() == "www." for u in urls):
            meta["has_link"] = 1.0
        else:
            meta["domain_mention"] = 1.0
        meta["link_count"] = min(len(urls), 10) / 10.0
        meta["link_domains"] = min(len(hosts), 5) / 5.0
    for host in hosts:
        meta[f"link_domain={host}"] = 1.0
        if (tld := host.rsplit(".", 1)[-1]) not in RESERVED_TLDS:
            meta[f"link_tld={tld}"] = 1.0
        if host in URL_SHORTENERS:
            meta["link_shortener"] = 1.0
    if ("<" in raw or "[" in raw) and _ANCHOR.search(raw):
        meta["html_or_bbcode_link"] = 1.0
    if PHONE_TOKEN.strip() in text:
        meta["phone_number"] = 1.0
    if EMAIL_TOKEN.strip() in text:
        meta["email_in_text"] = 1.0
    return hosts


def _author(record: Mapping[str, Any], link_hosts: set[str], meta: dict[str, float]) -> None:
    name = _field(record, "author_name")
    email = _field(record, "author_email").lower()
    url = _field(record, "author_url")
    if name:
        words = _WORD.findall(fold(name))
        meta["name_words"] = min(len(words), 6) / 6.0
        if find_urls(fold(name)) or "www" in name.lower():
            meta["name_is_url"] = 1.0
        if any(ch.isdigit() for ch in name):
            meta["name_has_digits"] = 1.0
        if len(words) >= 3 and name == name.lower():
            meta["name_lowercase_phrase"] = 1.0
        for word in words:
            if len(word) >= 3:
                meta[f"name_word={word}"] = 1.0
    if email:
        meta["has_email"] = 1.0
        local = email.rpartition("@")[0]
        if sum(ch.isdigit() for ch in local) >= 3:
            meta["email_local_digits"] = 1.0
    if url:
        meta["has_author_url"] = 1.0
        host = url_host(url)
        if host:
            if (tld := host.rsplit(".", 1)[-1]) not in RESERVED_TLDS:
                meta[f"author_url_tld={tld}"] = 1.0
            meta["author_url_hyphens"] = min(host.count("-"), 4) / 4.0
            if host in link_hosts:
                meta["author_url_also_linked"] = 1.0
            if host in URL_SHORTENERS:
                meta["link_shortener"] = 1.0
        path = url.split("://", 1)[-1].partition("/")[2].strip("/")
        if path:
            meta["author_url_has_path"] = 1.0


def _request(record: Mapping[str, Any], meta: dict[str, float]) -> None:
    agent = _field(record, "user_agent")
    referrer = _field(record, "referrer")
    permalink = _field(record, "permalink")
    if agent:
        if _BOT_AGENT.search(agent):
            meta["agent_is_script"] = 1.0
    elif permalink or _field(record, "user_ip"):
        meta["agent_missing"] = 1.0
    if permalink:
        if not referrer:
            meta["referrer_missing"] = 1.0
        elif url_host(referrer) != url_host(permalink):
            meta["referrer_elsewhere"] = 1.0
    if _field(record, "honeypot"):
        meta["honeypot_filled"] = 1.0
    kind = _field(record, "comment_type").lower()
    if kind:
        meta[f"comment_type={kind[:20]}"] = 1.0
    posted = parse_time(record.get("created_at"))
    published = parse_time(record.get("post_published_at"))
    if posted and published:
        days = max((posted - published).total_seconds() / 86400.0, 0.0)
        meta["post_age_log"] = min(math.log1p(days) / 8.0, 1.0)
        if days > 180:
            meta["post_older_than_180_days"] = 1.0


def prepare(record: Mapping[str, Any]) -> PreparedComment:
    """Normalised text plus metadata signals for one comment record."""
    raw = _field(record, "content").replace("\ufeff", "")
    flat = flatten(raw)
    # = normalize_text(raw); the flattening and (usually) the URL search are shared with _links.
    text, urls = normalize_flat_urls(flat)
    meta: dict[str, float] = {}
    counts = None if raw.isascii() else _char_counts(raw)
    _text_shape(raw, meta, counts)
    _obfuscation(raw, meta, None if counts is None else counts.keys())
    hosts = _links(text, raw, flat, meta, urls)
    _author(record, hosts, meta)
    _request(record, meta)
    if not any(_field(record, name) for name in OPTIONAL_SIGNAL_FIELDS):
        meta["content_only"] = 1.0
    return PreparedComment(text=text, meta=meta)


class CommentPreparer(TransformerMixin, BaseEstimator):
    """Turns comment records into ``PreparedComment`` objects (stateless)."""

    def fit(self, records: Sequence[Mapping[str, Any]], y: Any = None) -> CommentPreparer:
        return self

    def transform(self, records: Sequence[Mapping[str, Any]]) -> list[PreparedComment]:
        return [prepare(record) for record in records]


class PreparedText(TransformerMixin, BaseEstimator):
    """Selects the normalised text, for the word and character vectorisers."""

    def fit(self, prepared: Sequence[PreparedComment], y: Any = None) -> PreparedText:
        return self

    def transform(self, prepared: Sequence[PreparedComment]) -> list[str]:
        return [item.text for item in prepared]


class PreparedMeta(TransformerMixin, BaseEstimator):
    """Selects the metadata signals, for the ``DictVectorizer``."""

    def fit(self, prepared: Sequence[PreparedComment], y: Any = None) -> PreparedMeta:
        return self

    def transform(self, prepared: Sequence[PreparedComment]) -> list[dict[str, float]]:
        return [item.meta for item in prepared]


_PLACEHOLDER_LABELS = {
    URL_TOKEN.strip(): "contains a link",
    PHONE_TOKEN.strip(): "contains a phone number",
    EMAIL_TOKEN.strip(): "contains an e-mail address",
}
_META_LABELS = {
    "length_log": "comment length",
    "caps_share": "share of capital letters",
    "digit_share": "share of digits",
    "symbol_share": "share of symbols",
    "exclamation_share": "exclamation marks",
    "repeated_chars": "long runs of one character",
    "several_scripts": "several writing systems mixed",
    "almost_no_letters": "almost no letters",
    "invisible_chars": "invisible characters hidden in the text",
    "mixed_script_word": "look-alike letters from another alphabet inside words",
    "spaced_letters": "words spelled with spaced-out letters",
    "fullwidth_chars": "full-width characters",
    "has_link": "contains links",
    "link_count": "number of links",
    "link_domains": "number of linked domains",
    "link_shortener": "uses a URL shortener",
    "html_or_bbcode_link": "HTML or BBCode link markup",
    "phone_number": "contains a phone number",
    "email_in_text": "contains an e-mail address",
    "name_words": "number of words in the author name",
    "name_is_url": "author name is a web address",
    "name_has_digits": "author name contains digits",
    "name_lowercase_phrase": "author name looks like search keywords",
    "has_email": "author gave an e-mail address",
    "email_local_digits": "e-mail address with many digits",
    "has_author_url": "author gave a website",
    "author_url_hyphens": "hyphenated website domain",
    "author_url_also_linked": "author's website also linked in the text",
    "author_url_has_path": "author website points to a deep page",
    "agent_is_script": "sent by a script, not a browser",
    "agent_missing": "no browser user agent",
    "referrer_missing": "no referrer",
    "referrer_elsewhere": "referrer from another site",
    "honeypot_filled": "hidden honeypot field filled in",
    "post_age_log": "time since the post was published",
    "post_older_than_180_days": "comment on a post older than 180 days",
    "content_only": "only the text was sent (no metadata)",
    "domain_mention": "names a web domain (without a link)",
}
_META_PREFIX_LABELS = {
    "script": "written in {} script",
    "link_domain": "links to {}",
    "link_tld": "links to a .{} domain",
    "name_word": "author name contains “{}”",
    "author_url_tld": "author website on a .{} domain",
    "comment_type": "comment type {}",
}


def feature_label(name: str) -> tuple[str, str]:
    """``(kind, human label)`` for a fitted pipeline's feature name, for verdict reasons."""
    branch, _, feature = name.partition("__")
    if branch == "words":
        if feature in _PLACEHOLDER_LABELS:
            return "text", _PLACEHOLDER_LABELS[feature]
        if feature.startswith("xtld") and " " not in feature:
            return "link", f"links to a .{feature[4:]} domain"
        return "word", f"word “{feature}”"
    if branch == "chars":
        return "chars", "spelling patterns in the text"
    if feature in _META_LABELS:
        return "meta", _META_LABELS[feature]
    prefix, _, value = feature.partition("=")
    template = _META_PREFIX_LABELS.get(prefix)
    return "meta", template.format(value) if template else feature
