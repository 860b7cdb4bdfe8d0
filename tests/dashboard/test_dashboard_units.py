"""Pure pieces of the dashboard: SVG charts, highlighting, latency ring buffer."""

from __future__ import annotations

import re

import pytest

from service.dashboard.charts import Series, bar_chart, line_chart, nice_ceiling, share_chart
from service.dashboard.highlight import highlight, marks_from_reasons
from service.dashboard.latency import LatencyRecorder, endpoint_group, percentile


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (3, 5), (7, 10), (12, 20), (21, 25), (26, 50), (0.3, 0.5)]
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected


def test_bar_chart_marks_carry_their_numbers_and_escape_labels() -> None:
    chart = bar_chart(
        "c",
        title="Checks <per> day",
        labels=["Mon", "Tue", "<b>"],
        series=[Series("checks", "Checks", [3, 0, 7])],
        unit="checks",
    )
    svg = str(chart.svg)
    assert svg.count('<rect class="bar s-checks"') == 2  # no bar for zero
    assert 'data-label="&lt;b&gt;" data-value="7"' in svg
    assert "<b>" not in svg and "Checks &lt;per&gt; day" in svg
    assert "10 checks in total" in chart.summary
    assert "<td>7</td>" in str(chart.table)


def test_share_chart_stacks_to_one_hundred_percent() -> None:
    chart = share_chart(
        "s",
        title="Verdicts",
        labels=["a", "b"],
        series=[Series("ham", "Ham", [3, 0]), Series("spam", "Spam", [1, 0])],
    )
    shares = [float(s) for s in re.findall(r'data-share="([^"]+)"', str(chart.svg))]
    assert shares == [75.0, 25.0]
    assert "Ham 75.0%" in chart.summary


def test_empty_and_broken_lines() -> None:
    empty = bar_chart("e", title="t", labels=["a"], series=[Series("x", "X", [0])], unit="u")
    assert "No data in this period" in str(empty.svg)
    line = line_chart(
        "l",
        title="t",
        labels=list("abcde"),
        series=[Series("p", "P", [1, 2, None, 4, 5])],
        unit="ms",
    )
    assert str(line.svg).count("<polyline") == 2
    assert str(line.svg).count("<circle") == 4


def test_highlight_marks_words_and_links_and_escapes_the_rest() -> None:
    reasons = [
        {"feature": "words__free spins", "label": "word “free spins”", "weight": 1.5},
        {"feature": "meta__link_domain=lucky.top", "label": "links to lucky.top", "weight": 1.0},
        {"feature": "words__thanks", "label": "word “thanks”", "weight": -0.7},
        {"feature": "meta__length_log", "label": "absent: comment length", "weight": 2.0},
    ]
    html = str(
        highlight(
            "Thanks! <i>FREE  spins</i> at https://www.lucky.top/x and http://ok.org", reasons
        )
    )
    assert '<mark class="hl hl-ham"' in html and ">Thanks</mark>" in html
    assert ">FREE  spins</mark>" in html
    assert ">https://www.lucky.top/x</mark>" in html
    assert "http://ok.org" in html and ">http://ok.org</mark>" not in html
    assert "&lt;i&gt;" in html and "<i>" not in html
    assert len(marks_from_reasons(reasons)) == 3  # "absent" reasons point at nothing


def test_highlight_of_nothing() -> None:
    assert str(highlight(None, [])) == ""
    assert str(highlight("a <b>", [])) == "a &lt;b&gt;"


def test_latency_recorder_percentiles_and_buckets() -> None:
    now = [10_000.0]
    recorder = LatencyRecorder(size=100, clock=lambda: now[0])
    for ms in range(1, 101):
        recorder.record("/v1/comments/check", ms / 1000)
    recorder.record("/favicon.ico", 5.0)  # not an endpoint of the service
    summary = recorder.summary()
    assert summary["check (JSON)"].count == 100
    assert summary["all"].p50 == pytest.approx(50) and summary["all"].p95 == pytest.approx(95)
    assert summary["all"].max == pytest.approx(100)
    buckets = recorder.buckets(window=600, step=300)
    assert len(buckets) == 2 and buckets[-1].stats is not None and buckets[0].stats is None
    now[0] += 4000
    assert recorder.summary() == {}
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert endpoint_group("/1.1/comment-check") == "check (Akismet)"
