"""Escaping of user-derived text (posts, handles, titles, brands) for Markdown and links."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

# Inline Markdown syntax: emphasis, code, links and images, tables, strikethrough, escapes.
_INLINE = re.compile(r"([\\`*_\[\]()!|~{}#])")
# Bare URLs and www. names become links in GitHub-flavoured Markdown (and in Streamlit).
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto)(:)|\b(www)(\.)")


def escape_markdown(value: Any) -> str:
    """`value` as literal text inside a Markdown line: no markup, raw HTML, links or images.

    Line breaks become spaces (a CR or LF could start a heading, list or table row), `&<>` become
    HTML entities, Markdown punctuation is backslash-escaped and bare URLs are kept from linking.
    """
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)
    text = _INLINE.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: f"{m[1] or m[3]}\\{m[2] or m[4]}", text)


def safe_link(url: Any) -> str | None:
    """`url` when it is an http(s) address worth linking to, else None (javascript:, data:, ...)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
