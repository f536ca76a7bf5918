"""TweetEval-style text preprocessing shared by training and inference."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import emoji

_ESCAPE_RUN = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")


def decode_escapes(text: str) -> str:
    """Decode literal `\\uXXXX` escapes, joining UTF-16 surrogate pairs into one character.

    Args:
        text: Text that may hold escapes such as `\\u2019` or `\\ud83d\\ude21`.

    Returns:
        The text with every escape run replaced by the characters it encodes.
    """
    return _ESCAPE_RUN.sub(_decode_run, text)


def _decode_run(match: re.Match[str]) -> str:
    chars = "".join(chr(int(code, 16)) for code in _HEX4.findall(match.group(0)))
    return chars.encode("utf-16", "surrogatepass").decode("utf-16", errors="replace")


def _emoji_words(chars: str, data: dict[str, Any]) -> str:
    # MiniLM's WordPiece vocabulary has no emoji, so spell them out as plain words.
    return " " + data["en"].strip(":").replace("_", " ") + " "


def preprocess(text: str) -> str:
    """Normalise one post the way TweetEval was: `@user`, `http`, decoded escapes, emoji as words.

    Args:
        text: Raw post text.

    Returns:
        The cleaned text with whitespace collapsed.
    """
    text = html.unescape(decode_escapes(text))
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    if not text.isascii():  # emoji are never ASCII; the scan costs 5% of scoring time
        text = emoji.replace_emoji(text, replace=_emoji_words)
    return " ".join(text.split())


def preprocess_all(texts: Iterable[str]) -> list[str]:
    """Apply `preprocess` to every text, in order."""
    return [preprocess(t) for t in texts]
