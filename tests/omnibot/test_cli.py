"""The omnibot command: eval's numbers and report, train's cache."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.contracts import Prediction
from bot.delivery.records import Deliveries
from bot.models import Message, Role
from bot.storage.keys import OUTBOX_DUE_KEY
from intents.calibration import Rule
from intents.catalogue import load_catalogue
from intents.evaluate import score
from omnibot import engine
from omnibot.cli import describe, main, redacted
from omnibot.engine import Intents
from omnibot.settings import DEFAULT_INTENTS_PATH
from tests.support.twilio_fake import FakeTwilio

RASA_PROJECT = Path(__file__).resolve().parent.parent / "data" / "rasa_project"
TEST_ROWS = [
    ("where has my parcel got to", "order_status"),
    ("do you open on sundays", "store_hours"),
    ("can I pay with apple pay", "payment_methods"),
    ("hello there", "greeting"),
    ("what is the boiling point of mercury", "oos"),
    ("recommend me a film for tonight", "oos"),
]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


@pytest.fixture
def data(intents: Intents, intents_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(intents_data_dir))  # reuse the exported encoder
    return intents_data_dir


def test_eval_prints_json_and_writes_the_report(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = load_catalogue(DEFAULT_INTENTS_PATH)
    train = write_csv(
        tmp_path / "train.csv",
        [
            (text, intent.name)
            for intent in catalogue.intents.values()
            if intent.name != "out_of_scope"  # its answer would be an answered `oos` row here
            for text in intent.examples
        ],
    )
    test = write_csv(tmp_path / "test.csv", TEST_ROWS)
    main(["eval", str(train), str(test), "--json", "--report", str(tmp_path / "report")])
    result = json.loads(capsys.readouterr().out)
    assert {
        "accuracy",
        "macro_f1",
        "answered_share",
        "answered_precision",
        "oos_recall",
        "p50_ms",
        "p99_ms",
    } <= set(result)
    for share in ("accuracy", "macro_f1", "answered_share", "oos_recall", "in_scope_accuracy"):
        assert 0 <= result[share] <= 1
    assert (result["in_scope_rows"], result["oos_rows"]) == (4, 2)
    assert result["oos_recall"] == 1.0  # both out-of-scope rows were escalated
    assert result["accuracy"] == 1.0  # the known rows' top intents; oos rows are not misses
    in_scope_right = result["in_scope_accuracy"] * 4
    assert result["overall_accuracy"] == pytest.approx((in_scope_right + 2) / 6)
    assert result["p50_ms"] > 0
    report = tmp_path / "report"
    for name in ("confusion_matrix.png", "coverage_precision.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG")
    with (report / "misclassified.csv").open() as handle:
        wrong = list(csv.DictReader(handle))
    assert wrong == []  # the escalated oos rows were right


def test_eval_prints_in_scope_and_overall_accuracy_apart() -> None:
    known = [Prediction("refund", 0.9, True)] * 398 + [Prediction("x", 0.9, True)] * 2
    kept_out = [Prediction("refund", 0.1, False)] * 200
    result = score(known + kept_out, ["refund"] * 400 + ["oos"] * 200, [1.0], Rule(0.5), (1.0,))
    text = describe(result)
    assert "accuracy            99.50 %" in text  # 398 of 400, not 398 of 600 (66.33 %)
    assert "in-scope accuracy   99.50 %" in text
    assert "out-of-scope recall 100.00 %" in text
    assert "overall accuracy    99.67 %" in text
    assert "66.33" not in text


def test_eval_trains_on_a_rasa_project_and_tests_on_a_rasa_nlu_file(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = tmp_path / "test_nlu.yml"
    test.write_text(
        "nlu:\n"
        "  - intent: greet\n    examples: |\n      - hello you\n      - hi there\n"
        "  - intent: bot_challenge\n    examples: |\n      - are you a robot?\n",
        encoding="utf-8",
    )
    main(["eval", str(RASA_PROJECT), str(test), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["test_rows"] == 3
    assert 0 <= result["accuracy"] <= 1


def test_a_broken_intents_path_stops_serve_with_one_line(
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text("nlu: [\n", encoding="utf-8")
    models = data / "cache" / "models"
    before = sorted(p.name for p in models.glob("*"))
    monkeypatch.setenv("INTENTS_PATH", str(tmp_path))
    monkeypatch.setenv("PORT", "0")  # whatever else listens on 8080, the port is free
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omnibot: ")
    assert "nlu.yml:" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in models.glob("*")) == before  # the model cache untouched


def test_eval_refuses_a_csv_without_the_header(data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nhi,greeting\n")
    with pytest.raises(ValueError, match="'text' and 'category'"):
        main(["eval", str(bad), str(bad)])


def test_train_rebuilds_the_cache(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = data / "cache" / "models"
    for model in models.glob("*.joblib"):
        model.unlink()
    main(["train"])
    assert len(list(models.glob("*.joblib"))) == 1
    assert "trained" in capsys.readouterr().out


def test_a_setting_that_does_not_parse_stops_with_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "abc")
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "PORT" in error
    assert "'abc'" in error


async def omnibot(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the omnibot command as a user does (a separate process); exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omnibot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), output.decode()


async def dead_letter(deliveries: Deliveries) -> Message:
    """A bot message to an SMS customer, in the dead-letter list."""
    message = Message(role=Role.BOT, text="Your refund is on its way.")
    await deliveries.dead_letter(
        {
            "id": message.id,
            "conversation": "c",
            "to": ["sms", "+1555"],
            "message": message.to_dict(),
            "error": "Twilio answered 500",
            "failed_at": time.time(),
        }
    )
    return message


def command_env(redis_url: str, sms_settings: dict[str, object], data_dir: Path) -> dict[str, str]:
    """The environment of an ``omnibot outbox`` command on the test Redis and fake Twilio."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "OMNIBOT_DATA_DIR": str(data_dir),
        **{name.upper(): str(value) for name, value in sms_settings.items()},
    }


async def test_outbox_list_and_replay(
    redis_url: str,
    deliveries: Deliveries,
    twilio_api: FakeTwilio,
    sms_settings: dict[str, object],
    tmp_path: Path,
) -> None:
    env = command_env(redis_url, sms_settings, tmp_path)
    code, listing = await omnibot(env, "outbox", "list")
    assert (code, listing.splitlines()[-1]) == (0, "no dead letters")
    assert f"data dir {tmp_path}; Redis " in listing  # which data and Redis it used
    assert "(REDIS_URL)" in listing
    message = await dead_letter(deliveries)
    code, listing = await omnibot(env, "outbox", "list")
    assert code == 0, listing
    assert message.id in listing
    assert "Twilio answered 500" in listing
    assert "no dead letters" not in listing
    code, output = await omnibot(env, "outbox", "replay", message.id)
    assert code == 0, output
    assert f"{message.id}: sent" in output
    assert [(call["To"], call["Body"]) for call in twilio_api.sent] == [("+1555", message.text)]
    assert await deliveries.dead_letters() == []
    code, output = await omnibot(env, "outbox", "replay", message.id)
    assert code == 1
    assert f"no dead letter with id {message.id}" in output


async def test_a_replay_the_channel_asks_to_wait_for_is_queued_not_missing(
    redis_url: str,
    redis_client: aioredis.Redis,
    deliveries: Deliveries,
    twilio_api: FakeTwilio,
    sms_settings: dict[str, object],
    tmp_path: Path,
) -> None:
    message = await dead_letter(deliveries)
    twilio_api.failing = True  # a 500: retried later, so the replay leaves it queued
    code, output = await omnibot(
        command_env(redis_url, sms_settings, tmp_path), "outbox", "replay", message.id
    )
    assert code == 3, output
    assert f"{message.id}: queued again" in output
    assert "no dead letter" not in output
    assert await deliveries.dead_letters() == []
    assert await redis_client.zscore(OUTBOX_DUE_KEY, "c") is not None  # the sweeper's to send


def test_a_password_in_a_redis_url_is_never_shown() -> None:
    assert redacted("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redacted("rediss://app:s3cret@cache:6380") == "rediss://app:***@cache:6380"
    assert redacted("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENCODER", "foo"),
        ("INTENTS_PATH", "missing.yml"),
        ("KNOWLEDGE_PATH", "missing-help"),
        ("HOST", "http://0.0.0.0"),
    ],
)
def test_start_up_errors_are_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    value: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"omnibot: setting {name}={value!r} is not valid")
    assert err.count("\n") == 1


def test_an_unusable_data_dir_stops_with_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(tmp_path / "a-file" / "var"))
    with pytest.raises(SystemExit) as stopped:
        main(["train"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omnibot: setting OMNIBOT_DATA_DIR=")
    assert err.count("\n") == 1


def test_a_busy_port_stops_serve_at_once_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("OMNIBOT_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("PORT", str(port))
        started = time.monotonic()
        with pytest.raises(SystemExit) as stopped:
            main(["serve"])
    assert stopped.value.code == 2
    assert time.monotonic() - started < 5  # before loading or training the model
    err = capsys.readouterr().err
    assert err == f"omnibot: cannot listen on HOST=127.0.0.1 PORT={port}: Address already in use\n"
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(("argv", "tune"), [(["train"], False), (["train", "--fine-tune"], True)])
def test_train_fine_tune_asks_for_the_tuning_even_with_fine_tune_off(
    intents: Intents,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    tune: bool,
) -> None:
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FINE_TUNE", "off")
    asked: list[tuple[bool, bool]] = []

    def build(settings: object, rebuild: bool, progress: bool, tune: bool) -> Intents:
        asked.append((rebuild, tune))
        return Intents(intents.classifier, intents.responder, model_name="tuned-0123")

    monkeypatch.setattr(engine, "build_intents", build)  # imported by train when it runs
    monkeypatch.setattr(intents.classifier, "close", lambda: None)  # the session's classifier
    main(argv)
    assert asked == [(True, tune)]
    assert "model tuned-0123" in capsys.readouterr().out
