"""Incident update templates: the incident's fields filled into the text each destination gets."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

# What a first public word says: what is wrong, what we are doing, when the next update comes.
DEFAULT_TEMPLATES = {
    "update": (
        "We are investigating {affected}. {doing} Next update by {next_update}. {status_url}"
    ),
    "resolved": "{affected} is working again. {doing} Thank you for your patience. {status_url}",
}
FIELDS = ("title", "brand", "severity", "affected", "doing", "next_update", "status_url")


class TemplateError(ValueError):
    """A template names a field that does not exist, or is malformed."""


def fields_in(template: str) -> list[str]:
    """The field names a template uses."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise TemplateError(f"template is malformed: {exc}") from None


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill `template`; an unknown field is an error, an empty one leaves no double spaces."""
    unknown = sorted(set(fields_in(template)) - set(FIELDS))
    if unknown:
        raise TemplateError(
            f"template field {unknown[0]!r} is unknown; expected one of {', '.join(FIELDS)}"
        )
    filled = template.format_map({name: str(values.get(name) or "") for name in FIELDS})
    return re.sub(r"[ \t]+", " ", filled).strip()
