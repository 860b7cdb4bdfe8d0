"""The README's Configuration table against ``Settings``: every variable, every default.

The table is what operators read; a setting added, renamed or given a new default in the code
without the table (or the reverse) fails here instead of misleading them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from service.settings import Settings
from training.data import DEFAULT_DATASETS_DIR, REPO_ROOT

README = Path(__file__).resolve().parents[2] / "README.md"

# Read by the training code, not by the service's Settings; checked against its own default.
TRAINING_VARIABLES = {"SLUICE_DATASETS_DIR"}


def configuration_table() -> dict[str, str]:
    """``{variable: default cell}`` for every row of the table under "## Configuration"."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`SLUICE_"):
            continue
        variable = re.match(r"`(SLUICE_[A-Z_]+)`", cells[0])
        assert variable, f"cannot read the variable in {cells[0]!r}"
        rows[variable.group(1)] = cells[1]
    return rows


def documented_default(cell: str) -> str | None:
    """The first code span of a default cell; ``None`` for prose such as "unset"."""
    code = re.search(r"`([^`]*)`", cell)
    return code.group(1) if code else None


def field_default(name: str) -> Any:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    assert field.default is not PydanticUndefined, f"{name} has no default"
    return field.default


def matches(documented: str | None, default: Any) -> bool:
    if default is None:
        return documented is None
    if documented is None:
        return False
    if isinstance(default, bool):
        return documented == str(default).lower()
    if isinstance(default, int | float):
        return float(documented) == float(default)
    if isinstance(default, list):
        return json.loads(documented) == default
    return documented == str(default)


def test_every_setting_is_in_the_table_and_every_row_is_a_setting() -> None:
    documented = set(configuration_table()) - TRAINING_VARIABLES
    settings = {f"SLUICE_{name.upper()}" for name in Settings.model_fields}
    assert documented - settings == set(), "in the README but not in Settings"
    assert settings - documented == set(), "in Settings but not in the README"


def test_the_documented_defaults_are_the_settings_defaults() -> None:
    wrong = {}
    for variable, cell in configuration_table().items():
        if variable in TRAINING_VARIABLES:
            continue
        name = variable.removeprefix("SLUICE_").lower()
        default = field_default(name)
        if not matches(documented_default(cell), default):
            wrong[variable] = (cell, default)
    assert wrong == {}


def test_the_datasets_directory_default_is_documented() -> None:
    cell = configuration_table()["SLUICE_DATASETS_DIR"]
    documented = documented_default(cell)
    assert documented is not None
    assert (REPO_ROOT / documented).resolve() == DEFAULT_DATASETS_DIR.resolve()


def test_the_checker_catches_a_wrong_default() -> None:
    assert not matches("5", 10.0)
    assert not matches("true", False)
    assert not matches(None, "INFO")
    assert not matches("`x`", None)
    assert matches("1000000", 1_000_000)
    assert matches("[]", [])
