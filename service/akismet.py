"""The Akismet REST protocol, byte for byte as its clients speak it (no FastAPI here).

Three layers, each usable on its own:

- ``parse_form``: ``application/x-www-form-urlencoded`` bodies exactly as real clients send
  them: with or without ``; charset=``, ``+`` or ``%20``, bare names without ``=`` (WordPress
  sends empty values that way), ``name[]`` arrays, repeated names (the last one wins, as in
  PHP, which Akismet's own servers run on), any unknown extra field, and any byte sequence
  (decoded with the declared charset, undecodable bytes replaced; parsing never fails).
- ``comment_record``, ``is_truthy``, ``key_sources``: what the fields mean: the comment
  record the JSON API also scores, the test flag, and where the API key came from.
- ``AkismetApi``: one method per endpoint, turning a parsed ``AkismetCall`` into a
  ``Reply`` (status, body, headers) through ``Moderation``. Client mistakes are always
  ``200 invalid`` with an ``X-akismet-debug-help`` header, never an HTTP error, because
  every client treats the body, not the status, as the answer.
"""

from __future__ import annotations

import codecs
import csv
import io
import ipaddress
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote_to_bytes

from service.moderation import CheckResult, Moderation, NotReadyError
from service.storage import (
    DatabaseUnavailable,
    InvalidValue,
    KeyMatch,
    Site,
    SiteStats,
    normalize_site_url,
)
from training.verdicts import Verdict

log = logging.getLogger(__name__)

#: Exact bodies clients compare against (no trailing newline, ever).
TRUE = "true"
FALSE = "false"
INVALID = "invalid"
VALID = "valid"
THANKS = "Thanks for making the web a better place."
DEACTIVATED = "deactivated"
CONNECTED = "connected"

#: Header names in the casing Akismet itself sends (clients should not care, some do).
GUID_HEADER = "X-akismet-guid"
PRO_TIP_HEADER = "X-akismet-pro-tip"
DEBUG_HEADER = "X-akismet-debug-help"
ERROR_HEADER = "X-akismet-error"

#: At most this many fields are read from one request (PHP's ``max_input_vars`` default).
MAX_FIELDS = 1000
#: Longest value kept per record field; longer values are cut, never refused.
FIELD_LIMITS = {
    "content": 65_536,
    "author_name": 512,
    "author_email": 320,
    "author_url": 2048,
    "user_ip": 64,
    "user_agent": 1024,
    "referrer": 2048,
    "permalink": 2048,
    "comment_type": 64,
    "lang": 64,
    "honeypot": 1024,
}
KEY_SITES_DEFAULT_LIMIT = 500
KEY_SITES_MAX_LIMIT = 10_000
KEY_SITES_ORDERS = ("total", "spam", "ham", "missed_spam", "false_positives")

_TRUTHY = frozenset(("1", "true"))
_HEX_KEY = re.compile(r"^[0-9a-f]{12}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_ARRAY_SUFFIX = re.compile(r"^([^\[\]]+)\[[^\[\]]*\]$")

#: Akismet fields that map straight onto a record field.
_DIRECT_FIELDS = {
    "comment_content": "content",
    "comment_author": "author_name",
    "comment_author_email": "author_email",
    "comment_author_url": "author_url",
    "user_ip": "user_ip",
    "user_agent": "user_agent",
    "referrer": "referrer",
    "permalink": "permalink",
    "comment_type": "comment_type",
    "blog_lang": "lang",
}
#: Server variables WordPress forwards, used when the documented field is missing.
_FALLBACK_FIELDS = {
    "user_ip": ("REMOTE_ADDR",),
    "user_agent": ("HTTP_USER_AGENT",),
    "referrer": ("referer", "HTTP_REFERER"),
}
#: WordPress's own honeypot textarea, forwarded as a ``POST_`` server variable.
_WORDPRESS_HONEYPOTS = ("POST_ak_hp_textarea", "ak_hp_textarea")
#: A honeypot name may not point at a real field (that would flag every comment).
_PROTOCOL_FIELDS = frozenset(
    (
        *_DIRECT_FIELDS,
        "api_key",
        "key",
        "blog",
        "blog_charset",
        "comment_date_gmt",
        "comment_post_modified_gmt",
        "user_role",
        "is_test",
        "honeypot_field_name",
        "recheck_reason",
        "comment_context",
        "comment_parent",
    )
)


# -- parsing ---------------------------------------------------------------------------------


class Form:
    """Form fields in the order sent; a name may repeat.

    ``get`` returns the last value sent under exactly that name (PHP's rule), ``getlist``
    every value sent as ``name``, ``name[]`` or ``name[anything]``.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs: list[tuple[str, str]] = list(pairs)
        self._last: dict[str, str] = {}
        for name, value in self.pairs:
            self._last[name] = value

    def __contains__(self, name: object) -> bool:
        return name in self._last

    def __len__(self) -> int:
        return len(self.pairs)

    def get(self, name: str, default: str = "") -> str:
        return self._last.get(name, default)

    def first_of(self, names: Iterable[str]) -> str:
        """The value of the first of ``names`` that was sent non-empty, else ``""``."""
        for name in names:
            value = self._last.get(name, "").strip()
            if value:
                return value
        return ""

    def getlist(self, name: str) -> list[str]:
        values = []
        for key, value in self.pairs:
            match = _ARRAY_SUFFIX.match(key)
            if key == name or (match is not None and match.group(1) == name):
                values.append(value)
        return values


def _raw_pairs(data: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    for piece in data.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        pairs.append(
            (
                unquote_to_bytes(name.replace(b"+", b" ")),
                unquote_to_bytes(value.replace(b"+", b" ")),
            )
        )
        if len(pairs) >= MAX_FIELDS:
            break
    return pairs


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def declared_charset(content_type: str | None, blog_charset: str | None) -> str:
    """The charset to decode with: the Content-Type's, else ``blog_charset``, else UTF-8.

    WordPress sends both, always equal; other clients send at most ``blog_charset``. A name
    Python does not know is skipped rather than trusted.
    """
    match = _CHARSET.search(content_type or "")
    return _known_codec(match.group(1) if match else None) or _known_codec(blog_charset) or "utf-8"


def parse_form(body: bytes, *, content_type: str | None = None, query: bytes | str = b"") -> Form:
    """Parse a query string and a urlencoded body into one ``Form`` (body fields last).

    Never raises: undecodable bytes become U+FFFD, NUL characters are dropped, and fields
    beyond ``MAX_FIELDS`` are ignored.
    """
    query_bytes = query.encode("latin-1", "replace") if isinstance(query, str) else query
    pairs = _raw_pairs(query_bytes) + _raw_pairs(body)
    del pairs[MAX_FIELDS:]
    blog_charset = next(
        (v.decode("ascii", "replace") for k, v in reversed(pairs) if k == b"blog_charset"), None
    )
    charset = declared_charset(content_type, blog_charset)

    def text(raw: bytes) -> str:
        return raw.decode(charset, "replace").replace("\x00", "")

    return Form((text(name), text(value)) for name, value in pairs)


# -- meaning of the fields -------------------------------------------------------------------


def is_truthy(value: str | None) -> bool:
    """Akismet's boolean flags: ``true``/``True``/``1`` are set; ``false``, ``0``, empty are not."""
    return (value or "").strip().lower() in _TRUTHY


def _ip(value: str) -> str:
    """The first valid address in ``value`` (proxies send lists), or ``""``."""
    for token in re.split(r"[\s,]+", value):
        try:
            return str(ipaddress.ip_address(token.strip("[]")))
        except ValueError:
            continue
    return ""


def _gmt(value: str) -> str:
    """ISO 8601 (or Unix time) to an ISO UTC timestamp; ``""`` if unusable."""
    text = value.strip()
    if not text:
        return ""
    try:
        if re.fullmatch(r"\d{9,11}", text):
            moment = datetime.fromtimestamp(int(text), tz=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1990 <= moment.year <= 2200:
        return ""
    return moment.astimezone(UTC).isoformat()


def honeypot_value(form: Form) -> str:
    """What a bot typed into the hidden field: the one named by ``honeypot_field_name``
    (sent under that name or as ``POST_<name>``), or WordPress's ``ak_hp_textarea``."""
    name = form.get("honeypot_field_name").strip()
    names: list[str] = []
    if name and name not in _PROTOCOL_FIELDS:
        names += [name, f"POST_{name}"]
    return form.first_of([*names, *_WORDPRESS_HONEYPOTS])


def comment_record(form: Form) -> dict[str, str]:
    """The comment as the record ``Moderation`` scores, every field present (``""`` if unsent)."""
    record = {name: "" for name in (*FIELD_LIMITS, "created_at", "post_published_at")}
    for akismet_name, name in _DIRECT_FIELDS.items():
        record[name] = form.get(akismet_name)
        if not record[name].strip():
            record[name] = form.first_of(_FALLBACK_FIELDS.get(name, ()))
    record["user_ip"] = _ip(record["user_ip"])
    record["honeypot"] = honeypot_value(form)
    for name, limit in FIELD_LIMITS.items():
        if name != "content":
            record[name] = record[name].strip()
        record[name] = record[name][:limit]
    record["created_at"] = _gmt(form.get("comment_date_gmt"))
    record["post_published_at"] = _gmt(form.get("comment_post_modified_gmt"))
    return record


def _is_administrator(user_role: str) -> bool:
    return "administrator" in {role.strip().lower() for role in user_role.split(",")}


def _has_something_to_judge(record: Mapping[str, str]) -> bool:
    return any(
        record[name].strip() for name in ("content", "author_name", "author_email", "author_url")
    )


@dataclass(frozen=True, slots=True)
class AkismetCall:
    """One request to the Akismet API: its fields and where a key may hide besides them."""

    form: Form
    host: str = ""
    forwarded_host: str = ""
    authorization: str = ""


@dataclass(frozen=True, slots=True)
class KeySources:
    """Where the key came from: sent explicitly, or only guessed from the host name."""

    explicit: str
    host_label: str


def host_label(host: str) -> str:
    """First label of a ``Host`` value that has more than one label, without the port."""
    host = host.strip().lower()
    if not host or host.startswith("["):
        return ""
    name = host.split(":", 1)[0]
    label, dot, _rest = name.partition(".")
    return label if dot else ""


def key_sources(call: AkismetCall, names: tuple[str, ...] = ("api_key", "key")) -> KeySources:
    """The key from the form or query (``names`` in order), ``Authorization: Bearer``, and
    the first label of the ``Host`` (``KEY.rest.akismet.com``, as npm ``akismet-api`` and old
    WordPress builds send it) or of ``X-Forwarded-Host``."""
    explicit = call.form.first_of(names)
    if not explicit:
        scheme, _, token = call.authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            explicit = token.strip()
    label = host_label(call.host) or host_label(call.forwarded_host)
    return KeySources(explicit=explicit, host_label=label)


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back: the HTTP edge copies it as is (header names keep their case)."""

    body: str
    status: int = 200
    media_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = field(default=())

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _json(data: Any) -> Reply:
    return Reply(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False), media_type="application/json"
    )


def invalid(help_text: str, *extra: tuple[str, str]) -> Reply:
    """``invalid`` with the reason clients show their users; every ``invalid`` has one."""
    return Reply(INVALID, headers=(*extra, (DEBUG_HEADER, _header_safe(help_text))))


def rate_limited(help_text: str) -> Reply:
    """The body and headers of a 429 (the rate limiter adds ``Retry-After``).

    Not ``invalid``: clients read that as a bad key (akismet.py raises ``APIKeyError``,
    akismet-api "Invalid API key"). Every client treats a non-200 as a failed call instead:
    WordPress holds the comment for moderation and re-checks it later (``X-akismet-error``
    holds it too), akismet.py raises ``RequestError``, akismet-api rejects, and Automattic's
    PHP SDK raises its ``RateLimitException`` and reads ``Retry-After``.
    """
    help_text = _header_safe(help_text)
    return Reply(
        f"Rate limited: {help_text}",
        status=429,
        headers=((ERROR_HEADER, "rate limited"), (DEBUG_HEADER, help_text)),
    )


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body)
        self.reply = reply


def _missing(name: str) -> _Refused:
    return _Refused(invalid(f"Missing required field: {name}."))


def spam_and_ham(stats: SiteStats | Mapping[str, int], *, unsure_is_spam: bool) -> tuple[int, int]:
    """Akismet only knows spam and ham: discard is spam, unsure goes where the site says."""
    get = stats.get if isinstance(stats, Mapping) else lambda n: getattr(stats, n)
    unsure = int(get("unsure"))
    spam = int(get("spam")) + int(get("discard")) + (unsure if unsure_is_spam else 0)
    ham = int(get("ham")) + (0 if unsure_is_spam else unsure)
    return spam, ham


def answer(verdict: Verdict, *, unsure_is_spam: bool) -> str:
    """``true`` or ``false`` for a verdict."""
    if verdict is Verdict.UNSURE:
        return TRUE if unsure_is_spam else FALSE
    return TRUE if verdict.is_spam else FALSE


def _int(value: str, default: int, *, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        return default
    return number if low <= number <= high else default


def _site_label(url: str) -> str:
    """A site as Akismet's reports name it: no scheme (``blog.example.com/path``)."""
    return url.split("://", 1)[-1]


# -- the API ---------------------------------------------------------------------------------


class AkismetApi:
    """Every Akismet endpoint over ``Moderation``; each method returns a ``Reply``."""

    def __init__(self, moderation: Moderation) -> None:
        self.moderation = moderation
        self.storage = moderation.storage

    # authentication ---------------------------------------------------------------------

    def _find(self, key: str) -> KeyMatch | None:
        return self.moderation.find_key(key)

    def authenticate(
        self, call: AkismetCall, *, names: tuple[str, ...] = ("api_key", "key")
    ) -> KeyMatch:
        """The caller's live key, or ``_Refused`` with the reason.

        A host label that is not 12 hex digits is only taken as a key if it is one we know,
        so ordinary host names (``localhost``, ``rest``) never count as a wrong key.
        """
        sources = key_sources(call, names)
        candidate = sources.explicit
        if not candidate and sources.host_label:
            if _HEX_KEY.match(sources.host_label):
                candidate = sources.host_label
            else:
                found = self._find(sources.host_label)
                if found is not None:
                    return found
        if not candidate:
            raise _missing(names[0])
        found = self._find(candidate)
        if found is None:
            raise _Refused(invalid("Unknown or revoked API key"))
        return found

    @staticmethod
    def _blog(form: Form) -> str:
        blog = form.get("blog").strip()
        if not blog:
            raise _missing("blog")
        try:
            return normalize_site_url(blog)
        except InvalidValue:
            raise _Refused(invalid("We were unable to parse your blog URI")) from None

    def _guarded(self, work: Any, *extra: tuple[str, str]) -> Reply:
        """Run ``work``; a refusal becomes its reply, a database outage a 503 the clients retry."""
        try:
            return work()
        except _Refused as refused:
            reply = refused.reply
            return Reply(reply.body, reply.status, reply.media_type, (*extra, *reply.headers))
        except DatabaseUnavailable:
            log.error("Akismet call answered 503: database unavailable")
            return Reply(
                "Service temporarily unavailable",
                status=503,
                headers=(*extra, (ERROR_HEADER, "database unavailable")),
            )

    # 1.1 --------------------------------------------------------------------------------

    def verify_key(self, call: AkismetCall) -> Reply:
        """``valid`` for a live key and a full http(s) blog URL."""

        def work() -> Reply:
            self._blog(call.form)
            self.authenticate(call, names=("key", "api_key"))
            return Reply(VALID)

        return self._guarded(work)

    def comment_check(self, call: AkismetCall) -> Reply:
        """``true`` (spam) or ``false`` (ham), with the check's guid and, for blatant spam,
        the ``discard`` pro-tip."""
        fallback_guid = uuid.uuid4().hex

        def work() -> Reply:
            match = self.authenticate(call)
            self._blog(call.form)
            record = comment_record(call.form)
            user_role = call.form.get("user_role")
            if not _has_something_to_judge(record) and not _is_administrator(user_role):
                raise _Refused(invalid("Empty comment content"))
            is_test = is_truthy(call.form.get("is_test"))
            try:
                result = self.moderation.check(
                    match.site, record, key_id=match.key.id, is_test=is_test, user_role=user_role
                )
            except NotReadyError:
                return self._fail_open(match.site, fallback_guid)
            return self._check_reply(match.site, result)

        return self._guarded(work, (GUID_HEADER, fallback_guid))

    def _check_reply(self, site: Site, result: CheckResult) -> Reply:
        body = answer(result.verdict, unsure_is_spam=site.settings.unsure_is_spam)
        headers = [(GUID_HEADER, result.id)]
        if body == TRUE and result.verdict is Verdict.DISCARD:
            headers.append((PRO_TIP_HEADER, "discard"))
        return Reply(body, headers=tuple(headers))

    @staticmethod
    def _fail_open(site: Site, guid: str) -> Reply:
        """No model loaded: answer as the site chose (``fail_open``), never with an error.

        ``ham`` lets the comment through; ``unsure`` adds ``X-akismet-error``, on which
        WordPress holds the comment for moderation and re-checks it later.
        """
        log.warning(
            "comment-check answered without a model (fail_open=%s)", site.settings.fail_open
        )
        headers = [(GUID_HEADER, guid)]
        if site.settings.fail_open == "unsure":
            headers.append((ERROR_HEADER, "no spam model loaded; hold for moderation"))
        return Reply(FALSE, headers=tuple(headers))

    def submit(self, call: AkismetCall, *, label: str) -> Reply:
        """Record a moderator's correction (``submit-spam`` / ``submit-ham``).

        WordPress sends no guid back, so the report is tied to the check with the same
        content; a ``guid`` field, when a client sends one, is tried first. Test calls are
        stored but never learned from.
        """

        def work() -> Reply:
            match = self.authenticate(call)
            self._blog(call.form)
            record = comment_record(call.form)
            if not _has_something_to_judge(record):
                raise _Refused(invalid("Empty comment content"))
            reporter = call.form.get("reporter").strip()[:200] or None
            self.moderation.feedback(
                match.site,
                label=label,
                source="akismet",
                record=record,
                check_id=call.form.get("guid").strip()[:64] or None,
                reporter=reporter,
                learn=not is_truthy(call.form.get("is_test")),
            )
            return Reply(THANKS)

        return self._guarded(work)

    def get_subscription(self, call: AkismetCall) -> Reply:
        """What the WordPress settings screen needs to store a key: ``status`` ``active``."""

        def work() -> Reply:
            match = self.authenticate(call, names=("key", "api_key"))
            return _json(
                {
                    "account_id": match.site.id,
                    "account_name": "Sluice (self-hosted)",
                    "account_type": "sluice-self-hosted",
                    "status": "active",
                    "next_billing_date": False,
                    "limit_reached": False,
                }
            )

        return self._guarded(work)

    def get_stats(self, call: AkismetCall, *, today: date | None = None) -> Reply:
        """Totals for the WordPress settings screen (``from`` = ``6-months`` or ``all``)."""

        def work() -> Reply:
            match = self.authenticate(call, names=("key", "api_key"))
            site = match.site
            now = today or datetime.now(UTC).date()
            interval = call.form.get("from").strip()
            since = now - timedelta(days=183) if interval == "6-months" else date(1990, 1, 1)
            totals = dict.fromkeys(
                ("checks", "ham", "unsure", "spam", "discard", "missed_spam", "false_positives"), 0
            )
            for day in self.storage.daily_counts(site_id=site.id, since=since):
                for name in totals:
                    totals[name] += getattr(day, name)
            spam, ham = spam_and_ham(totals, unsure_is_spam=site.settings.unsure_is_spam)
            errors = totals["missed_spam"] + totals["false_positives"]
            checks = totals["checks"]
            accuracy = round(100.0 * (1 - errors / checks), 2) if checks else 100.0
            return _json(
                {
                    "spam": spam,
                    "ham": ham,
                    "missed_spam": totals["missed_spam"],
                    "false_positives": totals["false_positives"],
                    "accuracy": max(accuracy, 0.0),
                }
            )

        return self._guarded(work)

    def deactivate(self, call: AkismetCall) -> Reply:
        """WordPress calls this when the plugin is switched off; nothing to undo here."""

        def work() -> Reply:
            self.authenticate(call, names=("key", "api_key"))
            return Reply(DEACTIVATED)

        return self._guarded(work)

    @staticmethod
    def test() -> Reply:
        """WordPress's connectivity probe (``GET /1.1/test``)."""
        return Reply(CONNECTED)

    # 1.2 --------------------------------------------------------------------------------

    def usage_limit(self, call: AkismetCall) -> Reply:
        """This month's billable calls; there is no plan limit on a self-hosted service."""

        def work() -> Reply:
            match = self.authenticate(call)
            data: dict[str, Any] = {
                "limit": "none",
                "usage": self.storage.usage(key_id=match.key.id),
                "percentage": "0.00",
                "throttled": False,
            }
            if is_truthy(call.form.get("extended")):
                data.update({"notice_level": None, "upgrade": False})
            return _json(data)

        return self._guarded(work)

    def key_sites(self, call: AkismetCall) -> Reply:
        """Per-site activity of the key for a month, as JSON or (``format=csv``) CSV."""

        def work() -> Reply:
            match = self.authenticate(call)
            form = call.form
            month = form.get("month").strip()
            if month and not _MONTH.match(month):
                raise _Refused(invalid("Invalid month: expected YYYY-MM"))
            try:
                stats = self.storage.key_sites(key_id=match.key.id, month=month or None)
            except InvalidValue:
                raise _Refused(invalid("Invalid month: expected YYYY-MM")) from None
            month = stats[0].month if stats else month
            url_filter = form.get("filter").strip().lower()
            rows = [
                self._key_site_row(s, match.site)
                for s in stats
                if not url_filter or url_filter in s.url.lower()
            ]
            order = form.get("order").strip()
            sort_by = {"total": "api_calls"}.get(order, order)
            if order not in KEY_SITES_ORDERS:
                sort_by = "api_calls"
            rows.sort(key=lambda row: (-int(row[sort_by]), row["site"]))
            limit = _int(
                form.get("limit"), KEY_SITES_DEFAULT_LIMIT, low=1, high=KEY_SITES_MAX_LIMIT
            )
            offset = _int(form.get("offset"), 0, low=0, high=10**9)
            page = rows[offset : offset + limit]
            if form.get("format").strip().lower() == "csv":
                sources = key_sources(call)
                title_key = sources.explicit or sources.host_label
                return _key_sites_csv(
                    title_key, month, page, limit=limit, offset=offset, total=len(rows)
                )
            return _json({month: page, "limit": limit, "offset": offset, "total": len(rows)})

        return self._guarded(work)

    @staticmethod
    def _key_site_row(stats: SiteStats, site: Site) -> dict[str, Any]:
        spam, ham = spam_and_ham(stats, unsure_is_spam=site.settings.unsure_is_spam)
        return {
            "site": _site_label(stats.url),
            "api_calls": str(stats.api_calls),
            "spam": str(spam),
            "ham": str(ham),
            "missed_spam": str(stats.missed_spam),
            "false_positives": str(stats.false_positives),
            "is_revoked": stats.is_revoked,
        }


def _key_sites_csv(
    key: str,
    month: str,
    rows: list[dict[str, Any]],
    *,
    limit: int,
    offset: int,
    total: int,
) -> Reply:
    out = io.StringIO()
    out.write(
        f"Active sites for {key} during {month} (limit:{limit}, offset: {offset}, total: {total})\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["Site", "Total API Calls", "Spam", "Ham", "Missed Spam", "False Positives", "Is Revoked"]
    )
    for row in rows:
        writer.writerow(
            [
                row["site"],
                row["api_calls"],
                row["spam"],
                row["ham"],
                row["missed_spam"],
                row["false_positives"],
                "true" if row["is_revoked"] else "false",
            ]
        )
    return Reply(out.getvalue().rstrip("\n"), media_type="text/csv")


__all__ = [
    "CONNECTED",
    "DEACTIVATED",
    "FALSE",
    "INVALID",
    "THANKS",
    "TRUE",
    "VALID",
    "AkismetApi",
    "AkismetCall",
    "Form",
    "KeySources",
    "Reply",
    "answer",
    "comment_record",
    "declared_charset",
    "honeypot_value",
    "host_label",
    "invalid",
    "is_truthy",
    "key_sources",
    "parse_form",
    "spam_and_ham",
]
