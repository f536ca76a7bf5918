"""Match brand mentions in post text: whole words and phrases, hashtags, handles and excludes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

# A mention must not continue a word on either side; `#` and `@` do not count as word characters,
# so "#AWS" and "@aws" mention "aws", while "laws" and "awsome" do not.
_BEFORE = r"(?<![\w])"
_AFTER = r"(?![\w])"
EXCLUDE_MARK = "-"


def normalise(text: str) -> str:
    """Fold case and compatibility forms, so "ＡＷＳ", "Aws" and "aws" compare equal."""
    return unicodedata.normalize("NFKC", text).casefold()


def _phrase(term: str) -> str:
    words = normalise(term).split()
    return r"\s+".join(re.escape(w) for w in words)


def _alternation(terms: Iterable[str]) -> re.Pattern[str] | None:
    phrases = sorted({p for p in (_phrase(t) for t in terms) if p}, key=len, reverse=True)
    if not phrases:
        return None
    return re.compile(f"{_BEFORE}(?:{'|'.join(phrases)}){_AFTER}")


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
        if self._exclude is None:
            return folded, False
        kept, hits = self._exclude.subn(" ", folded)
        return kept, hits > 0

    def matches(self, text: str) -> bool:
        """Whether `text` mentions the brand outside every exclude phrase."""
        if self._mention is None:
            return False
        kept, _ = self._remaining(text)
        return self._mention.search(kept) is not None

    def excluded(self, text: str) -> bool:
        """Whether `text` names an exclude phrase and mentions the brand nowhere else.

        For server-side searches, whose hits may match on fields other than the text: a post
        without an exclude phrase is never rejected here.
        """
        kept, had_exclude = self._remaining(text)
        return had_exclude and (self._mention is None or self._mention.search(kept) is None)

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
