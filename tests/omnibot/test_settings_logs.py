"""The logging settings: LOG_FORMAT, and REDACT_PATTERNS (custom regular expressions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnibot.settings import Settings, SettingsError


def patterns(value: str) -> tuple[re.Pattern[str], ...]:
    return Settings.from_env({"REDACT_PATTERNS": value}, env_file=None).redact_patterns


def test_log_format_is_text_unless_json_is_asked_for() -> None:
    assert Settings.from_env({}, env_file=None).log_format == "text"
    assert Settings.from_env({"LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    with pytest.raises(SettingsError, match=r"LOG_FORMAT='yaml'.*one of text, json"):
        Settings.from_env({"LOG_FORMAT": "yaml"}, env_file=None)


def test_redact_patterns_are_a_json_list_of_compiled_expressions() -> None:
    assert Settings.from_env({}, env_file=None).redact_patterns == ()
    compiled = patterns(r'["ORD-\\d{6}", "(?i)acme-[0-9]+"]')
    assert [p.pattern for p in compiled] == [r"ORD-\d{6}", "(?i)acme-[0-9]+"]
    assert compiled[0].search("order ORD-123456 shipped")
    assert compiled[1].search("ACME-77")
    assert patterns("[]") == ()


def test_redact_patterns_from_an_env_file_as_written_in_env_example(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('REDACT_PATTERNS=["ORD-\\\\d{6}", "(?i)loyalty card \\\\d+"]\n')
    compiled = Settings.from_env({}, env_file=env_file).redact_patterns
    assert [p.pattern for p in compiled] == [r"ORD-\d{6}", r"(?i)loyalty card \d+"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('["ORD-("]', r"'ORD-\(' does not compile: missing \)"),
        ('["ok", "[a-"]', r"'\[a-' does not compile"),
        (r'["ORD-\d{6}"]', r"not JSON \(Invalid \\escape.*a backslash is written \\\\"),
        ("ORD-1,ORD-2", "not JSON"),
        ('{"p": "x"}', "not a JSON list of non-empty strings"),
        ('["x", 3]', "not a JSON list of non-empty strings"),
        ('[""]', "not a JSON list of non-empty strings"),
        ('["a*"]', "'a\\*' matches the empty string"),
    ],
)
def test_a_bad_pattern_list_is_refused_naming_what_is_wrong(value: str, why: str) -> None:
    with pytest.raises(SettingsError, match="REDACT_PATTERNS") as refused:
        patterns(value)
    assert re.search(why, str(refused.value)), str(refused.value)
    assert "a JSON list of regular expressions" in refused.value.expected
