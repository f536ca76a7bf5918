"""Command-line interface: one module per command group, each command a thin call into flarewatch.api."""

from flarewatch.cli import admin, collect, incident, label, model, outreach, spikes, update
from flarewatch.cli.base import cli

__all__ = [
    "admin",
    "cli",
    "collect",
    "incident",
    "label",
    "main",
    "model",
    "outreach",
    "spikes",
    "update",
]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="flarewatch")
