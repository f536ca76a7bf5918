"""Settings: one precedence for every setting, secrets from env/.env only, redacted when printed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flarewatch.alerts.channels import AlertSettings
from flarewatch.cli import cli
from flarewatch.config import ConfigError, load_settings, redact_url

SETTING_VARS = (
    "FLAREWATCH_DATABASE_URL",
    "FLAREWATCH_BATCH_SIZE",
    "FLAREWATCH_DASHBOARD_PASSWORD",
    "FLAREWATCH_WEBHOOK_SECRET",
    "FLAREWATCH_SLACK_WEBHOOK_URL",
    "FLAREWATCH_SMTP_PASSWORD",
    "FLAREWATCH_ALERT_EMAIL_TO",
    "FLAREWATCH_CONFIG",
)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A clean working directory and environment: no .env, no flarewatch.toml, no FLAREWATCH_*."""
    for name in SETTING_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_load_settings__args_beat_env_beat_dotenv_beat_file_beat_defaults(workdir, monkeypatch):
    (workdir / "flarewatch.toml").write_text(
        'batch_size = 2\nbucket_minutes = 5\nmodel = "file"\nwatch_file = "file.toml"\n'
    )
    (workdir / ".env").write_text(
        "FLAREWATCH_BATCH_SIZE=3\nFLAREWATCH_BUCKET_MINUTES=6\nFLAREWATCH_MODEL=dotenv\n"
    )
    monkeypatch.setenv("FLAREWATCH_BATCH_SIZE", "4")
    monkeypatch.setenv("FLAREWATCH_MODEL", "env")
    settings = load_settings(model="arg")
    assert settings.model == "arg"  # argument
    assert settings.batch_size == 4  # environment
    assert settings.bucket_minutes == 6  # .env
    assert settings.watch_file == "file.toml"  # file
    assert settings.dashboard_port == 8501  # default


def test_load_settings__dashboard_password_and_alerts_from_dotenv(workdir):
    (workdir / ".env").write_text(
        "FLAREWATCH_DASHBOARD_PASSWORD='hunter2'\n"
        "FLAREWATCH_WEBHOOK_SECRET=hook-secret\n"
        "FLAREWATCH_SLACK_WEBHOOK_URL=https://hooks.slack.example/T/B/tok\n"
        "FLAREWATCH_ALERT_EMAIL_TO=a@example.org, b@example.org\n"
        "FLAREWATCH_SMTP_PASSWORD=smtp-pw\n"
    )
    settings = load_settings()
    assert settings.secret("dashboard_password") == "hunter2"
    assert settings.secret("webhook_secret") == "hook-secret"
    alerts = AlertSettings.from_settings(settings)
    assert alerts.slack_webhook_url == "https://hooks.slack.example/T/B/tok"
    assert alerts.email_to == ("a@example.org", "b@example.org")
    assert alerts.smtp_password == "smtp-pw"
    assert "tok" not in repr(alerts) and "hunter2" not in repr(settings)


def test_load_settings__secret_in_the_config_file_is_refused(workdir):
    (workdir / "flarewatch.toml").write_text('dashboard_password = "in-git-by-mistake"\n')
    with pytest.raises(ConfigError, match=r"dashboard_password is a secret.*FLAREWATCH_DASHBOARD"):
        load_settings()


@pytest.mark.parametrize(
    "var, value, named",
    [
        ("FLAREWATCH_BATCH_SIZE", "many", "batch_size"),
        ("FLAREWATCH_BATCH_SIZE", "0", "batch_size"),
        ("FLAREWATCH_BUCKET_MINUTES", "-15", "bucket_minutes"),
    ],
)
def test_load_settings__bad_value_is_one_line_naming_it(workdir, monkeypatch, var, value, named):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert named in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url, secret",
    [
        ("postgresql+psycopg://fw:pa55word@db.example/fw", "pa55word"),
        ("postgresql+psycopg://fw@db.example/fw?password=pa55word&sslmode=require", "pa55word"),
        ("postgresql://db.example/fw?sslpassword=pa55word", "pa55word"),
        ("https://api.example/hook?token=pa55word", "pa55word"),
        ("https://api.example/hook?api_key=pa55word#frag", "pa55word"),
    ],
)
def test_redact_url__every_credential_form_is_masked(url, secret):
    shown = redact_url(url)
    assert secret not in shown and "***" in shown


def test_config_command__prints_no_credential(workdir, monkeypatch):
    (workdir / ".env").write_text("FLAREWATCH_DASHBOARD_PASSWORD=dash-pw\n")
    monkeypatch.setenv("FLAREWATCH_WEBHOOK_SECRET", "hook-pw")
    monkeypatch.setenv("FLAREWATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.example/slack-pw")
    monkeypatch.setenv("FLAREWATCH_SMTP_PASSWORD", "smtp-pw")
    url = "postgresql+psycopg://fw:user-pw@db.example/fw?password=query-pw&sslmode=require"
    result = CliRunner().invoke(cli, ["--database-url", url, "config"])
    assert result.exit_code == 0, result.output
    assert "-pw" not in result.output
    shown = json.loads(result.output)
    assert shown["dashboard_password"] == shown["webhook_secret"] == "***"
    assert shown["database_url"].endswith("@db.example/fw?password=***&sslmode=require")
    assert shown["smtp_host"] is None


def test_load_settings__a_changed_dotenv_is_read_again(workdir):
    (workdir / ".env").write_text("FLAREWATCH_DASHBOARD_PASSWORD=first\n")
    assert load_settings().secret("dashboard_password") == "first"
    assert load_settings() is load_settings()  # unchanged inputs: resolved once
    (workdir / ".env").write_text("FLAREWATCH_DASHBOARD_PASSWORD=second-one\n")
    assert load_settings().secret("dashboard_password") == "second-one"
