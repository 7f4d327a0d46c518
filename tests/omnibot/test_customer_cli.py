"""``omnibot customer export`` and ``erase`` on the test Redis: the export as JSON (stdout or a
file only its writer reads), the erasure only once confirmed, one-line errors for an unknown or
malformed address."""

from __future__ import annotations

import argparse
import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.models import Address, Message, Role
from bot.storage.client import connect
from bot.storage.store import Store
from omnibot import customer_cli
from omnibot.cli import parser
from omnibot.settings import Settings

PHONE = Address("sms", "+447700900123")


def parse(*argv: str) -> argparse.Namespace:
    """``argv`` read by the ``omnibot`` command's own grammar."""
    return parser().parse_args(list(argv))


async def _seed(url: str) -> str:
    client = connect(url, cluster=False)
    try:
        store = Store(client)
        cid = await store.resolve(PHONE)
        message = Message(role=Role.CUSTOMER, text="where is my order", channel="sms")
        assert await store.accept(cid, PHONE, "SM1", message) is not None
        await store.record(cid, (Message(role=Role.BOT, text="It ships today."),), {"answered": 1})
        return cid
    finally:
        await client.aclose()


@pytest.fixture
def seeded(redis_url: str) -> Iterator[str]:
    """A customer at PHONE with two messages; the database flushed after the test."""
    yield asyncio.run(_seed(redis_url))
    redis.Redis.from_url(redis_url).flushall()


def keys(redis_url: str) -> list[bytes]:
    return list(redis.Redis.from_url(redis_url).scan_iter(count=1000))


def test_export_prints_the_customer_as_json(
    settings: Settings, seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    customer_cli.run(settings, parse("customer", "export", "+44 7700 900123"))
    data = json.loads(capsys.readouterr().out)
    assert data["customer_id"] == seeded
    texts = [m["text"] for m in data["conversations"][0]["messages"]]
    assert texts == ["where is my order", "It ships today."]


def test_export_writes_a_file_only_its_writer_reads(
    settings: Settings, seeded: str, tmp_path: Path
) -> None:
    out = tmp_path / "alice.json"
    customer_cli.run(settings, parse("customer", "export", "sms:+447700900123", "--out", str(out)))
    assert json.loads(out.read_text(encoding="utf-8"))["customer_id"] == seeded
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_erase_asks_first_and_erases_only_once_confirmed(
    settings: Settings,
    seeded: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("builtins.input", lambda question: "no")
    with pytest.raises(SystemExit) as refused:
        customer_cli.run(settings, parse("customer", "erase", "+447700900123"))
    assert refused.value.code == 2
    assert "nothing erased" in capsys.readouterr().err
    assert keys(redis_url) != []
    monkeypatch.setattr("builtins.input", lambda question: "erase")
    customer_cli.run(settings, parse("customer", "erase", "+447700900123"))
    assert "messages 2" in capsys.readouterr().out
    assert [key for key in keys(redis_url) if seeded.encode() in key] == []


def test_erase_with_yes_does_not_ask(settings: Settings, seeded: str, redis_url: str) -> None:
    customer_cli.run(settings, parse("customer", "erase", "+447700900123", "--yes"))
    assert [key for key in keys(redis_url) if seeded.encode() in key] == []


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("+447700900999", "no customer at sms:+4•••••••0999"),
        ("webchat:nobody", "no customer at webchat:nobo…"),
        ("alice", "not a customer address: 'alice'"),
    ],
)
def test_an_unknown_or_malformed_address_is_one_line(
    settings: Settings,
    seeded: str,
    address: str,
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        customer_cli.run(settings, parse("customer", "erase", address, "--yes"))
    assert stopped.value.code == 2
    assert f"omnibot: {error}" in capsys.readouterr().err
