"""The README's settings table and ``.env.example`` document exactly the declared settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from omnibot.settings import Settings, declared

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
LITERALS = re.compile(r"`[^`]+`(?:, `[^`]+`)*")  # a default cell that states values
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
NO_DEFAULT = "—"  # the README's dash: unset
# defaults the README describes in words, as their literal would be long or a vendor's URL
IN_WORDS = {
    "ORDERS_PATH",
    "SMS_ALLOWED_COUNTRIES",
    "SMS_HELP_TEXT",
    "SLACK_API_URL",
    "TWILIO_API_URL",
}


def readme_rows() -> list[tuple[list[str], str]]:
    """(setting names, default cell) of each row of the README's "## Settings" table."""
    section = README.read_text(encoding="utf-8").split("\n## Settings\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 3:
            rows.append((NAME.findall(cells[0]), cells[1]))
    return rows


def same(stated: Any, default: Any) -> bool:
    """Whether a value the README states is the declared default (paths from the repository)."""
    if isinstance(stated, Path) and isinstance(default, Path):
        return (ROOT / stated).resolve() == (ROOT / default).resolve()
    return bool(stated == default)


def test_the_readme_table_lists_exactly_the_declared_settings() -> None:
    listed = [name for names, _ in readme_rows() for name in names]
    assert len(listed) == len(set(listed)), "a setting has two rows"
    assert set(listed) == {item.setting.env for item in declared()}


def test_the_readme_table_states_the_declared_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the README's paths start at the repository
    by_env = {item.setting.env: item for item in declared()}
    for names, cell in readme_rows():
        if cell.startswith(NO_DEFAULT):
            assert all(not by_env[name].default for name in names), cell
        elif LITERALS.fullmatch(cell):
            values = re.findall(r"`([^`]+)`", cell)
            assert len(values) == len(names), cell
            for name, value in zip(names, values, strict=True):
                item = by_env[name]
                assert same(item.setting.read({name: value}, None), item.default), name
        else:
            assert set(names) <= IN_WORDS, f"state the default of {names} as `literals` or —"


def test_env_example_assigns_exactly_the_declared_settings() -> None:
    assigned = [name for name, _ in ASSIGNMENT.findall(ENV_EXAMPLE.read_text(encoding="utf-8"))]
    assert len(assigned) == len(set(assigned)), "a setting is assigned twice"
    assert set(assigned) == {item.setting.env for item in declared()}


def test_env_example_as_it_is_changes_no_default() -> None:
    assert Settings.from_env({}, env_file=ENV_EXAMPLE) == Settings()
