"""Logs: no comment text, e-mail address, IP address, API key or admin token at INFO and
above, through checks, feedback, an outage (spooling and replay) and refused requests; and
every line logged while serving a request carries that request's id."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

SECRET_TEXT = "Zanzibar-quokka-7731 limited offer on replica watches"
EMAIL = "quokka.private@mailbox.example"
IP = "198.18.7.31"
ADMIN_TOKEN = "hardening-admin-token"


def test_no_personal_data_in_logs_and_request_ids_everywhere(
    shared_app_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = shared_app_client
    moderation = client.app.state.moderation
    storage = moderation.storage
    key = storage.create_key(site_id=storage.create_site(url="https://logs.example").id)[1]
    auth = {"Authorization": f"Bearer {key}"}
    comment = {"content": SECRET_TEXT, "author_email": EMAIL, "user_ip": IP}
    form = {
        "api_key": key,
        "blog": "https://logs.example",
        "comment_content": SECRET_TEXT,
        "comment_author_email": EMAIL,
        "user_ip": IP,
    }
    with caplog.at_level(logging.INFO):
        check_id = client.post("/v1/comments/check", json=comment, headers=auth).json()["id"]
        client.post(f"/v1/comments/{check_id}/feedback", json={"label": "spam"}, headers=auth)
        client.post("/1.1/comment-check", data=form)
        client.post("/1.1/submit-spam", data=form)
        client.post("/v1/comments/check", json={**comment, "user_ip": "x" + IP}, headers=auth)
        client.post("/v1/comments/check", json=comment, headers={"Authorization": "Bearer bad"})
        client.get("/admin/sites", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        moderation.spool.active = True  # an outage: checks and feedback go to the spool
        spooled = client.post("/v1/comments/check", json=comment, headers=auth).json()["id"]
        client.post(f"/v1/comments/{spooled}/feedback", json={"label": "ham"}, headers=auth)
        in_requests = [r for r in caplog.records if r.name.startswith("service.")]
        assert moderation.replay_spool()  # the background task's work, outside any request
    records = caplog.records
    assert any(r.name == "service.spool" for r in records)  # the outage was logged
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in (SECRET_TEXT, "Zanzibar", EMAIL, IP, key, ADMIN_TOKEN):
            assert secret not in text, (record.name, text)
    assert in_requests, "nothing was logged during requests"
    assert all(len(getattr(r, "request_id", "-")) == 32 for r in in_requests), [
        (r.name, r.getMessage()) for r in in_requests if getattr(r, "request_id", "-") == "-"
    ]
