"""The npm ``akismet-api`` client (6.x), unmodified, run by Node against the live server.

``node/run-akismet-api.js`` makes the calls and prints their outcomes as JSON; this test
checks them and what the server stored. The client sends the key only in the host name
(``KEY.localhost:PORT``), so this also proves the key-in-Host path. Install the client
first with ``npm ci --prefix tests/clients/node`` (``make test`` does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "run-akismet-api.js"
THANKS = "Thanks for making the web a better place."


def run_client(server: LiveServer, key: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for this test: install node (>= 18)")
    if not (NODE_DIR / "node_modules" / "akismet-api").is_dir():
        pytest.fail(
            "the npm akismet-api client is not installed: run "
            "`npm ci --prefix tests/clients/node` (make test does it)"
        )
    env = {
        **os.environ,
        "SLUICE_PORT": str(server.port),
        "SLUICE_KEY": key,
        "SLUICE_BAD_KEY": "0123456789ab",
        "SLUICE_BLOG": "http://node-blog.example/",
    }
    done = subprocess.run(
        [node, str(SCRIPT)],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def test_akismet_api_client(live_server: LiveServer) -> None:
    key = live_server.new_key("http://node-blog.example")
    storage = live_server.storage
    site = storage.find_key(plaintext=key).site
    before = storage.usage(key_id=live_server.key_id(key))

    results = run_client(live_server, key)

    assert results["verifyKey"] == {"ok": True}
    assert results["checkGuaranteedSpam"] == {"ok": True}
    assert results["checkSpam"] == {"ok": True}
    assert results["checkHam"] == {"ok": False}
    assert results["checkAdministrator"] == {"ok": False}
    assert results["checkTest"] == {"ok": True}
    assert results["checkHoneypot"]["ok"] in (True, False)
    assert results["submitSpam"] == {"ok": {"status": 200, "text": THANKS}}
    assert results["submitHam"] == {"ok": {"status": 200, "text": THANKS}}
    assert results["badVerifyKey"] == {"ok": False}
    assert results["badCheckSpam"] == {"error": "Invalid API key"}
    assert results["badSubmitHam"] == {"ok": {"status": 200, "text": "invalid"}}

    # What the server stored: 5 real checks counted, the isTest one not.
    assert storage.usage(key_id=live_server.key_id(key)) == before + 5
    checks = storage.list_checks(site_id=site.id, limit=20)
    assert len(checks) == 6
    assert sum(c.is_test for c in checks) == 1
    honeypot = [c for c in checks if (c.content or "").endswith("(honeypot)")]
    assert honeypot and honeypot[0].fields["honeypot"] == "filled by a bot"
    assert all(c.fields.get("user_ip_hash") for c in checks)  # ip sent, stored hashed
    feedback = storage.list_feedback(site_id=site.id)
    assert [(f.label.value, f.source.value) for f in feedback] == [
        ("spam", "akismet"),
        ("ham", "akismet"),
    ]
    assert feedback[0].content.endswith("(reported)")
    assert feedback[1].check_id is not None  # submitHam linked to the spam check by content
