"""The dependency audit's policy (``.ci/audit_dependencies.py``, run by ``make audit``): a
reported vulnerability always fails, an accepted one is named with its reason, and pins that
could not be audited are reported as such, never counted as clean."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _report(*dependencies: dict) -> dict:
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_reported_vulnerability_fails_the_audit(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vulnerable = {
        "name": "jinja2",
        "version": "3.1.2",
        "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}],
    }
    report = _report({"name": "alembic", "version": "1.20.1", "vulns": []}, vulnerable)
    monkeypatch.setattr(audit, "run_pip_audit", lambda: audit.read_report(report))
    assert audit.main() == 1
    assert "jinja2==3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in capsys.readouterr().out


def test_an_ignored_vulnerability_needs_its_id_listed(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _report({"name": "a", "version": "1", "vulns": [{"id": "PYSEC-1", "aliases": []}]})
    assert audit.read_report(report).vulnerable == ["a==1: PYSEC-1 (fixed in no fixed version)"]
    monkeypatch.setitem(audit.IGNORED, "PYSEC-1", "only reachable through a feature we do not use")
    assert audit.read_report(report).vulnerable == []


def test_pins_that_could_not_be_audited_are_reported_not_passed_as_clean(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    skipped = {"name": "numpy", "skip_reason": "Dependency not found on PyPI"}
    report = _report({"name": "alembic", "version": "1.20.1", "vulns": []}, skipped)
    monkeypatch.setattr(audit, "run_pip_audit", lambda: audit.read_report(report))
    monkeypatch.delenv("SLUICE_AUDIT_REQUIRED", raising=False)
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "NOT AUDITED (1 pins audited" in out
    assert "numpy: Dependency not found on PyPI" in out
    monkeypatch.setenv("SLUICE_AUDIT_REQUIRED", "1")
    assert audit.main() == 2


def test_an_unreachable_service_is_retried_then_reported(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = [
        audit.Outcome(not_audited=["every pin: unreachable"], unreachable=True),
        audit.Outcome(audited=53),
    ]
    monkeypatch.setattr(audit, "run_pip_audit", lambda: answers.pop(0))
    monkeypatch.setattr(audit.time, "sleep", lambda seconds: None)
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "retrying" in out
    assert "53 locked dependencies audited, no known vulnerability" in out
    assert answers == []
