"""The PyPI ``akismet`` client (25.x), unmodified, against the server over a real socket.

It has no base-URL option (``https://rest.akismet.com`` is a module constant), so, as its
docs suggest for proxies, it gets an ``http_client=``: an ``httpx.Client`` whose transport
sends every request to 127.0.0.1:PORT instead. The ``Host`` header stays
``rest.akismet.com``, as with WordPress redirected by the mu-plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import akismet
import httpx
import pytest

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.slow

BLOG = "http://blog.example/"
HAM = {
    "comment_content": "Thanks for the detailed write-up. I tried the second approach with "
    "PostgreSQL 15 and the vacuum settings you suggested, and the bloat went away.",
    "comment_author": "Maria Keller",
    "comment_author_email": "maria.keller@gmail.com",
    "comment_type": "comment",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}
SPAM = {
    "comment_content": "Great post!!! Buy cheap v1agra and cialis online, no prescription: "
    "http://cheap-rx-pills.shop/order call +1 888 555 0199",
    "comment_author": "cheap viagra online",
    "comment_author_url": "http://cheap-rx-pills.shop/",
    "comment_author_email": "sales123@rx-pills.shop",
}


class ToLocalServer(httpx.BaseTransport):
    """Send every request to the local server, path and query unchanged."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seen: list[httpx.Request] = []
        self._transport = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


_open: list[httpx.Client] = []


def http_client(server: LiveServer) -> httpx.Client:
    # Keep the client's own 1 s default timeout: answers must come well within it.
    client = httpx.Client(
        transport=ToLocalServer(server.port),
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=1.0,
    )
    _open.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_http_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


@pytest.fixture(scope="module")
def key(live_server: LiveServer) -> str:
    return live_server.new_key("http://blog.example")


@pytest.fixture
def client(live_server: LiveServer, key: str) -> Iterator[akismet.SyncClient]:
    config = akismet.Config(key=key, url=BLOG)
    # As a context manager it verifies the key first and raises APIKeyError if not valid.
    with akismet.SyncClient(config=config, http_client=http_client(live_server)) as client:
        yield client


def test_verify_key(client: akismet.SyncClient) -> None:
    assert client.verify_key() is True


def test_comment_check_spam_ham_and_test_values(
    client: akismet.SyncClient, live_server: LiveServer, key: str
) -> None:
    before = live_server.storage.usage(key_id=live_server.key_id(key))
    guaranteed = client.comment_check("203.0.113.7", comment_author="akismet-guaranteed-spam")
    assert guaranteed in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
    assert client.comment_check("203.0.113.7", **SPAM) in (
        akismet.CheckResponse.SPAM,
        akismet.CheckResponse.DISCARD,
    )
    assert client.comment_check("203.0.113.8", **HAM) == akismet.CheckResponse.HAM
    admin = client.comment_check("203.0.113.9", user_role="administrator", **SPAM)
    assert admin == akismet.CheckResponse.HAM
    test_call = client.comment_check(
        "203.0.113.7", comment_author="akismet-guaranteed-spam", is_test=True
    )
    assert test_call == akismet.CheckResponse.SPAM
    # Four real calls counted, the is_test one not.
    assert live_server.storage.usage(key_id=live_server.key_id(key)) == before + 4


def test_comment_check_discard(live_server: LiveServer) -> None:
    key = live_server.new_key(
        "http://strict.example", cutoffs={"unsure": 0.1, "spam": 0.2, "discard": 0.5}
    )
    config = akismet.Config(key=key, url="http://strict.example/")
    with akismet.SyncClient(config=config, http_client=http_client(live_server)) as client:
        assert client.comment_check("203.0.113.7", **SPAM) == akismet.CheckResponse.DISCARD
        assert client.comment_check("203.0.113.8", **HAM) == akismet.CheckResponse.HAM


def test_submit_spam_and_ham_are_stored_and_linked(
    client: akismet.SyncClient, live_server: LiveServer, key: str
) -> None:
    storage = live_server.storage
    site = storage.find_key(plaintext=key).site
    missed = {**HAM, "comment_content": HAM["comment_content"] + " (really spam?)"}
    assert client.comment_check("198.51.100.4", **missed) == akismet.CheckResponse.HAM
    assert client.submit_spam("198.51.100.4", **missed) is True
    assert client.submit_ham("198.51.100.5", comment_content="Cheap pills", comment_author="Bo")
    feedback = storage.list_feedback(site_id=site.id)
    labels = [(f.label.value, f.source.value, f.content) for f in feedback[-2:]]
    assert labels == [
        ("spam", "akismet", missed["comment_content"]),
        ("ham", "akismet", "Cheap pills"),
    ]
    assert feedback[-2].check_id is not None  # linked to the check by content
    assert storage.site_stats(site_id=site.id).missed_spam >= 1


def test_usage_limit(client: akismet.SyncClient, live_server: LiveServer, key: str) -> None:
    usage = client.usage_limit()
    assert usage == {
        "limit": "none",
        "usage": live_server.storage.usage(key_id=live_server.key_id(key)),
        "percentage": "0.00",
        "throttled": False,
    }


def test_key_sites_needs_the_key_in_a_header(live_server: LiveServer, key: str) -> None:
    """akismet 25.10 ``key_sites()`` sends no ``api_key`` (a client bug): the server answers
    ``invalid``, which the client raises as ``APIKeyError``; giving the ``http_client`` an
    ``Authorization: Bearer KEY`` header makes it work."""
    config = akismet.Config(key=key, url=BLOG)
    plain = akismet.SyncClient(config=config, http_client=http_client(live_server))
    with pytest.raises(akismet.APIKeyError):
        plain.key_sites()
    with_header = http_client(live_server)
    with_header.headers["Authorization"] = f"Bearer {key}"
    sites = akismet.SyncClient(config=config, http_client=with_header).key_sites()
    (month,) = [k for k in sites if k not in ("limit", "offset", "total")]
    assert sites[month][0]["site"] == "blog.example"
    assert set(sites[month][0]) == {
        "site",
        "api_calls",
        "spam",
        "ham",
        "missed_spam",
        "false_positives",
        "is_revoked",
    }
    csv_text = akismet.SyncClient(config=config, http_client=with_header).key_sites(
        result_format="csv"
    )
    assert csv_text.startswith(f"Active sites for {key} during {month} (limit:500, offset: 0")


def test_bad_key(live_server: LiveServer) -> None:
    config = akismet.Config(key="0123456789ab", url=BLOG)
    client = akismet.SyncClient(config=config, http_client=http_client(live_server))
    assert client.verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        client.comment_check("203.0.113.7", **HAM)
    with pytest.raises(akismet.APIKeyError):
        client.submit_ham("203.0.113.7", **HAM)
    with pytest.raises(akismet.APIKeyError):
        client.usage_limit()
    with (
        pytest.raises(akismet.APIKeyError),
        akismet.SyncClient(config=config, http_client=http_client(live_server)),
    ):
        pass


def test_requests_really_went_out_as_rest_akismet_com(live_server: LiveServer, key: str) -> None:
    transport = ToLocalServer(live_server.port)
    config = akismet.Config(key=key, url=BLOG)
    with httpx.Client(transport=transport, headers={"User-Agent": akismet.USER_AGENT}) as http:
        akismet.SyncClient(config=config, http_client=http).comment_check(
            "203.0.113.7", comment_author="akismet-guaranteed-spam"
        )
    (request,) = transport.seen
    assert request.headers["host"] == "rest.akismet.com"
    assert request.url.path == "/1.1/comment-check"
