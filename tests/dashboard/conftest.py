"""Dashboard fixtures: a fresh app per test on each database backend, sharing one loaded model.

Loading the model is the slow part of starting the app, so the session's ``Scorer`` is put
into each new app before its lifespan starts (the lifespan then finds it already serving
the current version). Password hashing is made cheap here; one test checks the real cost.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from dashboard_support import PASSWORD, Dash, World
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.app import create_app
from service.scoring import Scorer
from service.settings import Settings
from service.storage import Storage
from service.storage import accounts as accounts_module
from service.storage.accounts import Accounts, Role
from training import artifacts


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_module, "SCRYPT_N", 2**10)


@pytest.fixture(scope="session")
def scorer(default_model: artifacts.LoadedModel) -> Scorer:
    return Scorer(default_model)


@pytest.fixture
def app(settings: Settings, scorer: Scorer) -> FastAPI:
    application = create_app(settings)
    application.state.models.scorer = scorer
    return application


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    """A client that has not signed in; it runs the app's lifespan."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def world(web: TestClient, app: FastAPI) -> World:
    storage: Storage = app.state.moderation.storage
    accounts = Accounts(storage.engine)
    site = storage.create_site(url="https://blog.example", name="Example blog")
    other = storage.create_site(url="https://shop.example", name="Other shop")
    admin = accounts.create_user(username="ada", password=PASSWORD)
    moderator = accounts.create_user(
        username="mo", password=PASSWORD, role=Role.MODERATOR, site_ids=[site.id]
    )
    return World(app, storage, accounts, site, other, admin, moderator)


@pytest.fixture
def admin(world: World) -> Dash:
    return world.client(world.admin)


@pytest.fixture
def moderator(world: World) -> Dash:
    return world.client(world.moderator)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
