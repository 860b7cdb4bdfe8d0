"""Load and abuse: rate limits per key and per IP (in memory, and shared through the real Redis
on 127.0.0.1:6379, which must be up: these tests fail rather than skip without it), and flood
detection of near-duplicate comments."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import akismet
import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from service.app import create_app
from service.flood import FloodDetector
from service.ratelimit import MemoryCounter, RedisCounter
from tests.hardening.conftest import hardening_settings

REDIS_URL = "redis://127.0.0.1:6379/0"
SPAM = (
    "Great article! I learned so much reading it. Visit my site for cheap replica watches "
    "http://watch-deals.shop/best and get 50% off today"
)
REWORDED = [
    "Great post!! I learned so much reading it. Visit my site for cheap replica watches "
    "http://watch-deals.shop/best and get 50% off today",
    "great article, i learned so much reading it - visit my site for cheap replica watches "
    "http://watch-deals.top/offer and get 60% off today",
    "Great article! I learned so much reading this. Visit my website for cheap replica watches "
    "http://watch-deals.shop/best and get 50% off today!!",
]


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # Redis must be up: .ci/run starts it
    yield client
    client.close()


def _app(models_dir: Path, data_dir: Path, **changes: object) -> TestClient:
    return TestClient(create_app(hardening_settings(models_dir, data_dir, **changes)))


def _new_key(client: TestClient, name: str) -> str:
    storage = client.app.state.moderation.storage
    site = storage.create_site(url=f"https://{name}-{uuid.uuid4().hex[:8]}.example")
    return storage.create_key(site_id=site.id)[1]


def test_rate_limits_per_key_and_per_ip(models_dir: Path, tmp_path: Path) -> None:
    with _app(
        models_dir, tmp_path, rate_limit_key_per_minute=3, rate_limit_ip_per_minute=5
    ) as client:
        first, second = _new_key(client, "a"), _new_key(client, "b")
        one = {"Authorization": f"Bearer {first}"}
        for _ in range(3):
            assert client.get("/v1/model", headers=one).status_code == 200
        refused = client.get("/v1/model", headers=one)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["error"] == "rate_limited"
        assert "API key" in refused.json()["message"]
        assert client.get("/v1/model", headers={"Authorization": f"Bearer {second}"}).is_success
        by_ip = client.get("/v1/model", headers={"Authorization": f"Bearer {second}"})
        assert by_ip.status_code == 429  # the sixth request from this IP
        assert "IP address" in by_ip.json()["message"]
        assert client.get("/healthz").status_code == 200  # health checks are never limited
        refusals = client.app.state.metrics.scraped_registry().get_sample_value
        assert refusals("sluice_rate_limited_total", {"scope": "key"}) == 1
        assert refusals("sluice_rate_limited_total", {"scope": "ip"}) == 1


def test_akismet_key_in_the_form_body_is_limited(models_dir: Path, tmp_path: Path) -> None:
    with _app(
        models_dir, tmp_path, rate_limit_key_per_minute=2, rate_limit_ip_per_minute=100
    ) as client:
        key = _new_key(client, "akismet")
        form = {"api_key": key, "blog": "https://blog.example", "comment_content": "Nice post"}
        answers = [client.post("/1.1/comment-check", data=form) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[0].text in ("true", "false")  # the buffered body still reached the route
        refused = answers[2]
        # Akismet's protocol, not JSON: a failed call for every client (never "invalid", which
        # they read as a bad key), held for moderation by WordPress, Retry-After kept.
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["content-type"] == "text/plain; charset=utf-8"
        assert refused.text.startswith("Rate limited: too many requests for this API key")
        assert refused.text not in ("true", "false", "invalid")
        assert refused.headers["x-akismet-error"] == "rate limited"
        assert "at most 2 per 60 seconds" in refused.headers["x-akismet-debug-help"]


def test_akismet_clients_see_a_rate_limit_as_a_failed_call_not_a_bad_key(
    models_dir: Path, tmp_path: Path
) -> None:
    """The PyPI ``akismet`` client, as a site runs it, against the limited service."""
    with _app(
        models_dir, tmp_path, rate_limit_key_per_minute=100, rate_limit_ip_per_minute=2
    ) as app:
        key = _new_key(app, "client")

        def to_app(request: httpx.Request) -> httpx.Response:
            answer = app.request(
                request.method,
                request.url.raw_path.decode(),
                content=request.content,
                headers={"content-type": request.headers.get("content-type", "")},
            )
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )

        config = akismet.Config(key=key, url="https://blog.example")
        transport = httpx.MockTransport(to_app)
        with (
            httpx.Client(transport=transport) as http,
            akismet.SyncClient(config=config, http_client=http) as client,
        ):  # verify-key: the first request from this IP
            assert client.comment_check("192.0.2.1", comment_content="Nice post") in (
                akismet.CheckResponse.HAM,
                akismet.CheckResponse.SPAM,
            )
            with pytest.raises(akismet.RequestError):  # not APIKeyError: the key is fine
                client.comment_check("192.0.2.1", comment_content="Nice post")


def test_memory_counter_windows() -> None:
    now = [1000.0]
    counter = MemoryCounter(clock=lambda: now[0])

    async def hits(n: int) -> list[bool]:
        return [(await counter.hit("k", 2, 60)).allowed for _ in range(n)]

    assert asyncio.run(hits(3)) == [True, True, False]
    now[0] = 1020.0  # the window (960..1020) is over
    assert asyncio.run(hits(1)) == [True]


def test_rate_limits_are_shared_through_redis(
    redis_client: redis.Redis, models_dir: Path, tmp_path: Path
) -> None:
    name = f"test:{uuid.uuid4().hex}"

    async def scenario() -> list[bool]:
        one, two = RedisCounter(REDIS_URL), RedisCounter(REDIS_URL)  # two workers
        try:
            results = []
            for counter in (one, two, one, two):
                results.append((await counter.hit(name, 3, 60)).allowed)
            return results
        finally:
            await one.close()
            await two.close()

    assert asyncio.run(scenario()) == [True, True, True, False]
    assert any(k.startswith(f"sluice:rate:{name}".encode()) for k in redis_client.keys("sluice:*"))

    settings = {"rate_limit_key_per_minute": 2, "rate_limit_ip_per_minute": 100}
    with (
        _app(models_dir, tmp_path / "a", redis_url=REDIS_URL, **settings) as first,
        _app(models_dir, tmp_path / "b", redis_url=REDIS_URL, **settings) as second,
    ):
        key = f"{uuid.uuid4().hex[:12]}"  # unknown key: still counted (401s), across apps
        headers = {"Authorization": f"Bearer {key}"}
        codes = [app.get("/v1/model", headers=headers).status_code for app in (first, second)]
        codes.append(first.get("/v1/model", headers=headers).status_code)
        assert codes == [401, 401, 429]


@pytest.fixture(scope="module")
def flood_client(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = hardening_settings(
        models_dir,
        tmp_path_factory.mktemp("flood"),
        flood_threshold=3,
        rate_limit_key_per_minute=0,
        rate_limit_ip_per_minute=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_near_duplicates_from_one_site_are_a_flood(flood_client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_new_key(flood_client, 'flood')}"}
    answers = [
        flood_client.post("/v1/comments/check", json={"content": text}, headers=headers).json()
        for text in [SPAM, *REWORDED]
    ]
    floods = [[r for r in a["reasons"] if r["feature"] == "flood__site"] for a in answers]
    assert not floods[0] and not floods[1]
    assert floods[3], answers[3]["reasons"]
    assert "posted" in floods[3][0]["label"] and floods[3][0]["weight"] > 0
    assert answers[3]["score"] > answers[0]["score"]

    other = {"Authorization": f"Bearer {_new_key(flood_client, 'quiet')}"}
    elsewhere = flood_client.post("/v1/comments/check", json={"content": SPAM}, headers=other)
    assert not [r for r in elsewhere.json()["reasons"] if r["feature"].startswith("flood")]


def test_same_ip_across_sites_is_a_flood_and_batches_do_not_count(
    flood_client: TestClient,
) -> None:
    text = f"{SPAM} {uuid.uuid4().hex}"
    ip = "93.184.216.34"  # a public address: private ones are not counted
    batch = {"comments": [{"content": text, "user_ip": ip}] * 5}
    headers = {"Authorization": f"Bearer {_new_key(flood_client, 'batch')}"}
    results = flood_client.post("/v1/comments/check-batch", json=batch, headers=headers).json()
    assert not any(
        r["feature"].startswith("flood") for x in results["results"] for r in x["reasons"]
    )
    answers = []
    for n in range(3):
        headers = {"Authorization": f"Bearer {_new_key(flood_client, f'site{n}')}"}
        body = {"content": text, "user_ip": ip}
        answers.append(flood_client.post("/v1/comments/check", json=body, headers=headers).json())
    assert [r["feature"] for r in answers[2]["reasons"] if r["feature"].startswith("flood")] == [
        "flood__ip"
    ]


def test_rechecking_the_same_comment_counts_once() -> None:
    detector = FloodDetector(threshold=2, window=600)
    comment = {"content": SPAM, "created_at": "2026-01-01T10:00:00+00:00"}
    assert detector.observe(1, comment) is None
    assert detector.observe(1, comment) is None  # the same comment, checked again
    assert detector.observe(1, {**comment, "created_at": "2026-01-01T10:05:00+00:00"}) is not None
    assert detector.observe(1, {"content": "Thanks!"}) is None  # too short to count


def test_memory_flood_counts_are_bounded_and_keep_the_newest() -> None:
    detector = FloodDetector(threshold=3, window=600)
    detector._memory.max_bands = 600  # room for the bands of 100 distinct comments
    for _ in range(1000):  # unrelated texts, as an attacker varying every comment would send
        detector.observe(1, {"content": " ".join(uuid.uuid4().hex[:6] for _ in range(8))})
    assert len(detector._memory) == 600
    counts = [detector.observe(1, {"content": SPAM}) for _ in range(3)]
    assert counts[:2] == [None, None] and counts[2] is not None and counts[2].count == 3


def test_flood_counts_are_shared_through_redis(redis_client: redis.Redis) -> None:
    text = f"{SPAM} {uuid.uuid4().hex}"
    site = int(uuid.uuid4().int % 1_000_000_000)
    one = FloodDetector(threshold=3, window=60, redis_url=REDIS_URL)
    two = FloodDetector(threshold=3, window=60, redis_url=REDIS_URL)
    assert one.observe(site, {"content": text}) is None
    assert two.observe(site, {"content": text}) is None
    evidence = one.observe(site, {"content": text})
    one.close()
    two.close()
    assert evidence is not None and evidence.count == 3 and evidence.scope == "site"
    assert redis_client.keys(f"sluice:flood:site:{site}:*")
