"""The overview: what the filter did lately, for one site or for every site one may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from service.dashboard.charts import Chart, Series, bar_chart, line_chart, share_chart
from service.dashboard.latency import LatencyStats, recorder_for
from service.dashboard.web import (
    PageNotFound,
    Signed,
    UserDep,
    make_router,
    moderation_of,
    render,
    visible_sites,
)
from service.storage import DailyCount, Site

router = make_router()
PERIODS = (7, 30, 90)
VERDICTS = (("ham", "Ham"), ("unsure", "Unsure"), ("spam", "Spam"), ("discard", "Discard"))
_COUNTERS = ("checks", "ham", "unsure", "spam", "discard", "missed_spam", "false_positives")
LATENCY_WINDOW = 3600.0
LATENCY_STEP = 300.0


def chosen_site(request: Request, signed: Signed, site_id: int | None) -> Site | None:
    """The site asked for, if this user may see it; ``None`` for "all my sites"."""
    if site_id is None:
        return None
    site = moderation_of(request).storage.get_site(site_id)
    if site is None or not signed.user.may_see(site.id):
        raise PageNotFound("There is no such site, or it is not one of yours.")
    return site


@dataclass(frozen=True, slots=True)
class DayTotals:
    day: date
    counts: dict[str, int]


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def per_day(rows: Sequence[DailyCount], days: Sequence[date]) -> list[DayTotals]:
    """One entry per day, zeros where nothing happened, rows of several sites summed."""
    totals = {d: dict.fromkeys(_COUNTERS, 0) for d in days}
    for row in rows:
        if row.day in totals:
            for name in _COUNTERS:
                totals[row.day][name] += getattr(row, name)
    return [DayTotals(d, totals[d]) for d in days]


def load_days(
    request: Request, signed: Signed, site: Site | None, sites: Sequence[Site], days: list[date]
) -> list[DayTotals]:
    storage = moderation_of(request).storage
    since, until = days[0], days[-1]
    if site is not None:
        rows = storage.daily_counts(site_id=site.id, since=since, until=until)
    elif signed.user.is_admin:
        rows = storage.daily_counts(site_id=None, since=since, until=until)
    else:
        rows = [
            row
            for s in sites
            for row in storage.daily_counts(site_id=s.id, since=since, until=until)
        ]
    return per_day(rows, days)


def day_label(day: date, period: int) -> str:
    return day.strftime("%a %d") if period <= 7 else day.strftime("%d %b")


def charts(totals: list[DayTotals], period: int) -> dict[str, Chart]:
    labels = [day_label(t.day, period) for t in totals]

    def values(name: str) -> list[float | None]:
        return [float(t.counts[name]) for t in totals]

    return {
        "checks": bar_chart(
            "chart-checks",
            title="Comments checked per day",
            labels=labels,
            series=[Series("checks", "Checks", values("checks"))],
            unit="checks",
        ),
        "verdicts": share_chart(
            "chart-verdicts",
            title="Share of verdicts per day",
            labels=labels,
            series=[Series(key, name, values(key)) for key, name in VERDICTS],
        ),
        "feedback": bar_chart(
            "chart-feedback",
            title="Mistakes reported by moderators (on the day of the check)",
            labels=labels,
            series=[
                Series("missed", "Missed spam", values("missed_spam")),
                Series("fp", "False positives", values("false_positives")),
            ],
            unit="reports",
            stacked=False,
        ),
    }


def latency_chart(request: Request) -> tuple[Chart, dict[str, LatencyStats]]:
    recorder = recorder_for(request.app)
    buckets = recorder.buckets(window=LATENCY_WINDOW, step=LATENCY_STEP)
    labels = [datetime.fromtimestamp(b.start, UTC).strftime("%H:%M") for b in buckets]
    chart = line_chart(
        "chart-latency",
        title="API latency over the last hour (milliseconds, per 5 minutes, UTC)",
        labels=labels,
        series=[
            Series("p50", "Median", [b.stats.p50 if b.stats else None for b in buckets]),
            Series("p95", "95th percentile", [b.stats.p95 if b.stats else None for b in buckets]),
        ],
        unit="ms",
        heading="Time (UTC)",
    )
    return chart, recorder.summary(window=LATENCY_WINDOW)


def model_summary(request: Request) -> dict[str, Any] | None:
    holder = moderation_of(request).models
    scorer = holder.scorer
    if scorer is None:
        return None
    card = scorer.model.card
    return {
        "version": scorer.version,
        "created_at": card.get("created_at"),
        "held_out": card.get("evaluation", {}).get("held_out", {}),
        "cutoffs": card.get("cutoffs", {}),
        "gate": card.get("gate", {}),
        "last_error": holder.last_error,
    }


def site_rows(
    request: Request, sites: Sequence[Site], days: list[date]
) -> list[tuple[Site, dict[str, int]]]:
    storage = moderation_of(request).storage
    rows = []
    for site in sites[:100]:
        counts = dict.fromkeys(_COUNTERS, 0)
        for row in storage.daily_counts(site_id=site.id, since=days[0], until=days[-1]):
            for name in _COUNTERS:
                counts[name] += getattr(row, name)
        rows.append((site, counts))
    return rows


@router.get("/")
def read_overview(
    request: Request,
    signed: UserDep,
    site: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> Response:
    """Checks, verdicts, mistakes, the served model and latency, at a glance."""
    current = chosen_site(request, signed, site)
    sites = visible_sites(request, signed.user)
    today = datetime.now(UTC).date()
    period = [today - timedelta(days=days - 1), today]
    all_days = days_between(*period)
    totals = load_days(request, signed, current, sites, all_days)
    summed = {name: sum(t.counts[name] for t in totals) for name in _COUNTERS}
    latency, latency_table = latency_chart(request)
    return render(
        request,
        "overview.html",
        signed=signed,
        nav="overview",
        site=current,
        sites=sites,
        days=days,
        periods=PERIODS,
        since=all_days[0],
        until=all_days[-1],
        summed=summed,
        charts=charts(totals, days),
        latency=latency,
        latency_table=latency_table,
        model=model_summary(request),
        site_rows=site_rows(request, sites, all_days) if current is None else [],
        verdicts=VERDICTS,
    )
