"""The review queue: a site's recent held and caught comments, and one click to correct each.

A click records feedback through ``Moderation.feedback`` with ``source="dashboard"``: the
same path as the JSON and Akismet APIs, so the correction is stored, the site's error
counters move and the sender's reputation changes before the page answers.

The queue reads the site's checks newest first (``Storage.list_checks``) and filters them
here, scanning at most ``SCAN_LIMIT`` checks per page; "older" continues from where the
scan stopped, so a search over a busy site never becomes one unbounded query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from service.dashboard.highlight import highlight
from service.dashboard.overview import chosen_site
from service.dashboard.web import (
    BadForm,
    Form,
    FormDep,
    PageNotFound,
    Signed,
    UserDep,
    base_path,
    json_response,
    make_router,
    moderation_of,
    redirect,
    render,
    visible_sites,
    wants_json,
)
from service.storage import CheckRecord, Label, Site
from service.storage.comment_fields import EMAIL_HASH_FIELD, IP_HASH_FIELD

router = make_router()
PAGE_SIZE = 25
BATCH = 200
SCAN_LIMIT = 2000
MAX_BULK = 200

VERDICT_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "review": ("Unsure and spam", ("unsure", "spam")),
    "unsure": ("Unsure", ("unsure",)),
    "spam": ("Spam", ("spam",)),
    "discard": ("Discard", ("discard",)),
    "ham": ("Ham", ("ham",)),
    "all": ("All verdicts", ("ham", "unsure", "spam", "discard")),
}
STATUS_FILTERS = {
    "pending": "Not reviewed yet",
    "reviewed": "Reviewed",
    "all": "Reviewed or not",
}
LABELS = {"ham": "not spam", "spam": "spam"}
_META_FIELDS = (
    ("author_name", "Author"),
    ("author_email", "E-mail"),
    (EMAIL_HASH_FIELD, "E-mail"),
    ("author_url", "Website"),
    ("user_ip", "IP address"),
    (IP_HASH_FIELD, "IP address"),
    ("user_agent", "Browser"),
    ("referrer", "Referrer"),
    ("permalink", "Page"),
    ("comment_type", "Type"),
    ("lang", "Language"),
    ("created_at", "Written"),
    ("honeypot", "Honeypot"),
)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    verdict: str = "review"
    status: str = "pending"
    q: str = ""
    before: datetime | None = None

    def query(self, **changes: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "verdict": self.verdict,
            "status": self.status,
            "q": self.q,
            "before": self.before.isoformat() if self.before else "",
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def matches(self, check: CheckRecord) -> bool:
        if check.verdict.value not in VERDICT_FILTERS[self.verdict][1]:
            return False
        if self.status == "pending" and check.feedback_label is not None:
            return False
        if self.status == "reviewed" and check.feedback_label is None:
            return False
        if self.q:
            haystack = " ".join(
                str(v)
                for v in (
                    check.id,
                    check.content,
                    check.fields.get("author_name"),
                    check.fields.get("author_email"),
                    check.fields.get("author_url"),
                    check.fields.get("permalink"),
                )
                if v
            ).casefold()
            return self.q.casefold() in haystack
        return True


def parse_filter(verdict: str, status: str, q: str, before: str) -> QueueFilter:
    moment = None
    if before:
        try:
            moment = datetime.fromisoformat(before)
        except ValueError:
            raise PageNotFound("That page of the queue does not exist.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return QueueFilter(
        verdict=verdict if verdict in VERDICT_FILTERS else "review",
        status=status if status in STATUS_FILTERS else "pending",
        q=q.strip()[:200],
        before=moment,
    )


@dataclass(frozen=True, slots=True)
class ScanResult:
    checks: list[CheckRecord]
    scanned: int
    next_before: datetime | None  # where "older" starts, when there may be more


def scan(request: Request, site: Site, flt: QueueFilter) -> ScanResult:
    storage = moderation_of(request).storage
    found: list[CheckRecord] = []
    scanned = 0
    cursor = flt.before
    while scanned < SCAN_LIMIT:
        batch = storage.list_checks(site_id=site.id, limit=BATCH, before=cursor)
        for check in batch:
            scanned += 1
            cursor = check.created_at
            if flt.matches(check):
                found.append(check)
                if len(found) == PAGE_SIZE:
                    return ScanResult(found, scanned, cursor)
        if len(batch) < BATCH:
            return ScanResult(found, scanned, None)
    return ScanResult(found, scanned, cursor)


@dataclass(frozen=True, slots=True)
class ReasonView:
    label: str
    weight: float
    width: float  # percent of the strongest reason

    @property
    def towards(self) -> str:
        return "spam" if self.weight > 0 else "ham"


def reason_views(reasons: Any) -> list[ReasonView]:
    items = [r for r in reasons or () if isinstance(r, Mapping)]
    strongest = max((abs(float(r.get("weight", 0))) for r in items), default=0.0) or 1.0
    return [
        ReasonView(
            label=str(r.get("label", r.get("feature", ""))),
            weight=float(r.get("weight", 0)),
            width=round(100 * abs(float(r.get("weight", 0))) / strongest, 1),
        )
        for r in items
    ]


def metadata(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    for name, title in _META_FIELDS:
        value = fields.get(name)
        if value in (None, ""):
            continue
        if name in (EMAIL_HASH_FIELD, IP_HASH_FIELD):
            value = f"stored hashed ({str(value)[:8]}…)"
        shown.append((title, str(value)[:300]))
    return shown


@dataclass(frozen=True, slots=True)
class QueueItem:
    check: CheckRecord
    html: Markup
    reasons: list[ReasonView]
    meta: list[tuple[str, str]]


def item(check: CheckRecord) -> QueueItem:
    return QueueItem(
        check=check,
        html=highlight(check.content, check.reasons),
        reasons=reason_views(check.reasons),
        meta=metadata(check.fields),
    )


def default_site(request: Request, signed: Signed, site_id: int | None) -> Site:
    if site_id is not None:
        site = chosen_site(request, signed, site_id)
        if site is None:  # not reached: chosen_site answers None only for no site_id
            raise PageNotFound("There is no such site, or it is not one of yours.")
        return site
    sites = visible_sites(request, signed.user)
    if not sites:
        raise PageNotFound("There are no sites yet, or none of them is yours.")
    return sites[0]


@router.get("/queue")
def read_queue(
    request: Request,
    signed: UserDep,
    site: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    verdict: Annotated[str, Query(max_length=20)] = "review",
    status: Annotated[str, Query(max_length=20)] = "pending",
    q: Annotated[str, Query(max_length=500)] = "",
    before: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Recent unsure and spam comments of a site, newest first, with their reasons."""
    current = default_site(request, signed, site)
    flt = parse_filter(verdict, status, q, before)
    result = scan(request, current, flt)
    return render(
        request,
        "queue.html",
        signed=signed,
        nav="queue",
        site=current,
        sites=visible_sites(request, signed.user),
        flt=flt,
        items=[item(c) for c in result.checks],
        result=result,
        verdict_filters=VERDICT_FILTERS,
        status_filters=STATUS_FILTERS,
        labels=LABELS,
        page_size=PAGE_SIZE,
    )


def _requested(form: Form) -> list[tuple[str, str]]:
    """``(check_id, label)`` pairs from a one-click button or a bulk action."""
    one = form.get("one")
    if one:
        label, _, check_id = one.partition(":")
        pairs = [(check_id, label)]
    else:
        label = form.get("bulk")
        pairs = [(check_id, label) for check_id in form.getlist("check")]
        if not pairs:
            raise BadForm("Select at least one comment first.")
    if len(pairs) > MAX_BULK:
        raise BadForm(f"At most {MAX_BULK} comments at once.")
    if any(label not in LABELS for _, label in pairs):
        raise BadForm("Choose 'not spam' or 'spam'.")
    return pairs


@router.post("/queue")
def create_feedback(request: Request, signed: UserDep, form: FormDep) -> Response:
    """Record "not spam" / "spam" for one comment or every selected one."""
    site_id = form.get("site")
    if not site_id.isdigit():
        raise BadForm("The form names no site.")
    site = chosen_site(request, signed, int(site_id))
    if site is None:  # not reached: chosen_site answers None only for no site_id
        raise BadForm("The form names no site.")
    moderation = moderation_of(request)
    done: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for check_id, label in _requested(form):
        check = moderation.storage.get_check(check_id) if check_id else None
        if check is None or check.site_id != site.id:
            failed.append({"check_id": check_id[:64], "message": "no such comment on this site"})
            continue
        moderation.feedback(
            site,
            label=Label(label).value,
            source="dashboard",
            check_id=check.id,
            reporter=signed.user.username,
        )
        done.append({"check_id": check.id, "label": label, "shown": LABELS[label]})
    if wants_json(request):
        return json_response({"done": done, "failed": failed}, status=200 if done else 422)
    if not done:
        raise BadForm("None of those comments could be found on this site.")
    flt = parse_filter(form.get("verdict"), form.get("status"), form.get("q"), form.get("before"))
    return redirect(
        f"{base_path(request)}/queue",
        site=site.id,
        **flt.query(),
        msg="feedback",
        n=len(done),
    )
