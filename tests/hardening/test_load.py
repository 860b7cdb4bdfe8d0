"""The bounded load test, short: a steady rate on both check endpoints across a hot reload.

``bench.load`` starts the real server (``python -m service serve``), sends comments at a
constant arrival rate to the JSON and the Akismet endpoints and points ``models/CURRENT`` at
another version while the load goes on. These are correctness checks:
no failed request, the new model answering by the end, memory within the bound. Latency is
reported by the benchmark (``make bench-load``), never asserted here. About 30 s: 14 s of load,
the rest starting interpreters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load

pytestmark = pytest.mark.slow


def test_a_steady_load_across_a_hot_reload_loses_nothing(models_dir: Path) -> None:
    # The pointer is written directly, not by `python -m service models promote`: that command
    # took 20-25 s on the shared machine under load, which would make the swap's time a matter
    # of luck. The server looks every second and loads the model in about a second (over five
    # when the machine is very busy): 10 s are left after the pointer changes.
    plan = load.Plan(
        rate=20, warmup=2, duration=12, reload_at=2, timeout=10, promote_with="pointer"
    )
    _, summary = load.run(plan, models_dir=models_dir)

    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["requests"] == 240
    for endpoint in load.ENDPOINTS:
        assert summary["endpoints"][endpoint]["requests"] == 120
        assert summary["endpoints"][endpoint]["errors"] == 0
    model = summary["model"]
    assert model["promote_error"] is None
    assert model["before"] != model["after"]
    assert model["first_answer_version"] == model["before"]
    assert model["last_answer_version"] == model["after"], model
    assert model["served_after_run"] == model["after"]
    assert model["first_new_answer_s"] > model["promoted_at_s"]
    memory = summary["memory"]
    assert memory["rss_before_mib"] > 0
    assert memory["rss_growth_mib"] <= memory["bound_mib"], memory
    assert load.failures(summary) == []

    # The command line writes the report and exits 0 only on a run like this one.
    setup = {"workers": 1, "flood_window_seconds": "600", "rate_limit_per_minute": "4800"}
    report = load.write_report({"command": "test"}, setup, summary)
    assert "**PASSED**" in report
    assert "POST /1.1/comment-check" in report


def test_a_failed_request_or_a_missing_reload_fails_the_run() -> None:
    """``failures`` is what the exit status follows: check it turns each problem into a reason."""
    passing = {
        "plan": {"warmup": 2, "duration": 10},
        "errors": 0,
        "error_examples": [],
        "model": {
            "before": "v1",
            "after": "v2",
            "first_answer_version": "v1",
            "last_answer_version": "v2",
            "served_after_run": "v2",
            "promote_error": None,
            "promoted_at_s": 7.0,
            "pointer_written_at_s": 7.1,
        },
        "memory": {"rss_growth_mib": 12.0, "bound_mib": 60.0},
    }
    assert load.failures(passing) == []
    errors = {**passing, "errors": 3, "error_examples": ["HTTP 500: boom"]}
    assert "3 failed requests" in load.failures(errors)[0]
    stale = {**passing, "model": {**passing["model"], "last_answer_version": "v1"}}
    assert "not reloaded" in load.failures(stale)[0]
    grown = {**passing, "memory": {"rss_growth_mib": 75.0, "bound_mib": 60.0}}
    assert "grew by 75.0 MiB" in load.failures(grown)[0]
