"""Resolve Flarewatch settings: arguments, then FLAREWATCH_* env, then a TOML file, then defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "FLAREWATCH_"
DEFAULT_CONFIG_FILE = "flarewatch.toml"
SECRET_MARKERS = ("secret", "key", "password", "token", "dsn")
REDACTED = "***"


class ConfigError(ValueError):
    """A setting is missing or cannot be parsed."""


@dataclass(frozen=True)
class Settings:
    """Every tunable of Flarewatch in one place.

    Args:
        database_url: SQLAlchemy URL; SQLite (WAL) by default, PostgreSQL via `postgresql+psycopg://`.
        model: `default` for the embedded MiniLM model, or any Hugging Face name or local path.
        model_languages: Languages the model is trusted on: ISO 639-1 codes, comma-separated,
            or `*` for any (a multilingual model). Posts in other languages are not scored.
        model_precision: CPU arithmetic for scoring: `auto` (bfloat16 where the CPU has it in
            hardware, else fp32), `fp32` or `bf16`.
        batch_size: Posts per scoring batch.
        bucket_minutes: Width of a timeline bucket.
        dashboard_address: Address the dashboard binds to.
        dashboard_port: Port the dashboard listens on.
        dashboard_password: Optional password for shared deployments (secret).
        watch_file: TOML file with brand terms and sources to collect.
        public_url: Where the dashboard is reachable, used for links in alerts.
        require_approval: Outbound drafts need a second user's approval before they are sent.
        silence_limits: Longest public silence per severity during an open incident before
            the "we are silent" alarm, in minutes (`SEV1=30,SEV2=60`; `off` for none).
        mastodon_max_characters: The Mastodon instance's post limit.
        user: Who is drafting or approving (defaults to the login name).
    """

    database_url: str = "sqlite:///flarewatch.db"
    model: str = "default"
    model_languages: str = "en"
    model_precision: str = "auto"
    batch_size: int = 32
    bucket_minutes: int = 15
    dashboard_address: str = "127.0.0.1"
    dashboard_port: int = 8501
    dashboard_password: str | None = None
    watch_file: str = "watch.toml"
    public_url: str = "http://127.0.0.1:8501"
    require_approval: bool = False
    silence_limits: str = "SEV1=30,SEV2=60"
    mastodon_max_characters: int = 500
    user: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def redacted(self) -> dict[str, Any]:
        """Return the settings as a dict with secret values masked, safe to print or log."""
        return redact(dataclasses.asdict(self))


def redact(values: dict[str, Any]) -> dict[str, Any]:
    """Mask values whose key names a secret, recursively."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = redact(value)
        elif value and any(marker in key.lower() for marker in SECRET_MARKERS):
            out[key] = REDACTED
        elif isinstance(value, str) and "://" in value and "@" in value:
            out[key] = _redact_url(value)
        else:
            out[key] = value
    return out


def _redact_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:{REDACTED}@{host}" if ":" in creds else url


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    if raw is None:
        return None
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (bool, "bool"):
            return _boolean(name, raw)
        return str(raw) if kind in (str, "str", "str | None") else raw
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot read {raw!r} as {kind}") from exc


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
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {chosen}: {exc}") from exc
    table = data.get("flarewatch", data)
    return dict(table) if isinstance(table, dict) else {}


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings with precedence: overrides > FLAREWATCH_* env > config file > defaults."""
    environ = os.environ if env is None else env
    file_values = read_config_file(config_file)
    known = {f.name: f for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}
    for name, spec in known.items():
        if overrides.get(name) is not None:
            values[name] = _coerce(name, overrides[name], spec.type)
        elif f"{ENV_PREFIX}{name.upper()}" in environ:
            values[name] = _coerce(name, environ[f"{ENV_PREFIX}{name.upper()}"], spec.type)
        elif name in file_values:
            values[name] = _coerce(name, file_values[name], spec.type)
    extra = {k: v for k, v in file_values.items() if k not in known}
    return Settings(**values, extra=extra)


def require_secret(name: str, env: dict[str, str] | None = None) -> str:
    """Return a credential from the environment or raise an error naming the variable."""
    environ = os.environ if env is None else env
    value = environ.get(name)
    if not value:
        raise ConfigError(
            f"missing credential: set the environment variable {name} (or put it in .env)"
        )
    return value
