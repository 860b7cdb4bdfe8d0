"""Overview: per-day charts drawn from the counters, the served model, latency."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dashboard_support import Dash, World, record


def _values(page: str, chart_id: str, series: str) -> list[float]:
    svg = page[page.index(f'id="{chart_id}"') :]
    svg = svg[: svg.index("</svg>")]
    return [
        float(v)
        for v in re.findall(rf'data-series="{series}" data-label="[^"]*" data-value="([^"]+)"', svg)
    ]


def test_overview_draws_the_week(admin: Dash, world: World) -> None:
    now = datetime.now(UTC)
    for days_ago, verdict in [(0, "spam"), (0, "ham"), (0, "ham"), (2, "unsure"), (9, "spam")]:
        world.storage.record_check(
            site_id=world.site.id,
            fields={"content": "x"},
            score=0.5,
            verdict=verdict,
            model_version="test",
            at=now - timedelta(days=days_ago),
        )
    fp = record(world.storage, world.site, "wrongly caught", "spam")
    admin.post("/dashboard/queue", {"site": world.site.id, "one": f"ham:{fp}"})
    admin.client.get("/health")
    page = admin.get(f"/dashboard/?site={world.site.id}").text
    assert sum(_values(page, "chart-checks", "checks")) == 5  # the 9-day-old one is outside
    assert _values(page, "chart-checks", "checks")[-1] == 4
    assert sum(_values(page, "chart-verdicts", "ham")) == 2
    assert _values(page, "chart-feedback", "fp") == [1.0]
    assert 'role="img"' in page and "<title" in page and "<table" in page
    model = admin.client.app.state.models.scorer
    assert model.version in page and "Precision" in page
    assert _values(page, "chart-latency", "p50")  # /health was timed
    assert '<th scope="row">health</th>' in page
    month = admin.get(f"/dashboard/?site={world.site.id}&days=30").text
    assert sum(_values(month, "chart-checks", "checks")) == 6


def test_overall_view_sums_sites_and_lists_them(admin: Dash, world: World) -> None:
    record(world.storage, world.site, "one", "spam")
    record(world.storage, world.other, "two", "ham")
    page = admin.get("/dashboard/").text
    assert sum(_values(page, "chart-checks", "checks")) == 2
    assert "Example blog" in page and "Other shop" in page


def test_moderator_overall_view_counts_only_their_sites(moderator: Dash, world: World) -> None:
    record(world.storage, world.site, "one", "spam")
    record(world.storage, world.other, "two", "ham")
    record(world.storage, world.other, "three", "ham")
    page = moderator.get("/dashboard/").text
    assert sum(_values(page, "chart-checks", "checks")) == 1
    assert "Other shop" not in page


def test_static_files_are_served(admin: Dash) -> None:
    page = admin.get("/dashboard/").text
    css = re.search(r'href="(/dashboard/static/dashboard\.css\?v=\w+)"', page)[1]
    script = re.search(r'src="(/dashboard/static/dashboard\.js\?v=\w+)"', page)[1]
    assert admin.get(css).status_code == 200
    assert "addEventListener" in admin.get(script).text
