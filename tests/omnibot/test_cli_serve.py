"""What ``omnibot serve`` starts: the split by default, one process with ``ROLE=all``."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnibot import serving
from omnibot.cli import main
from omnibot.roles import Role
from omnibot.settings import Settings
from omnibot.workers import ChildRefusedError


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """What ``serve`` ran, in order, with every step that would start a process recorded
    instead."""
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("OMNIBOT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PORT", "0")  # whatever else listens on 8080, the port is free
    for name in ("ROLE", "WORKERS", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    steps: list[str] = []

    def record(step: str) -> object:
        def run(settings: Settings, *args: object) -> None:
            steps.append(f"{step} {settings.role}")

        return run

    for step in ("prepare_apart", "prepare_model", "run_split", "run_workers", "serve_one"):
        monkeypatch.setattr(serving, step, record(step))
    return steps


def test_serve_splits_by_default_after_preparing_the_model_apart(started: list[str]) -> None:
    main(["serve"])
    assert started == ["prepare_apart auto", "run_split auto"]


@pytest.mark.parametrize("argv", [["serve", "--role", "all"], ["serve", "--role", "front"]])
def test_a_named_role_runs_one_process(started: list[str], argv: list[str]) -> None:
    main(argv)
    assert started == [f"serve_one {argv[-1]}"]


def test_role_all_from_the_environment_runs_one_process(
    started: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLE", "all")
    main(["serve"])
    assert started == ["serve_one all"]
    monkeypatch.setenv("WORKERS", "2")
    main(["serve"])
    assert started[1:] == ["prepare_model all", "run_workers all"]


def test_split_stays_an_alias(started: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLE", "all")
    main(["serve", "--split"])
    assert started == ["prepare_apart all", "run_split all"]


def test_a_child_refusing_its_settings_stops_serve_with_one_line(
    started: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(settings: Settings) -> None:
        raise ChildRefusedError(Role.FRONT)

    monkeypatch.setattr(serving, "run_split", refused)
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omnibot: the front process stopped on its settings")
    assert err.count("\n") == 1


def test_a_setting_the_front_refuses_stops_serve_before_any_child(
    started: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")  # SMS on, without its account
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    assert "TWILIO_ACCOUNT_SID" in capsys.readouterr().err
    assert started == []
