"""Storage: the typed schema, engine setup, migrations and every query Flarewatch runs."""

from flarewatch.storage.engine import make_engine, session_scope, upgrade

__all__ = ["make_engine", "session_scope", "upgrade"]
