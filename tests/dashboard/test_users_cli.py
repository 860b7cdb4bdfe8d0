"""``python -m service users create|list|delete|password``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dashboard_support import PASSWORD

from service.__main__ import main
from service.app import open_storage
from service.settings import Settings
from service.storage.accounts import Accounts


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SLUICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SLUICE_SECRET_KEY", "test-secret")
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    return Settings()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str, *, tty: bool = False) -> None:
    stream = io.StringIO(text)
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", stream)


def test_create_list_delete(env: Settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "create", "--username", "alice", "--password-stdin"]) == 0
    assert "created admin 'alice'" in capsys.readouterr().out
    assert main(["sites", "create", "--url", "https://blog.example"]) == 0
    _stdin(monkeypatch, PASSWORD + "\n")
    assert (
        main(
            [
                "users",
                "create",
                "--username",
                "bob",
                "--role",
                "moderator",
                "--site",
                "https://blog.example",
                "--password-stdin",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "alice\tadmin\tall sites\tlast sign-in never" in listing
    assert "bob\tmoderator\thttps://blog.example" in listing
    with open_storage(env) as storage:
        accounts = Accounts(storage.engine)
        assert accounts.authenticate(username="alice", password=PASSWORD) is not None
    assert main(["users", "delete", "--username", "bob"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert "bob" not in capsys.readouterr().out


def test_password_is_asked_twice_at_a_terminal(env: Settings, monkeypatch, capsys) -> None:
    _stdin(monkeypatch, "", tty=True)
    answers = iter([PASSWORD, PASSWORD, "new password 123", "new password 123"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "--username", "carol"]) == 0
    assert main(["users", "password", "--username", "carol"]) == 0
    with open_storage(env) as storage:
        accounts = Accounts(storage.engine)
        assert accounts.authenticate(username="carol", password="new password 123") is not None


def test_refusals(env: Settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _stdin(monkeypatch, "")
    assert main(["users", "create", "--username", "dave"]) == 1
    assert "--password-stdin" in capsys.readouterr().err
    _stdin(monkeypatch, "short\n")
    assert main(["users", "create", "--username", "dave", "--password-stdin"]) == 1
    assert "password must be" in capsys.readouterr().err
    assert main(["users", "create", "--username", "erin", "--role", "moderator"]) == 1
    assert "needs at least one --site" in capsys.readouterr().err
    _stdin(monkeypatch, PASSWORD + "\n")
    args = ["users", "create", "--username", "erin", "--role", "moderator", "--password-stdin"]
    assert main([*args, "--site", "https://unknown.example"]) == 1
    assert "no site with url" in capsys.readouterr().err
    _stdin(monkeypatch, "mismatch one\n")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["first password!", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "--username", "frank"]) == 1
    assert "differ" in capsys.readouterr().err
    assert main(["users", "delete", "--username", "nobody"]) == 1
