"""Feature extraction shared by training and serving.

Every class here is a module-level scikit-learn transformer so the fitted ``Pipeline`` pickles
whole: the service runs exactly the code the model was trained with. Input is a sequence of
comment records (mappings with the field names in ``COMMENT_FIELDS``; only ``content`` is
required), which keeps per-request overhead low compared with building a DataFrame.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from training.normalize import (
    _CONFUSABLE_CHARS,
    _INVISIBLE,
    _SPACED,
    EMAIL_TOKEN,
    PHONE_TOKEN,
    URL_TOKEN,
    find_urls,
    fold,
    normalize_text,
    strip_bbcode,
    strip_html,
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
_BOT_AGENT = re.compile(
    r"curl|wget|python|java/|libwww|go-http|okhttp|scrapy|bot\b|spider|"
    r"headless|phantomjs|httpclient|perl",
    re.IGNORECASE,
)
_ANCHOR = re.compile(r"<a\s[^>]*href|\[url[=\]]", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


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


def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "other"
    first = name.split(" ", 1)[0]
    if first in {"CJK", "HIRAGANA", "KATAKANA", "HANGUL"}:
        return "cjk"
    return first.lower()


def _text_shape(raw: str, meta: dict[str, float]) -> None:
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
    scripts = {_script(ch) for ch in letters[:400]}
    for script in scripts:
        meta[f"script={script}"] = 1.0
    if len(scripts) > 1:
        meta["several_scripts"] = 1.0
    if letters and len(letters) < 3:
        meta["almost_no_letters"] = 1.0


def _obfuscation(raw: str, meta: dict[str, float]) -> None:
    if any(ord(ch) in _INVISIBLE for ch in raw if ch != "\ufeff"):
        meta["invisible_chars"] = 1.0
    if not _CONFUSABLE_CHARS.isdisjoint(raw.lower()):
        for word in _WORD.findall(raw.lower()):
            if not _CONFUSABLE_CHARS.isdisjoint(word) and any("a" <= c <= "z" for c in word):
                meta["mixed_script_word"] = 1.0
                break
    if _SPACED.search(raw.lower()):
        meta["spaced_letters"] = 1.0
    if any(0xFF01 <= ord(ch) <= 0xFF5E for ch in raw):
        meta["fullwidth_chars"] = 1.0


def _links(text: str, raw: str, meta: dict[str, float]) -> set[str]:
    urls = find_urls(fold(strip_bbcode(strip_html(raw))))
    hosts = {url_host(u) for u in urls} - {""}
    if urls:
        meta["has_link"] = 1.0
        meta["link_count"] = min(len(urls), 10) / 10.0
        meta["link_domains"] = min(len(hosts), 5) / 5.0
    for host in hosts:
        meta[f"link_domain={host}"] = 1.0
        meta[f"link_tld={host.rsplit('.', 1)[-1]}"] = 1.0
        if host in URL_SHORTENERS:
            meta["link_shortener"] = 1.0
    if _ANCHOR.search(raw):
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
        local, _, domain = email.rpartition("@")
        if domain:
            meta[f"email_domain={domain}"] = 1.0
        if sum(ch.isdigit() for ch in local) >= 3:
            meta["email_local_digits"] = 1.0
    if url:
        meta["has_author_url"] = 1.0
        host = url_host(url)
        if host:
            meta[f"author_url_tld={host.rsplit('.', 1)[-1]}"] = 1.0
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
    text = normalize_text(raw)
    meta: dict[str, float] = {}
    _text_shape(raw, meta)
    _obfuscation(raw, meta)
    hosts = _links(text, raw, meta)
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
}
_META_PREFIX_LABELS = {
    "script": "written in {} script",
    "link_domain": "links to {}",
    "link_tld": "links to a .{} domain",
    "name_word": "author name contains “{}”",
    "email_domain": "e-mail at {}",
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
