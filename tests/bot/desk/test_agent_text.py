"""Which agent texts are internal notes (the same rule on every desk)."""

from __future__ import annotations

import pytest

from bot.desk.agent_text import is_note

NOTES = [
    "note: customer sounds upset",
    "Note: refund pending",
    "NOTE:no space",
    "note : spaced",
    "*note:* bold in Slack",
    "*Note*: bold word only",
    "_note:_ italic",
    "~note:~ struck",
    "`note:` code",
    "note - dashed",
    "note -dashed",
    "Note — em dash",
    "> note: quoted",
    "&gt; note: quoted, as Slack sends it",
    "  note: leading spaces",
    "notes: several",
]
REPLIES = [
    "Hello, note: this is for you",
    "notebook: the one you ordered",
    "note-taking app",
    "Noted, thanks!",
    "nothing to add",
    "a note: later in the text",
    "note",
    "",
]


@pytest.mark.parametrize("text", NOTES)
def test_notes_in_every_form_agents_type(text: str) -> None:
    assert is_note(text)


@pytest.mark.parametrize("text", REPLIES)
def test_replies_are_not_notes(text: str) -> None:
    assert not is_note(text)
