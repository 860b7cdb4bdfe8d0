"""Schemathesis against the service's own OpenAPI schema, in-process over ASGI.

Every operation of the JSON, admin, health and Akismet APIs gets generated requests that fit
the schema and requests that break it; every answer must be a documented status with a body
that matches the schema, and never a server error. The dashboard (HTML forms behind a
session) is left out.

Operations are walked in a loop rather than with ``schema.parametrize()``, whose lazy
fixture loader does not work with this pytest; a failure names its operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.formats import unregister_string_format

from service.api.schemas import CONTENT_FORMAT, IP_FORMAT
from service.app import create_app
from tests.hardening.conftest import hardening_settings

ADMIN_TOKEN = "hardening-admin-token"
# Examples per operation: bounded so the run stays short on a small CI machine. A batch of
# comments is slow to generate, and the Akismet endpoints are many (GET and POST) and simple.
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}
FEWER = {"POST /v1/comments/check-batch": 4}
EXAMPLES_AKISMET = 5
# Valid field by field, yet refused as a whole (cut-offs out of order): a 422 is right there.
CROSS_FIELD_RULES = {"POST /admin/sites", "PATCH /admin/sites/{site_id}/settings"}

# The Akismet routes answer GET and POST with one function, so both share an operation id.
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate Operation ID:UserWarning")


@pytest.fixture(scope="module")
def api_schema(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    # Rate limits are off: they are tested on their own and would only turn answers into 429s.
    app = create_app(
        hardening_settings(
            models_dir,
            tmp_path_factory.mktemp("schemathesis"),
            rate_limit_key_per_minute=0,
            rate_limit_ip_per_minute=0,
        )
    )
    storage = app.state.moderation.storage
    key = storage.create_key(site_id=storage.create_site(url="https://blog.example").id)[1]
    return schemathesis.openapi.from_asgi("/openapi.json", app).exclude(tag="dashboard"), key


# The schema says "date-time" and its description bounds the year; generate dates in range.
PLAUSIBLE_DATES = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.just(UTC)
).map(datetime.isoformat)


# Comment text: not only white space, no NUL (the schema says so in words).
COMMENT_TEXT = st.text(st.characters(exclude_characters="\x00"), min_size=1).filter(
    lambda text: not text.isspace()
)


IP_ADDRESSES = st.one_of(st.just(""), st.ip_addresses().map(str))


@pytest.fixture(scope="module", autouse=True)
def _formats() -> Iterator[None]:
    schemathesis.openapi.format("date-time", PLAUSIBLE_DATES)
    schemathesis.openapi.format(CONTENT_FORMAT, COMMENT_TEXT)
    schemathesis.openapi.format(IP_FORMAT, IP_ADDRESSES)
    yield
    unregister_string_format(IP_FORMAT)
    unregister_string_format("date-time")
    unregister_string_format(CONTENT_FORMAT)


def _exercise(operation: Any, mode: GenerationMode, key: str) -> None:
    akismet = "akismet" in (operation.tags or [])
    token = ADMIN_TOKEN if operation.path.startswith("/admin") else key
    headers = {"Authorization": f"Bearer {token}"}
    # Akismet answers are text for existing clients, not JSON the schema could describe.
    checks: dict[str, Any] = {"checks": [not_a_server_error]} if akismet else {}
    if operation.label in CROSS_FIELD_RULES:
        checks["excluded_checks"] = [positive_data_acceptance]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_AKISMET if akismet else FEWER.get(operation.label, EXAMPLES[mode]),
        phases=[Phase.explicit, Phase.generate],  # report the failing example as found
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, **checks)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(
    api_schema: tuple[Any, str], mode: GenerationMode
) -> None:
    schema, key = api_schema
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _exercise(operation, mode, key)
        except Unsatisfiable:  # nothing to get wrong: no parameters, no body
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # collect all, so one run shows every operation that fails
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
