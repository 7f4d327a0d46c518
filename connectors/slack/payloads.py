"""What Slack sends to ``POST /slack/events``: the body as text (UTF-8 only), refused (400)
unless bolt can read it as a JSON object of Slack's shape, and the parts of a payload read
safely whatever their shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

# Slack sends UTF-8; a body declared in any other charset is not Slack's.
CHARSETS = (None, "utf-8", "utf8", "us-ascii", "ascii")
OBJECT_FIELDS = ("event", "container", "view")  # JSON objects in every payload Slack sends


async def body_text(request: web.Request) -> str:
    """The request body as text: UTF-8, or a 415 (another charset) or a 400 (not UTF-8)."""
    charset = request.charset.lower() if request.charset else None
    if charset not in CHARSETS:
        raise web.HTTPUnsupportedMediaType(text="Slack's requests are in UTF-8")
    try:
        return (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the body is not UTF-8") from None


def check_payload(body: str, content_type: str) -> None:
    """Refuse (400) a body bolt could not read as a JSON object: as bolt reads it, JSON or a
    form whose ``payload`` field holds the JSON."""
    if not body:
        return  # bolt reads it as {}
    try:
        if content_type == "application/json" or body.startswith("{"):
            payload: object = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            payload = json.loads(form["payload"]) if "payload" in form else form
    except ValueError:
        raise web.HTTPBadRequest(text="the body is neither JSON nor a form") from None
    if not isinstance(payload, dict) or not _well_formed(payload):
        raise web.HTTPBadRequest(text="the payload is not a JSON object of Slack's shape")


def _well_formed(payload: dict[str, Any]) -> bool:
    """Whether the parts bolt's listener matchers index into have the shape they expect."""
    if any(not isinstance(payload.get(name, {}), dict) for name in OBJECT_FIELDS):
        return False
    actions = payload.get("actions", [])
    return isinstance(actions, list) and all(isinstance(action, dict) for action in actions)


def json_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a payload's odd shapes)."""
    return value if isinstance(value, dict) else {}


def user_id(body: dict[str, Any]) -> str:
    """The id of the user who acted (clicked a button), empty when the payload names none."""
    return str(json_object(body.get("user")).get("id", ""))
