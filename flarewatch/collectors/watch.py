"""Read the watch file (brands, terms, sources) and the credentials the sources need."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flarewatch.config import ConfigError
from flarewatch.matching import Matcher

SOURCES = (
    "x",
    "reddit",
    "mastodon",
    "bluesky",
    "hackernews",
    "bluesky_stream",
    "mastodon_stream",
    "x_stream",
)
# Sources that listen to a live stream instead of polling on an interval.
STREAM_SOURCES = ("bluesky_stream", "mastodon_stream", "x_stream")
# Where a brand speaks for itself: its own account on each platform, and its Statuspage page.
OWN_ACCOUNT_KEYS = ("x", "mastodon", "bluesky", "statuspage")
DEFAULT_INTERVALS = {
    "x": 900,
    "reddit": 300,
    "mastodon": 300,
    "bluesky": 300,
    "hackernews": 600,
    "bluesky_stream": 0,
    "mastodon_stream": 0,
    # The filtered stream's fallback: polled this often when X refuses the stream.
    "x_stream": 900,
}
CREDENTIAL_VARS = (
    "X_BEARER_TOKEN",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD",
    # Publishing (flarewatch.actions): the brand's own accounts.
    "X_API_KEY",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "BLUESKY_PUBLISH_APP_PASSWORD",
    "STATUSPAGE_API_KEY",
)
MASTODON_TOKEN_PREFIX = "MASTODON_TOKEN_"


@dataclass(frozen=True)
class Brand:
    """A brand to watch and the words that mention it."""

    name: str
    terms: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # Platform -> our own account: X username, Mastodon user@instance, Bluesky handle,
    # Statuspage page id.
    own: Mapping[str, str] = field(default_factory=dict)

    def matcher(self) -> Matcher:
        """The one brand matcher, for every filter applied on our side."""
        return Matcher(self.terms, self.handles, self.hashtags, self.exclude)

    def own_handle(self, platform: str) -> str | None:
        """Our account on `platform` as its posts' author handle reads, lower-cased."""
        account = self.own.get(platform)
        return account.lstrip("@").lower() if account else None


@dataclass(frozen=True)
class SourceConfig:
    """One source's settings from the watch file."""

    name: str
    interval: float
    max_pages: int = 5
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One query a source runs for one brand; `key` is also the cursor's name."""

    source: str
    key: str
    brand: str
    matcher: Matcher = field(default_factory=Matcher, compare=False)
    # The brand's own account on this source: its posts are stored as ours, never as sentiment.
    own_handle: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Watch:
    """What to watch and where."""

    brands: tuple[Brand, ...]
    sources: Mapping[str, SourceConfig]

    def queries(self, source: str) -> list[Query]:
        """List the queries `source` runs, one or more per brand."""
        config = self.sources[source]
        build = QUERY_BUILDERS[source]
        return [
            Query(source, key, b.name, b.matcher(), b.own_handle(source))
            for b in self.brands
            for key in build(b, config.options)
        ]


def _quote(term: str) -> str:
    return f'"{term}"' if " " in term else term


def x_parts(brand: Brand) -> list[str]:
    """The brand's X search terms: each term, mention and hashtag, to be OR-ed."""
    parts = [_quote(t) for t in brand.terms] + [f"@{h}" for h in brand.handles]
    return parts + [f"#{t}" for t in brand.hashtags]


def x_suffix(brand: Brand, options: Mapping[str, Any]) -> str:
    """What every X query of the brand ends with: its excludes and the filter (no retweets)."""
    return " ".join([*(f'-"{e}"' for e in brand.exclude), options.get("filter", "-is:retweet")])


def x_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """One X search per brand: every term, mention and hashtag, retweets excluded."""
    parts, suffix = x_parts(brand), x_suffix(brand, options)
    keys = [f"({' OR '.join(parts)}) {suffix}".strip()] if parts else []
    own = brand.own_handle("x")
    return [*keys, f"from:{own} -is:retweet"] if own else keys


def reddit_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """A submission search per brand, and a scan of new comments when enabled."""
    search = " OR ".join(_quote(t) for t in brand.terms)
    if search and brand.exclude:
        search = f"({search}) " + " ".join(f'NOT "{e}"' for e in brand.exclude)
    keys = [search] if search else []
    if options.get("comments", True) and brand.terms:
        keys.append("comments:" + Matcher(brand.terms, exclude=brand.exclude).spec())
    return keys


def mastodon_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """Per instance: each hashtag timeline, plus term searches when `search` is on."""
    keys = []
    for instance in options.get("instances", []):
        keys += [f"#{tag}@{instance}" for tag in brand.hashtags]
        if options.get("search", False):
            keys += [f"{term}@{instance}" for term in brand.terms]
    own = brand.own_handle("mastodon")
    # Our own account's statuses, read from its home instance.
    return [*keys, f"from:{own}"] if own else keys


def mastodon_stream_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """Per instance: each hashtag stream, and the public or local timeline when asked for.

    A timeline's key is the same for every brand: one connection, matched on our side.
    """
    keys = []
    for instance in options.get("instances", []):
        keys += [f"#{tag}@{instance}" for tag in brand.hashtags]
        keys += [f"timeline:{t}@{instance}" for t in options.get("timelines", [])]
    return keys


def term_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """One query per term (Hacker News search has no OR)."""
    return [_quote(t) for t in brand.terms]


def bluesky_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """One search per term and hashtag, and our own account's posts."""
    keys = [_quote(t) for t in brand.terms] + [f"#{t}" for t in brand.hashtags]
    own = brand.own_handle("bluesky")
    return [*keys, f"from:{own}"] if own else keys


def stream_queries(brand: Brand, options: Mapping[str, Any]) -> list[str]:
    """A stream is filtered on our side: one matcher per brand."""
    return [brand.matcher().spec()] if brand.terms or brand.handles or brand.hashtags else []


QUERY_BUILDERS: dict[str, Callable[[Brand, Mapping[str, Any]], list[str]]] = {
    "x": x_queries,
    "reddit": reddit_queries,
    "mastodon": mastodon_queries,
    "bluesky": bluesky_queries,
    "hackernews": term_queries,
    "bluesky_stream": stream_queries,
    "mastodon_stream": mastodon_stream_queries,
    "x_stream": x_queries,
}


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _brand(table: Mapping[str, Any], index: int) -> Brand:
    where = f"watch file: brands[{index}]"
    if not isinstance(table.get("name"), str):
        raise ConfigError(f"{where}: name is required")
    return Brand(
        table["name"],
        _strings(table, "terms", where),
        tuple(h.lstrip("@") for h in _strings(table, "handles", where)),
        tuple(t.lstrip("#") for t in _strings(table, "hashtags", where)),
        _strings(table, "exclude", where),
        _own(table.get("own", {}), where),
    )


def _own(table: Any, where: str) -> dict[str, str]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: own must be a table of platform = account")
    for key, value in table.items():
        if key not in OWN_ACCOUNT_KEYS or not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{where}: own.{key}: expected an account name for one of "
                f"{', '.join(OWN_ACCOUNT_KEYS)}"
            )
    if "mastodon" in table and "@" not in table["mastodon"].lstrip("@"):
        raise ConfigError(f"{where}: own.mastodon: expected user@instance")
    return {k: v.strip() for k, v in table.items()}


def _source(name: str, table: Mapping[str, Any]) -> SourceConfig:
    if name not in SOURCES:
        raise ConfigError(
            f"watch file: unknown source {name!r}; expected one of {', '.join(SOURCES)}"
        )
    options = {k: v for k, v in table.items() if k not in ("interval", "max_pages", "enabled")}
    try:
        interval = float(table.get("interval", DEFAULT_INTERVALS[name]))
        max_pages = int(table.get("max_pages", 5))
    except (TypeError, ValueError):
        raise ConfigError(
            f"watch file: sources.{name}: interval and max_pages must be numbers"
        ) from None
    return SourceConfig(name, interval, max_pages, options)


def parse_watch(data: Mapping[str, Any]) -> Watch:
    """Build a Watch from parsed TOML; sources with `enabled = false` are left out."""
    brands = tuple(_brand(t, i) for i, t in enumerate(data.get("brands", [])))
    if not brands:
        raise ConfigError("watch file: add at least one [[brands]] table with a name and terms")
    tables = data.get("sources", {})
    sources = {n: _source(n, t) for n, t in tables.items() if t.get("enabled", True)}
    return Watch(brands, sources)


def load_watch(path: str | os.PathLike[str]) -> Watch:
    """Read and validate a watch file."""
    chosen = Path(path)
    if not chosen.exists():
        raise ConfigError(f"watch file not found: {chosen} (copy watch.example.toml to start)")
    try:
        return parse_watch(tomllib.loads(chosen.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"watch file {chosen}: {exc}") from exc


def read_dotenv(path: str | os.PathLike[str] = ".env") -> dict[str, str]:
    """Read KEY=VALUE lines of a git-ignored .env file; a missing file is empty."""
    chosen = Path(path)
    if not chosen.exists():
        return {}
    values = {}
    for line in chosen.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and key and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def credentials(
    env: Mapping[str, str] | None = None, dotenv: str | None = ".env"
) -> dict[str, str]:
    """Merge .env under the real environment (the environment wins)."""
    base = read_dotenv(dotenv) if dotenv else {}
    return {**base, **(os.environ if env is None else env)}


def mastodon_token_var(instance: str) -> str:
    """Name of the environment variable holding the access token for `instance`."""
    return MASTODON_TOKEN_PREFIX + re.sub(r"[^A-Z0-9]", "_", instance.upper())


def scrub(text: str, env: Mapping[str, str]) -> str:
    """Replace every credential value found in `text` by a placeholder naming its variable."""
    for name, value in env.items():
        is_secret = name in CREDENTIAL_VARS or name.startswith(MASTODON_TOKEN_PREFIX)
        if is_secret and value and len(value) >= 4:
            text = text.replace(value, f"<{name}>")
    return text
