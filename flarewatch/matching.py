"""Match brand mentions in post text: whole words and phrases, hashtags, handles and excludes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

EXCLUDE_MARK = "-"
# Scripts written without spaces between words: a Latin brand name can sit right next to them
# ("AWS障害", "AWS가"), and a term in them is found inside longer runs, as readers do.
UNSPACED_SCRIPTS = (
    "CJK",
    "HIRAGANA",
    "KATAKANA",
    "HALFWIDTH KATAKANA",
    "HANGUL",
    "THAI",
    "LAO",
    "KHMER",
    "MYANMAR",
)


def normalise(text: str) -> str:
    """Fold case and compatibility forms, so "ＡＷＳ", "Aws" and "aws" compare equal."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _wordlike(char: str) -> bool:
    # Combining marks belong to their word: "İ" folds to "i" plus a combining dot.
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def _unspaced(char: str) -> bool:
    return unicodedata.name(char, "").startswith(UNSPACED_SCRIPTS)


def _joins(neighbour: str, edge: str) -> bool:
    """Whether `neighbour` next to a mention's `edge` character makes them one longer word."""
    return _wordlike(neighbour) and not _unspaced(neighbour) and not _unspaced(edge)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Every whole-word occurrence of `pattern` in `text`, as (start, end)."""
    spans, pos = [], 0
    while (found := pattern.search(text, pos)) is not None:
        start, end = found.span()
        before = start > 0 and _joins(text[start - 1], text[start])
        after = end < len(text) and _joins(text[end], text[end - 1])
        if before or after or start == end:
            pos = start + 1
            continue
        spans.append((start, end))
        pos = end
    return spans


def _phrase(term: str) -> str:
    words = normalise(term).split()
    return r"\s+".join(re.escape(w) for w in words)


def _alternation(terms: Iterable[str]) -> re.Pattern[str] | None:
    phrases = sorted({p for p in (_phrase(t) for t in terms) if p}, key=len, reverse=True)
    if not phrases:
        return None
    return re.compile("|".join(phrases))


@dataclass(frozen=True)
class Matcher:
    """Whole-word, case-insensitive brand mentions; text inside an exclude phrase does not count.

    Args:
        terms: Words or phrases ("acme cloud" also matches "Acme  Cloud").
        handles: Account names, matched as "@name".
        hashtags: Tags, matched as "#tag".
        exclude: Phrases whose occurrences are ignored ("apple pie" for the brand "apple").
    """

    terms: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @cached_property
    def _mention(self) -> re.Pattern[str] | None:
        return _alternation(
            [
                *self.terms,
                *(f"@{h.lstrip('@')}" for h in self.handles),
                *(f"#{t.lstrip('#')}" for t in self.hashtags),
            ]
        )

    @cached_property
    def _exclude(self) -> re.Pattern[str] | None:
        return _alternation(self.exclude)

    def _remaining(self, text: str) -> tuple[str, bool]:
        folded = normalise(text)
        spans = _spans(self._exclude, folded) if self._exclude is not None else []
        for start, end in reversed(spans):
            folded = folded[:start] + " " + folded[end:]
        return folded, bool(spans)

    def matches(self, text: str) -> bool:
        """Whether `text` mentions the brand outside every exclude phrase."""
        if self._mention is None:
            return False
        kept, _ = self._remaining(text)
        return bool(_spans(self._mention, kept))

    def excluded(self, text: str) -> bool:
        """Whether `text` names an exclude phrase and mentions the brand nowhere else.

        For server-side searches, whose hits may match on fields other than the text: a post
        without an exclude phrase is never rejected here.
        """
        kept, had_exclude = self._remaining(text)
        return had_exclude and (self._mention is None or not _spans(self._mention, kept))

    def spec(self) -> str:
        """Terms and excludes as one string, `term|term|-exclude`, for a query key."""
        return "|".join([*self.terms, *(EXCLUDE_MARK + e for e in self.exclude)])

    @classmethod
    def from_spec(cls, spec: str) -> Matcher:
        """Read `term|term|-exclude` (what `spec` writes)."""
        parts = [p.strip() for p in spec.split("|") if p.strip()]
        exclude = tuple(p[1:].strip() for p in parts if p.startswith(EXCLUDE_MARK))
        terms = tuple(p for p in parts if not p.startswith(EXCLUDE_MARK))
        return cls(terms=terms, exclude=exclude)
