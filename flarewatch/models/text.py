"""One text normalisation for every platform's posts, shared by training and scoring."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import emoji

_ESCAPE_RUN = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
_BYTE_RUN = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+(?:@[\w.-]+\w)?")  # @user and Mastodon's @user@host
_MASK = re.compile(r"\[([A-Z]{2,})\]")  # GoEmotions-style anonymisation: [NAME], [RELIGION]
_TAG = re.compile(r"</?(?:p|br|span|a|div|strong|em|b|i|u|code|pre)\b[^>]*>", re.IGNORECASE)
_INVISIBLE = re.compile("[\ufeff\u200b-\u200d\u2060\ue000-\uf8ff]")  # BOM, zero-width, private use


def decode_escapes(text: str) -> str:
    """Decode literal `\\uXXXX` escapes (UTF-16 pairs joined) and `\\xNN` UTF-8 byte runs.

    Args:
        text: Text that may hold escapes such as `\\u2019`, `\\ud83d\\ude21` or `\\xEF\\xBB\\xBF`.

    Returns:
        The text with every escape run replaced by the characters it encodes.
    """
    text = _ESCAPE_RUN.sub(_decode_run, text)
    return _BYTE_RUN.sub(_decode_bytes, text)


def _decode_run(match: re.Match[str]) -> str:
    chars = "".join(chr(int(code, 16)) for code in _HEX4.findall(match.group(0)))
    return chars.encode("utf-16", "surrogatepass").decode("utf-16", errors="replace")


def _decode_bytes(match: re.Match[str]) -> str:
    raw = bytes(int(pair, 16) for pair in match.group(0).split("\\x")[1:])
    return raw.decode("utf-8", errors="ignore")


def _emoji_words(chars: str, data: dict[str, Any]) -> str:
    # MiniLM's WordPiece vocabulary has no emoji, so spell them out as plain words.
    return " " + data["en"].strip(":").replace("_", " ") + " "


def _mask_word(match: re.Match[str]) -> str:
    # A masked person is what a mention is on Twitter; other masks become their plain word.
    return "@user" if match.group(1) == "NAME" else match.group(1).lower()


def preprocess(text: str, content_warning: str | None = None) -> str:
    """Normalise one post from any platform into the form the model was trained on.

    Mentions (`@a`, `@a@host`) → `@user`; links → `http`; `[NAME]` masks → `@user`, other
    `[MASK]`s → their word; literal `\\uXXXX`/`\\xNN` escapes decoded; HTML tags dropped and
    entities unescaped exactly once; emoji spelled out as words; a Mastodon content warning
    is put in front of the text; whitespace collapsed.

    Args:
        text: Raw post text.
        content_warning: The post's content warning (Mastodon `spoiler_text`), if any.

    Returns:
        The cleaned text.
    """
    if content_warning and content_warning.strip():
        text = f"{content_warning.strip()}: {text}"
    text = html.unescape(_TAG.sub(" ", decode_escapes(text)))
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    text = _MASK.sub(_mask_word, text)
    if not text.isascii():  # emoji are never ASCII; the scan costs 5% of scoring time
        text = emoji.replace_emoji(_INVISIBLE.sub("", text), replace=_emoji_words)
    return " ".join(text.split())


def preprocess_all(texts: Iterable[str]) -> list[str]:
    """Apply `preprocess` to every text, in order."""
    return [preprocess(t) for t in texts]
