"""The one settings object (bot/config.py): README table, .env handling, typed values, errors."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import FrozenInstanceError, fields
from pathlib import Path

import pytest

from bot import config
from bot.config import ROOT, SETTINGS, Setting, SettingError, Settings, load_settings

README = ROOT / "README.md"
_ROW = re.compile(r"^\|\s*`(KLARTEXT_[A-Z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|\s*$")


def readme_table() -> dict[str, tuple[str, str]]:
    """``name → (default, description)`` of the settings table in the README's Configuration."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            name, default, description = match.groups()
            assert name not in rows, f"README lists {name} twice"
            rows[name] = (default.strip(), description.strip())
    return rows


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No KLARTEXT_* variable set, no developer .env, var directory in tmp_path."""
    for name in list(__import__("os").environ):
        if name.startswith("KLARTEXT_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(config, "_dotenv_loaded", True)
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


# --------------------------------------------------------------------------- README
def test_readme_table_lists_every_setting_with_its_default():
    rows = readme_table()
    assert list(rows) == [s.name for s in SETTINGS], "README table and bot/config.py differ"
    for setting in SETTINGS:
        default, description = rows[setting.name]
        assert default == setting.shown_default, setting.name
        assert description, f"README: {setting.name} has no description"


def test_every_setting_is_declared_completely():
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    for setting in SETTINGS:
        assert setting.name.startswith("KLARTEXT_")
        assert setting.type in (str, int, bool, tuple, Path), setting.name
        assert setting.description and "|" not in setting.description, setting.name
        if setting.default is None:
            assert setting.computed, f"{setting.name}: computed default is not described"
        else:
            setting.parse(setting.default)  # the default itself is a valid value
    assert [f.name for f in fields(Settings)] == [s.field for s in SETTINGS]


def test_settings_are_typed_and_frozen(clean_env):
    settings = load_settings()
    for setting in SETTINGS:
        value = getattr(settings, setting.field)
        assert isinstance(value, setting.type), setting.name
        assert settings.get(setting.name) == value
    with pytest.raises(FrozenInstanceError):
        settings.export_ttl = 1  # type: ignore[misc]
    with pytest.raises(KeyError, match="KLARTEXT_NOPE"):
        settings.get("KLARTEXT_NOPE")


def test_defaults(clean_env, tmp_path):
    settings = load_settings()
    var_dir = tmp_path / "var"
    assert settings.var_dir == var_dir and var_dir.is_dir()
    assert settings.database_url == f"sqlite:///{var_dir / 'klartext.db'}"
    assert settings.tracker_store_url == f"sqlite:///{var_dir / 'tracker.db'}"
    assert settings.export_ttl == 900 and settings.retention_days == 365
    assert settings.timezone == "Europe/Berlin"
    assert settings.trainers == () and settings.webchat_origins == ("*",)
    assert settings.text("KLARTEXT_WEBCHAT_ORIGINS") == "*"


def test_var_dir_default_is_in_the_repository(clean_env):
    clean_env.delenv("KLARTEXT_VAR_DIR")
    assert config.read_settings({}).var_dir == ROOT / "var"


def test_defaults_agree_with_the_connectors():
    from connectors import botframework_auth

    assert config.BY_NAME["KLARTEXT_TEAMS_ISSUERS"].default == botframework_auth.DEFAULT_ISSUER
    metadata = config.BY_NAME["KLARTEXT_TEAMS_OPENID_METADATA_URL"].default
    assert metadata == botframework_auth.DEFAULT_OPENID_METADATA_URL


# --------------------------------------------------------------------------- parsing
def test_values_are_parsed_and_reread_on_every_call(clean_env):
    clean_env.setenv("KLARTEXT_EXPORT_TTL", " 60 ")
    clean_env.setenv("KLARTEXT_TRAINERS", "anna, ben,,  ")
    clean_env.setenv("KLARTEXT_TEAMS_ISSUERS", "https://a.example, https://b.example")
    settings = load_settings()
    assert settings.export_ttl == 60
    assert settings.trainers == ("anna", "ben")
    assert settings.text("KLARTEXT_TEAMS_ISSUERS") == "https://a.example,https://b.example"
    clean_env.setenv("KLARTEXT_EXPORT_TTL", "120")
    assert load_settings().export_ttl == 120  # monkeypatched environment is seen at once


def test_empty_value_means_default(clean_env):
    clean_env.setenv("KLARTEXT_EXPORT_TTL", "")
    clean_env.setenv("KLARTEXT_TRACKER_STORE_URL", "  ")
    settings = load_settings()
    assert settings.export_ttl == 900
    assert settings.tracker_store_url.endswith("tracker.db")


@pytest.mark.parametrize(
    "name, value", [("KLARTEXT_EXPORT_TTL", "abc"), ("KLARTEXT_RETENTION_DAYS", "1 year")]
)
def test_bad_number_names_the_variable(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(SettingError, match=rf"^{name}='{value}' is not a whole number"):
        load_settings()


def test_bool_parsing():
    flag = Setting("KLARTEXT_SOME_FLAG", bool, "false", "a flag")
    assert flag.parse(None) is False
    assert flag.parse("Yes") is True and flag.parse("1") is True and flag.parse("off") is False
    with pytest.raises(SettingError, match=r"^KLARTEXT_SOME_FLAG='vielleicht' is not a yes/no"):
        flag.parse("vielleicht")


def test_bad_value_reaches_the_callers(clean_env):
    from bot import data_rights

    clean_env.setenv("KLARTEXT_EXPORT_TTL", "abc")
    with pytest.raises(SettingError, match="KLARTEXT_EXPORT_TTL"):
        data_rights.ttl_seconds()
    clean_env.setenv("KLARTEXT_EXPORT_TTL", "3")
    assert data_rights.ttl_seconds() == data_rights.MIN_TTL_SECONDS


# --------------------------------------------------------------------------- .env
_ENV_PROBE = """
import os, sys
from unittest import mock
import dotenv
from bot import config

config.ENV_FILE = config.Path(sys.argv[1])
calls = []
real = dotenv.load_dotenv
with mock.patch.object(dotenv, "load_dotenv", lambda *a, **k: calls.append(a) or real(*a, **k)):
    first = config.load_settings()
    second = config.load_settings()
print(len(calls), first.public_url, first.trainer_code, second.retention_days)
"""


def test_dotenv_is_read_once_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "KLARTEXT_PUBLIC_URL=https://from-dotenv.example\n"
        "KLARTEXT_TRAINER_CODE=from-dotenv\n"
        "KLARTEXT_RETENTION_DAYS=30\n",
        encoding="utf-8",
    )
    environ = {
        name: value
        for name, value in __import__("os").environ.items()
        if not name.startswith("KLARTEXT_")
    }
    environ.update(
        KLARTEXT_VAR_DIR=str(tmp_path / "var"),
        KLARTEXT_TRAINER_CODE="from-environment",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", _ENV_PROBE, str(env_file)],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    calls, public_url, trainer_code, retention_days = result.stdout.split()
    assert calls == "1"  # two load_settings() calls, one read of .env
    assert public_url == "https://from-dotenv.example"  # from .env
    assert trainer_code == "from-environment"  # the environment wins over .env
    assert retention_days == "30"


def test_bad_value_in_dotenv_names_the_variable(tmp_path, clean_env):
    env_file = tmp_path / "bad.env"
    env_file.write_text("KLARTEXT_EXPORT_TTL=abc\n", encoding="utf-8")
    clean_env.delenv("KLARTEXT_EXPORT_TTL", raising=False)
    try:
        with pytest.raises(SettingError, match="^KLARTEXT_EXPORT_TTL='abc'"):
            load_settings(env_file)
    finally:
        __import__("os").environ.pop("KLARTEXT_EXPORT_TTL", None)


# --------------------------------------------------------------------------- channels
def test_channel_setting_precedence(clean_env):
    from connectors.channel_common import setting

    name = "KLARTEXT_SLACK_API_BASE"
    assert setting(name, "unused") == "https://slack.com/api"  # the table's default
    clean_env.setenv(name, "http://env.example/api")
    assert setting(name) == "http://env.example/api"
    assert setting(name, credentials={"api_base": "http://yml.example"}, key="api_base") == (
        "http://yml.example"
    )
    assert setting(name, credentials={"api_base": ""}, key="api_base") == "http://env.example/api"
    assert setting("KLARTEXT_TEAMS_TOKEN_URL", "fallback") == "fallback"  # empty → caller's
    with pytest.raises(KeyError):
        setting("KLARTEXT_NOT_DECLARED")
