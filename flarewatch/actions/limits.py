"""How long a post may be on each platform, measured the platform's way, and splitting into threads."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import regex

# X's weighted length (twitter-text configuration v3): code points in these ranges weigh 1,
# every other code point 2, an emoji sequence 2, a URL always 23; the limit is 280.
X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
X_URL_LENGTH = 23
X_LIMIT = 280
BLUESKY_LIMIT = 300
MASTODON_DEFAULT_LIMIT = 500
MASTODON_URL_LENGTH = 23
# A Statuspage incident update is one text; no documented limit short enough to split on.
STATUSPAGE_LIMIT: int | None = None

URL = regex.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]")
EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
GRAPHEME = regex.compile(r"\X")
MASTODON_MENTION = regex.compile(r"(@[\w.-]+)@[\w.-]+\w")
THREAD_MARK = " ({i}/{n})"


class TooLongError(ValueError):
    """A text is longer than its destination takes and may not be split into a thread."""


def _x_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in X_LIGHT_RANGES) else 2


def _x_plain(text: str) -> int:
    total = 0
    for grapheme in GRAPHEME.findall(text):
        total += 2 if EMOJI.search(grapheme) else sum(_x_weight(c) for c in grapheme)
    return total


def x_length(text: str) -> int:
    """X's weighted length: most Latin text 1 per character, CJK and emoji 2, any URL 23."""
    text = unicodedata.normalize("NFC", text)
    total, last = 0, 0
    for match in URL.finditer(text):
        total += _x_plain(text[last : match.start()]) + X_URL_LENGTH
        last = match.end()
    return total + _x_plain(text[last:])


def graphemes(text: str) -> int:
    """User-perceived characters (Bluesky's limit is 300 of them)."""
    return len(GRAPHEME.findall(unicodedata.normalize("NFC", text)))


def mastodon_length(text: str) -> int:
    """Mastodon's count: characters, a URL as 23, a remote mention as its local part."""
    text = URL.sub("x" * MASTODON_URL_LENGTH, text)
    return len(MASTODON_MENTION.sub(r"\1", text))


@dataclass(frozen=True)
class Limit:
    """One destination's rule: how to measure a text and the most it may measure."""

    destination: str
    measure: Callable[[str], int]
    limit: int | None
    unit: str
    threads: bool = True

    def fits(self, text: str) -> bool:
        """Whether `text` may go out as one post."""
        return self.limit is None or self.measure(text) <= self.limit

    def check(self, text: str) -> None:
        """Raise TooLongError naming the destination when `text` does not fit in one post."""
        if not self.fits(text):
            raise TooLongError(
                f"{self.destination}: text is {self.measure(text)} {self.unit}, "
                f"at most {self.limit} allowed"
            )


def limit_for(destination: str, *, mastodon_limit: int = MASTODON_DEFAULT_LIMIT) -> Limit:
    """The length rule of `destination` (x, bluesky, mastodon with its instance's limit, statuspage)."""
    if destination == "x":
        return Limit("x", x_length, X_LIMIT, "weighted characters")
    if destination == "bluesky":
        return Limit("bluesky", graphemes, BLUESKY_LIMIT, "graphemes")
    if destination == "mastodon":
        return Limit("mastodon", mastodon_length, mastodon_limit, "characters")
    if destination == "statuspage":
        return Limit("statuspage", len, STATUSPAGE_LIMIT, "characters", threads=False)
    raise ValueError(f"unknown destination {destination!r}")


def _cut(word: str, rule: Limit, room: int) -> tuple[str, str]:
    """The longest head of `word` that measures at most `room`, and the rest."""
    pieces = GRAPHEME.findall(word)
    head = ""
    for i, piece in enumerate(pieces):
        if rule.measure(head + piece) > room:
            return head, "".join(pieces[i:])
        head += piece
    return head, ""


def _pack(words: list[str], rule: Limit, room: int) -> list[str]:
    parts: list[str] = []
    current = ""
    queue = list(words)
    while queue:
        word = queue.pop(0)
        candidate = f"{current} {word}" if current else word
        if rule.measure(candidate) <= room:
            current = candidate
        elif current:
            parts.append(current)
            current = ""
            queue.insert(0, word)
        else:
            head, rest = _cut(word, rule, room)
            parts.append(head)
            queue.insert(0, rest)
    return [*parts, current] if current else parts


def split_thread(text: str, rule: Limit) -> list[str]:
    """`text` as one post when it fits, else a thread of parts marked " (i/n)", words kept whole.

    Raises TooLongError when the destination takes no threads (a Statuspage update).
    """
    text = text.strip()
    if not text:
        raise ValueError(f"{rule.destination}: text is empty")
    if rule.fits(text):
        return [text]
    if not rule.threads or rule.limit is None:
        rule.check(text)
    assert rule.limit is not None
    count = 2
    while True:
        mark = THREAD_MARK.format(i=count, n=count)
        parts = _pack(text.split(), rule, rule.limit - rule.measure(mark))
        if len(parts) <= count:
            return [p + THREAD_MARK.format(i=i, n=len(parts)) for i, p in enumerate(parts, 1)]
        count = len(parts)
