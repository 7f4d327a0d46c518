"""FINE_TUNE=background end to end: the service answers with the frozen model while a real
tuning runs in a child process, then serves the tuned one, answering all along."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from intents.build import BuildOptions
from intents.tuning import TuningConfig
from omnibot import engine, tuning_job
from omnibot.app import create_app
from omnibot.engine import Intents
from omnibot.settings import Settings
from tests.support.webchat_client import frame, opening

AiohttpClient = Any
TUNING_CAP_S = 900.0  # a tuning of a few steps and two exports; minutes on a busy machine
ANSWERS = {
    "order_status": "Orders arrive within 3 working days.",
    "returns": "Send it back within 30 days for a refund.",
    "store_hours": "We are open 9 to 6, Monday to Saturday.",
    "payment": "We take cards, PayPal and Apple Pay.",
}
EXAMPLES = {
    "order_status": ["where is my order", "my parcel has not arrived", "track my package",
                     "when will my order arrive", "has my order shipped", "no delivery yet"],
    "returns": ["i want to return these shoes", "how do i send something back",
                "can i return an item", "what is your returns policy",
                "the jeans do not fit, can i return them", "how do i start a return"],
    "store_hours": ["what are your opening hours", "when do you close today",
                    "are you open on sunday", "what time does the shop open",
                    "store hours please", "are you open on bank holidays"],
    "payment": ["can i pay with paypal", "do you take amex", "which payment methods work",
                "can i pay in instalments", "is apple pay accepted", "do you accept debit cards"],
}  # fmt: skip
# The real `omnibot train --fine-tune`, with a tuning of a few steps instead of 150 and one
# calibration tune.
TUNE = """
from dataclasses import replace
from intents.tuning import TuningConfig
from omnibot import cli, engine
full = engine.build_options
engine.build_options = lambda s: replace(
    full(s), tuning=TuningConfig(epochs=1, min_steps=3, calibration_tunes=1)
)
cli.main(["train", "--fine-tune"])
"""


def catalogue(path: Path) -> Path:
    """The four-intent catalogue, written to ``path``."""
    lines = ["version: 1", "intents:"]
    for intent, examples in EXAMPLES.items():
        lines += [f"  {intent}:", f'    answer: "{ANSWERS[intent]}"', "    examples:"]
        lines += [f"      - {example}" for example in examples]
    path.write_text("\n".join(lines) + "\n")
    return path


def quick_options(settings: Settings, full: Any = engine.build_options) -> BuildOptions:
    """The settings' build options with the few-step tuning of :data:`TUNE`."""
    options: BuildOptions = full(settings)
    return replace(options, tuning=TuningConfig(epochs=1, min_steps=3, calibration_tunes=1))


async def test_the_service_answers_throughout_and_then_serves_the_tuned_model(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    intents: Intents,  # the session's cache holds the exported encoder
    intents_data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "build_options", quick_options)
    monkeypatch.setattr(tuning_job, "build_options", quick_options)
    monkeypatch.setattr(tuning_job, "tuning_command", lambda: [sys.executable, "-c", TUNE])
    monkeypatch.setattr(tuning_job, "POLL_S", 0.5)
    configured = replace(
        settings,
        data_dir=intents_data_dir,
        intents_path=catalogue(tmp_path / "shop.yml"),
        fine_tune="background",
        messages_per_minute=100_000,
        sessions_per_minute=100_000,
        sockets_per_address=100_000,
    )
    client = await aiohttp_client(create_app(configured))
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + TUNING_CAP_S
    while time.monotonic() < deadline:
        body = await (await client.get("/healthz")).json()
        seen.append((body["model"], body["tuning"]))
        # a new visitor each turn: one customer asking again and again would get a person
        async with client.ws_connect("/webchat/ws") as ws:
            await opening(ws)
            await ws.send_json({"type": "message", "text": "where is my order"})
            answer = await bot_message(ws)
        if body["model"].startswith("tuned-"):
            break
        await asyncio.sleep(0.5)
    model, tuning = seen[-1]
    assert ("frozen", "running") in seen
    assert model.startswith("tuned-"), seen[-3:]
    assert tuning == "done"
    assert answer == ANSWERS["order_status"]


async def bot_message(ws: Any) -> str:
    """The text of the bot's next message."""
    while True:
        got = await frame(ws)
        if got["type"] == "message" and got["role"] == "bot":
            return str(got["text"])
