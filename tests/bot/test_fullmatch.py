"""Whole-string checks: a ``^…$`` pattern with ``re.match`` also takes a trailing newline
(``$`` matches before one), so omnibot's checks of ids, tokens, codes and numbers use
``fullmatch`` and no anchored patterns."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.webchat.frames import FrameError, parse_client_frame

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "connectors", "intents")
RE_CALLS = frozenset({"compile", "match", "search"})


def anchored_patterns(path: Path) -> Iterator[tuple[int, str]]:
    """Line and text of each ``re.compile/match/search`` pattern in ``path`` ending with ``$``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in RE_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        pattern = node.args[0].value
        if pattern.endswith("$") and not pattern.endswith("\\$"):
            yield node.lineno, pattern


def test_no_pattern_is_anchored_with_a_dollar() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {pattern}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, pattern in anchored_patterns(path)
    ]
    assert found == [], "use fullmatch without anchors:\n" + "\n".join(found)


@pytest.mark.parametrize("client_id", ["a-1_B\n", "a-1_B\r\n", "\na-1_B"])
def test_a_web_chat_message_id_with_a_newline_is_refused(client_id: str) -> None:
    raw = json.dumps({"type": "message", "text": "hi", "id": client_id})
    with pytest.raises(FrameError) as caught:
        parse_client_frame(raw)
    assert caught.value.code == "invalid_id"
