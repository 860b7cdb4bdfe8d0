"""The dashboard in real headless Chromium (Debian's ``chromium`` and ``chromium-driver``).

The app runs under uvicorn on a free 127.0.0.1 port against a temporary SQLite database and
a temporary registry of two model versions; Selenium drives ``/usr/bin/chromium`` through
``/usr/bin/chromedriver`` (never Selenium Manager, never a downloaded browser). When the
browser is missing these tests fail rather than skip. A failing test leaves a screenshot
and the page's HTML in ``SLUICE_TEST_ARTIFACTS`` (default ``tmp/artifacts``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from dashboard_support import PASSWORD, copy_registry, record
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from service.app import create_app
from service.scoring import Scorer
from service.settings import Settings
from service.storage import Site, Storage
from service.storage.accounts import Accounts
from training import artifacts

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ARTIFACTS = Path(os.environ.get("SLUICE_TEST_ARTIFACTS", "tmp/artifacts"))
WAIT = 10


@dataclass
class Live:
    url: str
    app: FastAPI
    storage: Storage
    site: Site
    models_dir: Path
    current: str
    newer: str
    spam_check: str


def _seed(storage: Storage) -> tuple[Site, str]:
    site = storage.create_site(url="https://blog.example", name="Example blog")
    Accounts(storage.engine).create_user(username="ada", password=PASSWORD)
    now = datetime.now(UTC)
    for day in range(7):
        for n in range(day + 2):
            storage.record_check(
                site_id=site.id,
                fields={"content": f"comment {day}-{n}"},
                score=0.1,
                verdict=("ham", "ham", "spam", "unsure")[n % 4],
                model_version="seed",
                at=now - timedelta(days=day, minutes=5),
            )
    spam = record(
        storage,
        site,
        "Such a helpful article, my grandmother loved the lake photos!",
        "spam",
        author="Grace Hopper",
    )
    return site, spam


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, scorer: Scorer
) -> Iterator[Live]:
    """The app under uvicorn on a free port, in a thread."""
    root = tmp_path_factory.mktemp("browser")
    current, newer = copy_registry(models_dir, root / "registry")
    settings = Settings(
        models_dir=root / "registry",
        data_dir=root / "data",
        database_url=None,
        migrate_on_start=True,
        secret_key="browser-test-secret",
        admin_token="browser-test-admin",
        model_reload_seconds=0,
    )
    app = create_app(settings)
    app.state.models.scorer = scorer  # already the registry's current version
    storage: Storage = app.state.moderation.storage
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    site, spam = _seed(storage)
    url = f"http://127.0.0.1:{port}"
    for _ in range(5):  # some API traffic for the latency chart
        httpx.get(f"{url}/health", timeout=5)
    try:
        yield Live(url, app, storage, site, root / "registry", current, newer, spam)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's browser with "
            "'apt-get install -y chromium chromium-driver' (these tests never download one)"
        )
    profile = tempfile.mkdtemp(prefix="sluice-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, driver: WebDriver) -> Iterator[None]:
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT)


def sign_in(driver: WebDriver, live: Live, path: str = "/dashboard/") -> None:
    driver.get(live.url + path)
    if "/dashboard/login" not in driver.current_url:
        return
    driver.find_element(By.ID, "username").send_keys("ada")
    password = driver.find_element(By.ID, "password")
    password.send_keys(PASSWORD)
    password.send_keys(Keys.ENTER)
    wait(driver).until(lambda d: "/dashboard/login" not in d.current_url)


def severe_console_messages(driver: WebDriver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_sign_in_and_see_the_week_in_charts(driver: WebDriver, live: Live) -> None:
    driver.get(live.url + "/dashboard/")
    assert "/dashboard/login" in driver.current_url
    sign_in(driver, live)
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Overview"))
    checks = driver.find_elements(By.CSS_SELECTOR, "svg#chart-checks rect.bar[data-value]")
    assert sum(float(b.get_attribute("data-value")) for b in checks) >= 35
    assert all(b.size["height"] > 0 and b.size["width"] > 0 for b in checks)  # really drawn
    shares = driver.find_elements(By.CSS_SELECTOR, "svg#chart-verdicts rect.bar")
    assert {b.get_attribute("data-series") for b in shares} >= {"ham", "spam", "unsure"}
    fill = driver.execute_script(
        "return getComputedStyle(arguments[0]).fill", shares[0]
    )  # colours come from the stylesheet: the CSS loaded under the CSP
    assert fill not in ("", "none", "rgb(0, 0, 0)")
    assert driver.find_elements(By.CSS_SELECTOR, "svg#chart-latency circle.point")
    assert live.current in driver.find_element(By.CSS_SELECTOR, "#model-h + p").text
    assert severe_console_messages(driver) == []


def test_mark_a_queued_comment_not_spam(driver: WebDriver, live: Live) -> None:
    sign_in(driver, live, f"/dashboard/queue?site={live.site.id}")
    item = driver.find_element(By.ID, f"check-{live.spam_check}")
    assert "grandmother" in item.text
    driver.execute_script("window.stillTheSamePage = true")
    item.find_element(By.CSS_SELECTOR, "button.ham").click()
    wait(driver).until(
        lambda d: (
            d.find_element(By.ID, f"check-{live.spam_check}").get_attribute("data-feedback")
            == "ham"
        )
    )
    assert driver.execute_script("return window.stillTheSamePage") is True  # no reload
    assert "Marked not spam" in driver.find_element(By.ID, f"check-{live.spam_check}").text
    stored = [f for f in live.storage.list_feedback() if f.check_id == live.spam_check]
    assert [(f.label.value, f.source.value, f.reporter) for f in stored] == [
        ("ham", "dashboard", "ada")
    ]
    driver.refresh()  # reviewed comments leave the default queue
    assert not driver.find_elements(By.ID, f"check-{live.spam_check}")
    assert severe_console_messages(driver) == []


def test_bulk_marks_the_selected_comments_spam(driver: WebDriver, live: Live) -> None:
    ids = [
        record(live.storage, live.site, f"held comment {i}", "unsure", author="Bulk Poster")
        for i in range(3)
    ]
    sign_in(driver, live, f"/dashboard/queue?site={live.site.id}&q=bulk+poster")
    driver.find_element(By.ID, "select-all").click()  # shown by the script only
    driver.find_element(By.CSS_SELECTOR, ".bulk button.spam").click()
    for check_id in ids:
        wait(driver).until(
            lambda d, i=check_id: (
                d.find_element(By.ID, f"check-{i}").get_attribute("data-feedback") == "spam"
            )
        )
    labels = {f.check_id: f.label.value for f in live.storage.list_feedback() if f.check_id in ids}
    assert labels == dict.fromkeys(ids, "spam")
    # The script fills the live region 50 ms after the rows (so screen readers announce it).
    wait(driver).until(lambda d: "3 comments marked spam" in d.find_element(By.ID, "live").text)


def test_create_and_revoke_a_key(driver: WebDriver, live: Live) -> None:
    sign_in(driver, live, f"/dashboard/sites/{live.site.id}")
    driver.find_element(By.ID, "create-key").click()
    key = wait(driver).until(ec.visibility_of_element_located((By.ID, "new-key"))).text.strip()
    match = live.storage.find_key(plaintext=key)
    assert match is not None and match.site.id == live.site.id
    row = driver.find_element(By.ID, f"key-{match.key.id}")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(driver).until(ec.alert_is_present()).accept()  # "Revoke key …?"
    wait(driver).until(
        lambda d: "revoked" in d.find_element(By.ID, f"key-{match.key.id}").get_attribute("class")
    )
    assert live.storage.find_key(plaintext=key) is None
    assert key not in driver.page_source  # shown once only


def test_promote_a_model(driver: WebDriver, live: Live) -> None:
    sign_in(driver, live, "/dashboard/models")
    assert artifacts.current_version(live.models_dir) == live.current
    row = driver.find_element(By.ID, f"version-{live.newer}")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(ec.alert_is_present()).accept()  # "Make … the current model?"
    wait(driver).until(ec.text_to_be_present_in_element((By.ID, "served-version"), live.newer))
    assert "is now current and served" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    assert artifacts.current_version(live.models_dir) == live.newer
    assert live.app.state.models.scorer.version == live.newer
    assert "current" in driver.find_element(By.ID, f"version-{live.newer}").get_attribute("class")


def test_keyboard_phone_and_200_percent_zoom(driver: WebDriver, live: Live) -> None:
    sign_in(driver, live, f"/dashboard/queue?site={live.site.id}&verdict=all&status=all")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.text == "Skip to main content" and focused.is_displayed()
    focused.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"
    # A phone, and a 1280-pixel window zoomed to 200% (640 CSS pixels wide).
    for width in (375, 640):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 800, "deviceScaleFactor": 2, "mobile": width < 500},
        )
        for path in (
            "/dashboard/",
            f"/dashboard/queue?site={live.site.id}&verdict=all&status=all",
            "/dashboard/models",
            f"/dashboard/models/{live.current}",
            f"/dashboard/sites/{live.site.id}",
            "/dashboard/try",
        ):
            driver.get(live.url + path)
            overflow = driver.execute_script(SIDEWAYS)
            assert not overflow, f"{path} scrolls sideways at {width}px: {overflow}"
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# The elements sticking out of the page when it is wider than the window (none is good).
SIDEWAYS = """
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth <= width + 1) { return []; }
const clipped = (el) => {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") { return true; }
  }
  return false;
};
return Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > width + 1 && !clipped(el))
  .slice(0, 5)
  .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`);
"""
