"""Settings from the environment and a .env file."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from intents.build import ENCODERS as BUILT_ENCODERS
from omnibot.engine import build_options
from omnibot.setting_parsers import ENCODERS
from omnibot.settings import (
    DEFAULT_INTENTS_PATH,
    DEFAULT_KNOWLEDGE_PATH,
    Settings,
    SettingsError,
    declared,
)

HOSTS = ["0.0.0.0", "::", "127.0.0.1", "localhost", "bot-1.shop.example"]  # noqa: S104


def test_defaults_without_any_setting(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert settings.redis_url is None
    assert settings.port == 8080
    assert settings.data_dir == Path("var")
    assert settings.intents_path == DEFAULT_INTENTS_PATH
    assert settings.webchat_allowed_origins == ()


def test_environment_overrides_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9000\nRETENTION_DAYS=7\nLOG_LEVEL=debug\n")
    settings = Settings.from_env(
        {
            "PORT": "9100",
            "WEBCHAT_ALLOWED_ORIGINS": "https://shop.example/, https://a.example",
            "PUBLIC_URL": "https://bot.example/",
        },
        env_file=env_file,
    )
    assert settings.port == 9100
    assert settings.retention_days == 7
    assert settings.log_level == "DEBUG"
    assert settings.public_url == "https://bot.example"
    assert settings.webchat_allowed_origins == ("https://shop.example", "https://a.example")


def test_every_field_is_declared_once_with_its_own_variable() -> None:
    items = declared()
    assert [item.name for item in items] == [f.name for f in fields(Settings)]
    names = [item.setting.env for item in items]
    assert len(names) == len(set(names))
    assert Settings() == Settings(**{item.name: item.default for item in items})


def test_an_unset_or_empty_value_is_the_default(tmp_path: Path) -> None:
    environ = {item.setting.env: " " for item in declared()}
    assert Settings.from_env(environ, env_file=tmp_path / "missing.env") == Settings()


def test_the_error_says_what_the_declaration_expects(tmp_path: Path) -> None:
    port = next(item.setting for item in declared() if item.name == "port")
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PORT": " 99999 "}, env_file=tmp_path / "missing.env")
    assert (caught.value.value, caught.value.expected) == ("99999", port.expected)
    assert str(caught.value) == (
        "setting PORT='99999' is not valid: expected a port number (0-65535)"
    )


def test_a_secret_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"AGENT_CONSOLE_TOKEN": "hunter2"}, env_file=tmp_path / "missing.env")
    assert caught.value.value == "<7 characters>"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("RETENTION_DAYS", "x"),
        ("RETENTION_DAYS", "0"),
        ("TARGET_PRECISION", "1.5"),
        ("UNKNOWN_ESCALATION_TARGET", "75"),
        ("LOG_LEVEL", "loud"),
        ("PUBLIC_URL", "support.example.com"),
        ("TWILIO_API_URL", "localhost:9000"),
        ("ENCODER", "foo"),
        ("HOST", "http://example.com"),
        ("HOST", "localhost:8080"),
        ("HOST", "my host"),
        ("HOST", "-bad-.example"),
        ("INTENTS_PATH", "missing.yml"),
        ("INTENTS_PATH", "missing_rasa_project"),
    ],
)
def test_a_value_that_does_not_parse_names_the_setting(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value}, env_file=tmp_path / "missing.env")
    assert (caught.value.name, caught.value.value) == (name, value)
    assert name in str(caught.value)


def test_orders_path_and_sms_settings_come_from_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ORDERS_PATH=/srv/orders.json\nTWILIO_AUTH_TOKEN=secret\nSMS_HELP_TEXT=Call us on 555\n"
    )
    settings = Settings.from_env({}, env_file=env_file)
    assert settings.orders_path == Path("/srv/orders.json")
    assert settings.sms_enabled
    assert settings.sms_help_text == "Call us on 555"


@pytest.mark.parametrize("host", HOSTS)
def test_hosts_that_can_be_listened_on_are_taken_as_they_are(tmp_path: Path, host: str) -> None:
    settings = Settings.from_env({"HOST": host}, env_file=tmp_path / "missing.env")
    assert settings.host == host


def test_intents_path_may_be_a_rasa_project_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"INTENTS_PATH": str(tmp_path)}, env_file=tmp_path / "x.env")
    assert settings.intents_path == tmp_path


def test_every_encoder_the_engine_builds_is_a_valid_setting(tmp_path: Path) -> None:
    assert ENCODERS == BUILT_ENCODERS
    for kind in ENCODERS:
        settings = Settings.from_env({"ENCODER": kind}, env_file=tmp_path / "missing.env")
        assert settings.encoder == kind


def test_the_answer_rule_s_targets_reach_the_engine_from_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TARGET_PRECISION=0.97\nUNKNOWN_ESCALATION_TARGET=0.6\n")
    config = build_options(Settings.from_env({}, env_file=env_file)).config
    assert (config.target_precision, config.target_unknown_escalated) == (0.97, 0.6)
    default = build_options(Settings.from_env({}, env_file=tmp_path / "missing.env")).config
    assert default.target_unknown_escalated == 0.70


def test_fine_tuning_is_off_unless_asked_for(tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    default = Settings.from_env({}, env_file=missing)
    assert default.fine_tune == "off"
    assert build_options(default).fine_tune is False
    for mode in ("ahead", " BACKGROUND "):  # both serve the tuned model once it is built
        chosen = Settings.from_env({"FINE_TUNE": mode}, env_file=missing)
        assert chosen.fine_tune == mode.strip().lower()
        assert build_options(chosen).fine_tune is True


@pytest.mark.parametrize("value", ["on", "yes", "foreground", "1"])
def test_an_unknown_fine_tune_mode_is_refused_with_the_choices(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"FINE_TUNE": value}, env_file=tmp_path / "missing.env")
    assert (caught.value.name, caught.value.value) == ("FINE_TUNE", value)
    assert "off, ahead, background" in str(caught.value)


def test_the_demo_articles_are_on_with_the_demo_catalogue_only(tmp_path: Path) -> None:
    catalogue = tmp_path / "shop.yml"
    catalogue.write_text("intents: {}\n")
    assert Settings().knowledge_folder == DEFAULT_KNOWLEDGE_PATH
    assert (
        Settings.from_env({"INTENTS_PATH": str(catalogue)}, env_file=None).knowledge_folder is None
    )


def test_knowledge_path_names_a_folder_or_turns_the_articles_off(tmp_path: Path) -> None:
    chosen = Settings.from_env({"KNOWLEDGE_PATH": str(tmp_path)}, env_file=None)
    assert chosen.knowledge_folder == tmp_path
    assert Settings.from_env({"KNOWLEDGE_PATH": "OFF"}, env_file=None).knowledge_folder is None


def test_a_missing_knowledge_folder_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"KNOWLEDGE_PATH": str(tmp_path / "help")}, env_file=None)
    assert caught.value.name == "KNOWLEDGE_PATH"
    assert "\n" not in str(caught.value)
