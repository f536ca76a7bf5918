"""Fixtures shared with the dashboard tests."""

from tests.dashboard.conftest import seeded_url  # noqa: F401 (a fixture, used by name)
