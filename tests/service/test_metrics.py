"""Prometheus metrics: scraped as Prometheus would, private unless configured."""

import socket

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _traffic(client: TestClient) -> None:
    storage = client.app.state.moderation.storage
    _, key = storage.create_key(site_id=storage.create_site(url="https://m.example").id)
    headers = {"Authorization": f"Bearer {key}"}
    check = client.post("/v1/comments/check", json={"content": "Nice post!"}, headers=headers)
    client.post(
        f"/v1/comments/{check.json()['id']}/feedback", json={"label": "spam"}, headers=headers
    )
    client.post("/v1/comments/check", json={"content": ""}, headers=headers)


def test_metrics_show_requests_verdicts_feedback_and_model(settings: Settings) -> None:
    public = settings.model_copy(update={"metrics_public": True})
    with TestClient(create_app(public)) as client:
        _traffic(client)
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'sluice_http_requests_total{method="POST",route="/v1/comments/check",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/comments/check",status="422"' in text
    assert (
        'sluice_http_request_duration_seconds_bucket{le="0.25",route="/v1/comments/check"}' in text
    )
    assert 'sluice_verdicts_total{site="1"' in text or "sluice_verdicts_total{site=" in text
    assert 'sluice_feedback_total{label="spam",source="api"} 1.0' in text
    version = client.app.state.models.scorer.version
    assert f'sluice_model_info{{version="{version}"}} 1.0' in text
    assert 'sluice_model_reloads_total{outcome="loaded"} 1.0' in text
    assert "/v1/comments/" not in text.split("feedback")[0] or "{check_id}" in text


def test_metrics_are_private_by_default_and_served_on_their_own_port(settings: Settings) -> None:
    port = _free_port()
    # Another loopback address than the default 127.0.0.1: the configured one is the one bound.
    private = settings.model_copy(update={"metrics_port": port, "metrics_host": "127.0.0.2"})
    with TestClient(create_app(private)) as client:
        assert client.get("/metrics").status_code == 404
        _traffic(client)
        with httpx.Client(timeout=5) as http:
            scraped = http.get(f"http://127.0.0.2:{port}/metrics")
            with pytest.raises(httpx.ConnectError):
                http.get(f"http://127.0.0.1:{port}/metrics")
    assert scraped.status_code == 200
    assert "sluice_verdicts_total" in scraped.text


def test_a_scrape_skips_the_sample_file_a_worker_is_creating(tmp_path) -> None:
    """A worker creates its file empty and sizes it a moment later; a scrape in between
    failed with a 500 (seen in tests/scale/test_workers.py)."""
    from prometheus_client import generate_latest
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    from service.observability import merged_registry

    written = MmapedDict(str(tmp_path / "counter_101.db"))
    key = mmap_key("sluice_feedback", "sluice_feedback_total", ["label"], ["spam"], "Feedback")
    written.write_value(key, 3.0, 0.0)
    written.close()
    (tmp_path / "counter_102.db").touch()  # the other worker, mid-creation
    text = generate_latest(merged_registry(str(tmp_path))).decode()
    assert 'sluice_feedback_total{label="spam"} 3.0' in text


def test_one_json_access_line_per_request_without_personal_data(client: TestClient, caplog) -> None:
    import json
    import logging

    from service.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="sluice.access")
    comment = {"content": "Lovely!", "author_email": "pat@example.org", "user_ip": "198.51.100.4"}
    response = client.post("/v1/comments/check", json=comment)
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "sluice.access"
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line["route"] == "/v1/comments/check" and line["status"] == 200
    assert line["verdict"] == response.json()["verdict"]
    assert line["check"] == response.json()["id"]
    assert line["request_id"] == response.headers["x-request-id"]
    assert isinstance(line["site"], int) and line["duration_ms"] > 0
    text = json.dumps(line)
    assert "pat@example.org" not in text and "198.51.100.4" not in text and "Lovely" not in text


def test_readyz_reports_model_database_and_redis_separately(settings: Settings) -> None:
    with_redis = settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"})
    with TestClient(create_app(with_redis)) as client:
        body = client.get("/readyz").json()
    assert body["model"]["ready"] and body["database"]["ready"] and body["redis"]["ready"]
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200  # rate limits fall back to memory: still serving
    assert response.json()["redis"]["ready"] is False
