"""The rooms hold: which package may import which, and how many modules sit at the top of the core.

Arrows point into ``bot``: ``connectors`` and ``intents`` use the core, only ``omnibot`` (the
composition root) wires all three, and the core imports no vendor SDK.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the first-party packages it may import
ALLOWED = {
    "bot": {"bot"},
    "connectors": {"bot", "connectors"},
    "intents": {"bot", "intents"},
    "omnibot": {"bot", "connectors", "intents", "omnibot"},
}
VENDOR_SDKS = {"twilio", "slack_sdk", "slack_bolt", "torch", "sentence_transformers", "onnxruntime"}
MAX_CORE_TOP_MODULES = 10


def imported_roots(path: Path) -> set[str]:
    """The top-level package names one module imports (absolute imports only)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_its_room_allows(package: str) -> None:
    first_party = set(ALLOWED)
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_roots(path) & first_party - ALLOWED[package]
    }
    assert not wrong


def test_the_core_imports_no_vendor_sdk() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in imported_roots(path) & VENDOR_SDKS
    }
    assert not wrong


def test_the_top_of_the_core_holds_at_most_ten_modules() -> None:
    top = sorted(p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_CORE_TOP_MODULES, top


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from connectors.sms import connector\nimport twilio.rest\nfrom . import x\n")
    assert imported_roots(module) == {"connectors", "twilio"}
