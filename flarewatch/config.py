"""Resolve Flarewatch settings: arguments, then FLAREWATCH_* env, then .env, then a TOML file, then defaults."""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "FLAREWATCH_"
DEFAULT_CONFIG_FILE = "flarewatch.toml"
DEFAULT_DOTENV = ".env"
SECRET_MARKERS = ("secret", "key", "password", "passwd", "pwd", "token", "dsn", "auth", "sig")
REDACTED = "***"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# The TOML file's values for the settings being built now (a source of the lowest precedence).
_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("flarewatch_file_values", default=None)


class ConfigError(ValueError):
    """A setting is missing or cannot be parsed."""


class Settings(BaseSettings):
    """Every tunable of Flarewatch in one place; secrets are `SecretStr` and come from env/.env only.

    Args:
        database_url: SQLAlchemy URL; SQLite (WAL) by default, PostgreSQL via `postgresql+psycopg://`.
        model: `default` for the embedded MiniLM model, or any Hugging Face name or local path.
        model_languages: Languages the model is trusted on: ISO 639-1 codes, comma-separated,
            or `*` for any (a multilingual model). Posts in other languages are not scored.
        model_precision: CPU arithmetic for scoring: `auto`, `fp32` or `bf16`.
        batch_size: Posts per scoring batch.
        bucket_minutes: Width of a timeline bucket.
        dashboard_address: Address the dashboard binds to.
        dashboard_port: Port the dashboard listens on.
        dashboard_password: Password for the dashboard; required beyond loopback (secret).
        watch_file: TOML file with brand terms and sources to collect.
        public_url: Where the dashboard is reachable, used for links in alerts.
        webhook_secret: Secret incident webhooks must be signed with or carry in their URL (secret).
        slack_webhook_url: Slack incoming-webhook URL for spike alerts (secret).
        alert_webhook_url: URL that receives spike alerts as JSON (secret: it may embed a token).
        smtp_host: SMTP server for email alerts.
        smtp_port: Its port.
        smtp_user: SMTP login.
        smtp_password: SMTP password (secret).
        smtp_starttls: Upgrade the SMTP connection with STARTTLS before logging in.
        alert_email_from: Sender of email alerts.
        alert_email_to: Recipients of email alerts, comma-separated.
        security_slack_webhook_url: Slack webhook for alerts during security incidents (secret).
        security_alert_webhook_url: JSON webhook for alerts during security incidents (secret).
        security_alert_email_to: Email recipients for alerts during security incidents.
        require_approval: Outbound drafts need a second user's approval before they are sent.
        silence_limits: Longest public silence per severity during an open incident before
            the "we are silent" alarm, in minutes (`SEV1=30,SEV2=60`; `off` for none).
        mastodon_max_characters: The Mastodon instance's post limit.
        user: Who is drafting or approving (defaults to the login name).
        status_page_url: The public status page, `{status_url}` in reply templates.
        outreach_per_minute: Most replies a bulk send posts per minute, over all platforms.
        reply_spacing: Seconds between replies per platform over the defaults, `mastodon=5,x=20`.
        mastodon_reply_instance: Instance (or URL) of the Mastodon account that replies.
        mastodon_visibility: Visibility of Mastodon replies: public, unlisted, private, direct.
        reddit_replies: `on` to allow public comment replies on Reddit (off by default).
        zendesk_subdomain: Zendesk account (`acme` for acme.zendesk.com) for hand-offs.
        zendesk_email: Zendesk agent email the API token belongs to.
        handoff_webhook_url: URL that receives `outreach.handoff` events (secret: it may embed a token).
        ticket_poll_minutes: How often `flarewatch run` reads Zendesk tickets' statuses back
            (only tickets not yet solved or closed); 0 for never.
        extra: Keys of the config file Flarewatch does not know (kept, never used).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=DEFAULT_DOTENV,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str = "sqlite:///flarewatch.db"
    model: str = "default"
    model_languages: str = "en"
    model_precision: str = "auto"
    batch_size: int = Field(default=32, ge=1)
    bucket_minutes: int = Field(default=15, ge=1, le=24 * 60)
    dashboard_address: str = "127.0.0.1"
    dashboard_port: int = Field(default=8501, ge=0, le=65535)
    dashboard_password: SecretStr | None = None
    watch_file: str = "watch.toml"
    public_url: str = "http://127.0.0.1:8501"
    webhook_secret: SecretStr | None = None
    slack_webhook_url: SecretStr | None = None
    alert_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    alert_email_from: str = "flarewatch@localhost"
    alert_email_to: str = ""
    security_slack_webhook_url: SecretStr | None = None
    security_alert_webhook_url: SecretStr | None = None
    security_alert_email_to: str = ""
    require_approval: bool = False
    silence_limits: str = "SEV1=30,SEV2=60"
    mastodon_max_characters: int = Field(default=500, ge=1)
    user: str | None = None
    status_page_url: str | None = None
    outreach_per_minute: int = Field(default=20, ge=1)
    reply_spacing: str | None = None
    mastodon_reply_instance: str | None = None
    mastodon_visibility: str = "public"
    reddit_replies: str = "off"
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    handoff_webhook_url: SecretStr | None = None
    ticket_poll_minutes: int = Field(default=10, ge=0)
    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @field_validator(
        "dashboard_password",
        "webhook_secret",
        "slack_webhook_url",
        "alert_webhook_url",
        "handoff_webhook_url",
        "smtp_host",
        "smtp_user",
        "smtp_password",
        "security_slack_webhook_url",
        "security_alert_webhook_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_settings = InitSettingsSource(settings_cls, init_kwargs=_FILE_VALUES.get() or {})
        return (init_settings, env_settings, dotenv_settings, file_settings)

    def secret(self, name: str) -> str | None:
        """The plain value of secret setting `name`, or None when it is not set."""
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else value

    @property
    def email_recipients(self) -> tuple[str, ...]:
        """`alert_email_to` split into addresses."""
        return tuple(a.strip() for a in self.alert_email_to.split(",") if a.strip())

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with every credential masked, safe to print or log."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return redact(values)


SECRET_FIELDS = frozenset(
    name for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
)


def redact(values: dict[str, Any]) -> dict[str, Any]:
    """Mask secrets, values whose key names a secret, and credentials inside URLs, recursively."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = redact(value)
        elif isinstance(value, SecretStr):
            out[key] = REDACTED if value.get_secret_value() else None
        elif value and any(marker in key.lower() for marker in SECRET_MARKERS):
            out[key] = REDACTED
        elif isinstance(value, str) and "://" in value:
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out


def redact_url(url: str) -> str:
    """`url` with its password and every credential-looking query parameter masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user, has_password, _ = creds.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if has_password else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(k, REDACTED if _secret_key(k) else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secret_key(key: str) -> bool:
    return any(marker in key.lower() for marker in SECRET_MARKERS)


def _boolean(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"setting {name!r}: cannot read {raw!r} as true or false")


def read_config_file(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the `[flarewatch]` table (or top level) of a TOML config file; missing file → {}."""
    chosen = Path(path or os.environ.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_FILE))
    if not chosen.exists():
        if path is not None:
            raise ConfigError(f"config file not found: {chosen}")
        return {}
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {chosen}: {exc}") from exc
    table = data.get("flarewatch", data)
    values = dict(table) if isinstance(table, dict) else {}
    for name in sorted(SECRET_FIELDS & values.keys()):
        raise ConfigError(
            f"config file {chosen}: {name} is a secret; set {ENV_PREFIX}{name.upper()} "
            "in the environment or .env instead"
        )
    return values


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    *,
    dotenv: str | os.PathLike[str] | None = DEFAULT_DOTENV,
    **overrides: Any,
) -> Settings:
    """Build Settings with precedence: overrides > FLAREWATCH_* env > .env > config file > defaults.

    Settings are resolved again whenever the environment, `.env` or the config file changes
    (the dashboard asks on every rerun); otherwise the previous result is reused.

    Raises:
        ConfigError: naming the first setting that cannot be read.
    """
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    given = tuple(sorted((k, v) for k, v in overrides.items() if v is not None))
    chosen = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_FILE)
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    key = (os.getcwd(), str(chosen), config_file is not None, str(dotenv), given, env)
    stamp = (_stamp(chosen), _stamp(dotenv))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    settings = _resolve(config_file, dotenv, dict(given))
    _CACHE.clear()  # one entry: the settings of this process as they are now
    _CACHE[key] = (stamp, settings)
    return settings


_CACHE: dict[tuple[Any, ...], tuple[tuple[Any, ...], Settings]] = {}


def _stamp(path: str | os.PathLike[str] | None) -> tuple[int, int] | None:
    try:
        info = os.stat(path) if path else None
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if info else None


def _resolve(
    config_file: str | os.PathLike[str] | None,
    dotenv: str | os.PathLike[str] | None,
    given: dict[str, Any],
) -> Settings:
    file_values = read_config_file(config_file)
    known = {k: v for k, v in file_values.items() if k in Settings.model_fields}
    token = _FILE_VALUES.set(known)
    try:
        settings = Settings(_env_file=dotenv, **given)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None
    finally:
        _FILE_VALUES.reset(token)
    extra = {k: v for k, v in file_values.items() if k not in Settings.model_fields}
    return settings.model_copy(update={"extra": extra}) if extra else settings


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"]) or "settings"
    shown = REDACTED if name in SECRET_FIELDS else repr(error.get("input"))
    return f"setting {name!r} ({ENV_PREFIX}{name.upper()}): {error['msg']}, got {shown}"


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps a server reachable from this machine only."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def require_secret(name: str, env: dict[str, str] | None = None) -> str:
    """Return a credential from the environment or raise an error naming the variable."""
    environ = os.environ if env is None else env
    value = environ.get(name)
    if not value:
        raise ConfigError(
            f"missing credential: set the environment variable {name} (or put it in .env)"
        )
    return value


def streamlit_secret(
    name: str, path: str | os.PathLike[str] = ".streamlit/secrets.toml"
) -> str | None:
    """A top-level value of Streamlit's git-ignored secrets file, or None."""
    chosen = Path(path)
    if not chosen.exists():
        return None
    try:
        value = tomllib.loads(chosen.read_text(encoding="utf-8")).get(name)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: {exc}") from exc
    return str(value) if value else None
