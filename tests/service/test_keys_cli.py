"""``python -m service sites|keys ...`` on a fresh data directory, as a site owner runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.__main__ import main
from service.storage import Storage

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env["SLUICE_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_keys_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    """The documented one-liner works on a fresh checkout: no database, no secret yet."""
    data_dir = tmp_path / "var"
    done = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--site", "https://blog.example"],
        cwd=ROOT,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    key = lines[-1]
    assert re.fullmatch(r"[0-9a-f]{12}", key), done.stdout
    assert len(lines) >= 2  # something human-readable comes first
    # The key works against the same data directory (same database, same secret).
    secret = (data_dir / "secret.key").read_text(encoding="utf-8").strip()
    with Storage(f"sqlite:///{data_dir / 'sluice.db'}", secret=secret) as storage:
        match = storage.find_key(plaintext=key)
        assert match is not None
        assert match.site.url == "https://blog.example"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("SLUICE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SLUICE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SLUICE_SECRET_KEY", "cli-test-secret")
    return tmp_path / "var"


def _storage(data_dir: Path) -> Storage:
    return Storage(f"sqlite:///{data_dir / 'sluice.db'}", secret="cli-test-secret")


def test_sites_and_keys_commands(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "create", "--url", "https://Blog.Example/", "--name", "Blog"]) == 0
    assert "https://blog.example" in capsys.readouterr().out
    assert main(["keys", "create", "--site", "https://blog.example"]) == 0
    out = capsys.readouterr().out
    key = out.splitlines()[-1]
    assert "created site" not in out  # the site already existed
    assert main(["keys", "create", "--site", "https://other.example"]) == 0
    other = capsys.readouterr().out
    assert "created site" in other
    assert main(["keys", "list", "--site", "https://blog.example"]) == 0
    listing = capsys.readouterr().out
    assert f"...{key[-4:]}" in listing and "active" in listing and key not in listing
    assert main(["sites", "set", "--url", "https://blog.example", "cutoffs=0.3,0.6,0.9"]) == 0
    assert main(["sites", "set", "--url", "https://blog.example", "unsure_is_spam=true"]) == 0
    assert main(["sites", "set", "--url", "https://blog.example", "retention_days=30"]) == 0
    capsys.readouterr()
    with _storage(cli_env) as storage:
        settings = storage.get_site_by_url("https://blog.example").settings
        assert dict(settings.cutoffs) == {"unsure": 0.3, "spam": 0.6, "discard": 0.9}
        assert settings.unsure_is_spam is True and settings.retention_days == 30
    assert main(["sites", "list"]) == 0
    assert "other.example" in capsys.readouterr().out
    assert main(["keys", "revoke", key]) == 0
    assert "revoked" in capsys.readouterr().out
    with _storage(cli_env) as storage:
        assert storage.find_key(plaintext=key) is None
    assert main(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["sites", "set", "--url", "https://blog.example", "bogus=1"],
        ["sites", "set", "--url", "https://blog.example", "retention_days=0"],
        ["sites", "set", "--url", "https://blog.example", "cutoffs=0.9,0.5"],
        ["sites", "set", "--url", "https://nowhere.example", "unsure_is_spam=true"],
        ["keys", "create", "--site", "ftp://blog.example"],
        ["keys", "revoke", "999"],
        ["keys", "revoke", "0123456789ab"],
    ],
)
def test_mistakes_are_one_line_errors(
    cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(["sites", "create", "--url", "https://blog.example"]) == 0
    capsys.readouterr()
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
