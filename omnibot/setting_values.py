"""The values of the settings that are more than a word or a number: ``KNOWLEDGE_PATH`` (a
folder, or off), ``FINE_TUNE`` (one of a few modes) and ``REDACT_PATTERNS`` (regular
expressions, each checked)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from omnibot.setting_spec import RefusedValueError

KNOWLEDGE_OFF = "off"  # KNOWLEDGE_PATH=off: no help-centre answers, whatever the catalogue
# REDACT_PATTERNS: a JSON list, as a regular expression may hold any separator
PATTERNS = 'a JSON list of regular expressions, e.g. ["ORD-\\\\d{6}"]'
# FINE_TUNE: never; the tuned model once `omnibot train --fine-tune` built it; or also tuned by
# the service itself in a low-priority process
FINE_TUNE_MODES = ("off", "ahead", "background")


def fine_tune_mode(value: str) -> str:
    """One of :data:`FINE_TUNE_MODES`, in any case."""
    lowered = value.lower()
    if lowered not in FINE_TUNE_MODES:
        raise ValueError(value)
    return lowered


def knowledge_setting(value: str) -> Path | str:
    """An existing folder of help-centre articles, or :data:`KNOWLEDGE_OFF` (in any case)."""
    if value.lower() == KNOWLEDGE_OFF:
        return KNOWLEDGE_OFF
    path = Path(value)
    if not path.is_dir():
        raise ValueError(value)
    return path


def patterns_setting(value: str) -> tuple[re.Pattern[str], ...]:
    """A JSON list of regular expressions, each compiled; :class:`RefusedValueError` names the
    one that does not compile or would match nothing but the empty string."""
    try:
        items = json.loads(value)
    except json.JSONDecodeError as error:
        raise RefusedValueError(
            f"not JSON ({error.msg} at character {error.pos}); in JSON a backslash is written \\\\"
        ) from None
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise RefusedValueError("not a JSON list of non-empty strings")
    return tuple(_pattern(item) for item in items)


def _pattern(text: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise RefusedValueError(f"{text!r} does not compile: {error}") from None
    if pattern.match("") is not None:  # it would "find" text between every two characters
        raise RefusedValueError(f"{text!r} matches the empty string")
    return pattern
