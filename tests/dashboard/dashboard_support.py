"""Helpers for the dashboard tests (imported by name: test directories are not packages)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.storage import Site, Storage
from service.storage.accounts import Accounts, DashboardUser
from training import artifacts

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class Dash:
    """A signed-in browser stand-in: ``post`` adds the session's CSRF token to every form."""

    def __init__(self, client: TestClient, csrf: str, user: DashboardUser) -> None:
        self.client = client
        self.csrf = csrf
        self.user = user

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, **kwargs)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/dashboard/login")
    return client.post(
        "/dashboard/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )


@dataclass
class World:
    """Two sites, an admin, and a moderator of the first site only."""

    app: FastAPI
    storage: Storage
    accounts: Accounts
    site: Site
    other: Site
    admin: DashboardUser
    moderator: DashboardUser

    def client(self, user: DashboardUser) -> Dash:
        client = TestClient(self.app)
        assert sign_in(client, user.username).status_code == 303
        return Dash(client, csrf_of(client.get("/dashboard/").text), user)


def record(
    storage: Storage,
    site: Site,
    content: str,
    verdict: str,
    *,
    score: float = 0.5,
    author: str = "Someone",
    reasons: list[dict[str, Any]] | None = None,
) -> str:
    """Store a check as the API would have, with made-up reasons; returns its id."""
    check = storage.record_check(
        site_id=site.id,
        fields={"content": content, "author_name": author, "author_email": "a@example.org"},
        score=score,
        verdict=verdict,
        model_version="test",
        reasons=reasons
        if reasons is not None
        else [{"feature": "words__casino", "label": "word “casino”", "weight": 2.0}],
    )
    return check.id


def copy_registry(source: Path, target: Path) -> tuple[str, str]:
    """A registry with ``source``'s current model under its own name (current) and a copy
    of it under a later name whose card says so; returns ``(current, newer)``."""
    current = artifacts.current_version(source)
    assert current
    newer = f"{current}-b"
    target.mkdir(parents=True)
    shutil.copytree(source / current, target / current)
    shutil.copytree(source / current, target / newer)
    card_path = target / newer / artifacts.CARD_FILE
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["version"] = newer
    card_path.write_text(json.dumps(card), encoding="utf-8")
    artifacts.set_current(target, current)
    return current, newer
