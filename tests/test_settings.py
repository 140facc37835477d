from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from forum.cli import cli
from forum.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("FORUM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_environment_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forum.toml").write_text('port = 9001\nplatform_name = "From TOML"\n')
    monkeypatch.setenv("FORUM_PORT", "9002")
    settings = load_settings()
    assert settings.port == 9002
    assert settings.platform_name == "From TOML"


def test_config_file_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text("port = 9100\n")
    monkeypatch.setenv("FORUM_CONFIG_FILE", str(other))
    assert load_settings().port == 9100


def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORUM_DATABASE_URL", "mysql://nope")
    with pytest.raises(SettingsError, match="FORUM_DATABASE_URL"):
        load_settings()


def test_unknown_key_in_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "forum.toml").write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="FORUM_PROT"):
        load_settings()


@pytest.mark.parametrize("command", [["config"], ["serve"], ["migrate"]])
def test_invalid_setting_stops_commands_with_status_2(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("FORUM_PORT", "not-a-port")
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["forum: invalid setting FORUM_PORT: Input should be a valid integer, "
                     "unable to parse string as an integer"]


def test_config_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORUM_SECRET_KEY", "super-secret-value")
    monkeypatch.setenv("FORUM_SMTP_PASSWORD", "mail-pass")
    monkeypatch.setenv("FORUM_DATABASE_URL", "postgres://forum:dbpass@db.internal:5432/forum")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    assert "super-secret-value" not in result.output
    assert "mail-pass" not in result.output
    assert "dbpass" not in result.output
    assert "FORUM_SECRET_KEY=********" in result.output
    assert "FORUM_DATABASE_URL=postgres://********@db.internal:5432/forum" in result.output
    assert "FORUM_PORT=8000" in result.output


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = settings.secret()
    assert len(first) >= 48
    assert load_settings(data_dir=tmp_path / "data").secret() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
