from fastapi.testclient import TestClient

from service.app import create_app

SPAM = {
    "content": "Great post!!! Buy cheap v1agra and cialis online, no prescription: "
    "http://cheap-rx-pills.shop/order call +1 888 555 0199",
    "author_name": "cheap viagra online",
    "author_url": "http://cheap-rx-pills.shop/",
    "author_email": "sales123@rx-pills.shop",
}
HAM = {
    "content": "Thanks for the detailed write-up. I tried the second approach with "
    "PostgreSQL 15 and the vacuum settings you suggested, and the bloat went away.",
    "author_name": "Maria Keller",
    "author_email": "maria.keller@gmail.com",
}


def test_check_returns_verdict_score_and_reasons(client: TestClient) -> None:
    response = client.post("/v1/comments/check", json=SPAM)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "spam", "score", "verdict", "reasons", "model_version"}
    assert body["verdict"] in ("spam", "discard")
    assert body["spam"] is True
    assert 0.5 < body["score"] <= 1
    assert body["reasons"] and all(
        set(r) == {"feature", "label", "weight"} for r in body["reasons"]
    )
    assert body["reasons"][0]["weight"] > 0


def test_legitimate_comment_is_ham(client: TestClient) -> None:
    body = client.post("/v1/comments/check", json=HAM).json()
    assert body["verdict"] == "ham"
    assert body["spam"] is False


def test_batch_scores_each_comment_in_order(client: TestClient) -> None:
    response = client.post("/v1/comments/check-batch", json={"comments": [SPAM, HAM, SPAM]})
    assert response.status_code == 200
    verdicts = [r["verdict"] for r in response.json()["results"]]
    assert verdicts[1] == "ham"
    assert verdicts[0] in ("spam", "discard") and verdicts[2] in ("spam", "discard")


def test_batch_over_the_limit_is_refused(client: TestClient) -> None:
    limit = client.app.state.settings.max_batch
    response = client.post("/v1/comments/check-batch", json={"comments": [HAM] * (limit + 1)})
    assert response.status_code == 400
    assert "at most" in response.json()["message"]


def test_model_card_and_health(client: TestClient) -> None:
    card = client.get("/v1/model").json()
    assert card["version"] and card["cutoffs"]["spam"] > 0
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model"]["version"] == card["version"]


def test_bad_input_gets_4xx_json_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"content": "   "}, "content"),
        ({"author_name": "x"}, "content"),
        ({"content": "hi", "user_ip": "999.1.1.1"}, "user_ip"),
        ({"content": "hi", "created_at": "yesterday"}, "created_at"),
        ({"content": "hi", "contents": "typo"}, "contents"),
        ({"content": 42}, "content"),
        ({"content": "x" * 70_000}, "content"),
    ]
    for payload, field in cases:
        response = client.post("/v1/comments/check", json=payload)
        assert response.status_code == 422, payload
        body = response.json()
        assert body["error"] == "invalid_request"
        assert any(d["field"] == field for d in body["details"]), body


def test_malformed_json_and_oversized_bodies(client: TestClient) -> None:
    response = client.post(
        "/v1/comments/check", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    limit = client.app.state.settings.max_body_bytes
    response = client.post("/v1/comments/check", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_not_ready_without_a_model(tmp_path, settings) -> None:
    empty = settings.model_copy(update={"models_dir": tmp_path / "empty"})
    with TestClient(create_app(empty)) as empty_client:
        assert empty_client.get("/readyz").status_code == 503
        storage = empty_client.app.state.moderation.storage
        _, key = storage.create_key(site_id=storage.create_site(url="https://a.example").id)
        response = empty_client.post(
            "/v1/comments/check", json=HAM, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 503
        assert response.json()["error"] == "not_ready"


def test_every_api_endpoint_needs_a_key(anonymous_client: TestClient) -> None:
    calls = [
        ("post", "/v1/comments/check", {"json": HAM}),
        ("post", "/v1/comments/check-batch", {"json": {"comments": [HAM]}}),
        ("post", "/v1/comments/abc/feedback", {"json": {"label": "ham"}}),
        ("get", "/v1/model", {}),
    ]
    for method, path, kwargs in calls:
        for headers in ({}, {"Authorization": "Bearer 0123456789ab"}, {"Authorization": "Basic x"}):
            response = getattr(anonymous_client, method)(path, headers=headers, **kwargs)
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"] == "unauthorized"


def test_revoked_key_is_refused(client: TestClient, api_key: str) -> None:
    storage = client.app.state.moderation.storage
    match = storage.find_key(plaintext=api_key)
    storage.revoke_key(key_id=match.key.id)
    assert client.post("/v1/comments/check", json=HAM).status_code == 401


def test_checks_are_recorded_and_counted(client: TestClient, api_key: str) -> None:
    body = client.post("/v1/comments/check", json=HAM).json()
    storage = client.app.state.moderation.storage
    check = storage.get_check(body["id"])
    assert check is not None
    assert check.verdict.value == body["verdict"]
    assert check.content == HAM["content"]
    assert "maria.keller@gmail.com" not in str(check.fields)  # hashed by default
    assert storage.usage(key_id=storage.find_key(plaintext=api_key).key.id) == 1
