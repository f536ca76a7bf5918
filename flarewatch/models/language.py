"""Which language a post is in, and whether a sentiment model covers it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flarewatch.models.text import preprocess

DEFAULT_LANGUAGES = ("en",)
ANY_LANGUAGE = "*"
MIN_CONFIDENCE = 0.5
# X marks posts it cannot place (undetermined, no text, hashtags or media only) with these codes.
NO_LANGUAGE = {"", "und", "zxx", "qme", "qht", "qam", "qst", "art"}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Return the post's ISO 639-1 language code, or None when it cannot be told.

    Args:
        text: Raw post text.
        hint: The platform's own language tag (e.g. X's `lang`, `en-US`), trusted when present.

    Returns:
        A two-letter code such as `en`, or None for undetermined, too short or unsure
        (below `MIN_CONFIDENCE`) texts.
    """
    tag = (hint or "").strip().lower().replace("_", "-").split("-")[0]
    if tag not in NO_LANGUAGE:
        return tag
    cleaned = preprocess(text).replace("@user", "").replace("http", "")
    if not cleaned.strip():
        return None
    language, confidence = _identifier().classify(cleaned)
    return str(language) if confidence >= MIN_CONFIDENCE else None


def is_covered(language: str | None, languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> bool:
    """Tell whether a model trained on `languages` should score a post in `language`.

    Unknown languages count as covered: short, emoji-only or brand-name-heavy posts are
    usually in the brand's main language, and dropping them would bias the rates more.
    """
    return language is None or ANY_LANGUAGE in languages or language in languages


def parse_languages(spec: str) -> tuple[str, ...]:
    """Parse a setting such as `en`, `en,es,fr` or `*` (any language) into a tuple of codes."""
    codes = tuple(c.strip().lower() for c in spec.split(",") if c.strip())
    if not codes:
        raise ValueError("model_languages: name at least one language code, or * for any")
    return codes


def model_languages(scorer: Any) -> tuple[str, ...]:
    """The languages a scorer declares (`languages` attribute), English by default."""
    return tuple(getattr(scorer, "languages", DEFAULT_LANGUAGES))
