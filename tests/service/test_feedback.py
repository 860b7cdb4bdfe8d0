"""Feedback through the JSON API: stored durably, and acting on the next verdict at once."""

from fastapi.testclient import TestClient

REGULAR = {
    "author_name": "Dana Whitfield",
    "author_email": "dana.whitfield@fastmail.example",
    "author_url": "https://dana-cooks.example",
    "user_ip": "203.0.113.77",
}
# A regular's comment that looks promotional: a link to her own shop and a discount code.
BORDERLINE = {
    "content": "Great recipe! I sell handmade sourdough starters, 20% off this week with code "
    "BREAD20 at https://dana-cooks.example/shop - free shipping!",
    **REGULAR,
}


def test_not_spam_on_a_held_comment_changes_the_next_verdict(client: TestClient) -> None:
    first = client.post("/v1/comments/check", json=BORDERLINE).json()
    response = client.post(f"/v1/comments/{first['id']}/feedback", json={"label": "ham"})
    assert response.status_code == 201
    assert response.json()["check_id"] == first["id"]
    again = client.post("/v1/comments/check", json=BORDERLINE).json()
    assert again["score"] < first["score"]
    assert again["verdict"] == "ham"
    labels = [r["label"] for r in again["reasons"]]
    assert any("previously approved 1 time on this site" in label for label in labels), labels


def test_spam_reports_push_the_same_sender_towards_spam(client: TestClient) -> None:
    comment = {
        "content": "Nice article, thanks for sharing.",
        "author_email": "x9@spam.example",
        "author_url": "https://cheap-links.example",
    }
    first = client.post("/v1/comments/check", json=comment).json()
    for _ in range(3):
        check = client.post("/v1/comments/check", json=comment).json()
        client.post(f"/v1/comments/{check['id']}/feedback", json={"label": "spam"})
    after = client.post("/v1/comments/check", json=comment).json()
    assert after["score"] > first["score"]
    assert after["spam"] is True


def test_feedback_is_stored_with_its_check(client: TestClient) -> None:
    check = client.post("/v1/comments/check", json=BORDERLINE).json()
    client.post(f"/v1/comments/{check['id']}/feedback", json={"label": "ham", "reporter": "mod1"})
    storage = client.app.state.moderation.storage
    stored = storage.list_feedback()
    assert len(stored) == 1
    assert stored[0].check_id == check["id"]
    assert stored[0].reporter == "mod1"
    assert stored[0].source.value == "api"


def test_feedback_errors(client: TestClient) -> None:
    assert client.post("/v1/comments/unknown/feedback", json={"label": "ham"}).status_code == 404
    check = client.post("/v1/comments/check", json=BORDERLINE).json()
    response = client.post(f"/v1/comments/{check['id']}/feedback", json={"label": "maybe"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "label"
