"""Settings from the environment and a .env file."""

from __future__ import annotations

from pathlib import Path

from bot.settings import DEFAULT_INTENTS_PATH, Settings


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
        {"PORT": "9100", "WEBCHAT_ALLOWED_ORIGINS": "https://shop.example/, https://a.example",
         "PUBLIC_URL": "https://bot.example/"}, env_file=env_file)
    assert settings.port == 9100
    assert settings.retention_days == 7
    assert settings.log_level == "DEBUG"
    assert settings.public_url == "https://bot.example"
    assert settings.webchat_allowed_origins == ("https://shop.example", "https://a.example")


def test_env_example_lists_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    names = {line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines()
             if "=" in line}
    fields = {name.upper() for name in Settings.__dataclass_fields__}
    fields = (fields - {"DATA_DIR"}) | {"OMNIBOT_DATA_DIR"}
    assert fields <= names
