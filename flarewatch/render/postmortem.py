"""The post-mortem rendered as Markdown (for a wiki and the report) or HTML; every written field escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flarewatch.analysis.memory import lead_sentence
from flarewatch.domain import PostMortem, TimelineEntry

# CommonMark lets a backslash escape any ASCII punctuation; these start links, emphasis, code,
# tables or raw HTML anywhere in a line.
MD_INLINE = re.compile(r"([\\`*_{}\[\]()<>|~!#])")
# These only mean something at the start of a line (lists, quotes, headings, rules).
MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


def md_escape(text: str | None) -> str:
    """Text a person wrote, made inert in Markdown: no links, HTML, emphasis or headings."""
    if not text:
        return ""
    lines = []
    for line in str(text).replace("&", "&amp;").splitlines():
        line = MD_INLINE.sub(r"\\\1", line)
        lines.append(MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "\n".join(lines)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "—"


def _block(text: str | None) -> str:
    escaped = md_escape(text)
    return escaped.replace("\n", "  \n") if escaped else "_Not written yet._"


def _roles(incident: dict[str, Any]) -> list[str]:
    return [
        f"- **Kind:** {md_escape(incident.get('kind') or 'service')}",
        f"- **Incident commander:** {md_escape(incident.get('commander')) or '—'}",
        f"- **Comms lead:** {md_escape(incident.get('comms_lead')) or '—'}",
    ]


def postmortem_sections(
    incident: dict[str, Any],
    postmortem: PostMortem,
    timeline: Sequence[TimelineEntry],
    lead: float | None,
    level: str = "##",
) -> list[str]:
    """The post-mortem's Markdown lines under headings of `level`."""
    lines = [*_roles(incident), "", f"{level} Who noticed first", "", lead_sentence(lead), ""]
    for title, name in (("Summary", "summary"), ("Impact", "impact")):
        lines += [f"{level} {title}", "", _block(getattr(postmortem, name)), ""]
    lines += [f"{level} Timeline", ""]
    lines += [f"- {_when(e.at)} — {md_escape(e.event)} ({e.source})" for e in timeline]
    for title, name in (("Root cause", "root_cause"), ("Fix", "fix")):
        lines += ["", f"{level} {title}", "", _block(getattr(postmortem, name))]
    lines += ["", f"{level} Follow-up actions", ""]
    lines += [
        f"- [{'x' if f.done else ' '}] {md_escape(f.action)} — owner: "
        f"{md_escape(f.owner) or '—'}, due: {f'{f.due:%Y-%m-%d}' if f.due else '—'}"
        for f in postmortem.follow_ups
    ] or ["_None yet._"]
    return lines


def postmortem_markdown(
    incident: dict[str, Any],
    postmortem: PostMortem,
    timeline: Sequence[TimelineEntry],
    lead: float | None,
) -> str:
    """A whole blameless post-mortem as a Markdown page for a wiki."""
    head = [
        f"# Post-mortem: {md_escape(incident['title'])}",
        "",
        "_Blameless: this describes systems and decisions, not people._",
        "",
        f"- **Brand:** {md_escape(incident.get('brand')) or '—'}",
        f"- **Severity:** {md_escape(incident.get('severity'))}",
        f"- **Opened:** {_when(incident.get('opened_at'))}",
        f"- **Resolved:** {_when(incident.get('resolved_at'))}",
    ]
    return "\n".join(head + postmortem_sections(incident, postmortem, timeline, lead)) + "\n"


def _html_text(text: str | None) -> str:
    if not text:
        return "<p><i>Not written yet.</i></p>"
    return "".join(f"<p>{html.escape(p)}</p>" for p in str(text).split("\n\n"))


def postmortem_html(
    incident: dict[str, Any],
    postmortem: PostMortem,
    timeline: Sequence[TimelineEntry],
    lead: float | None,
) -> str:
    """The post-mortem as an HTML fragment (every field escaped) for the HTML report."""
    esc = html.escape
    roles = (
        f"<p>Kind: {esc(incident.get('kind') or 'service')} · Incident commander: "
        f"{esc(incident.get('commander') or '—')} · Comms lead: "
        f"{esc(incident.get('comms_lead') or '—')}</p>"
    )
    parts = [roles, f"<h3>Who noticed first</h3><p>{esc(lead_sentence(lead))}</p>"]
    for title, name in (("Summary", "summary"), ("Impact", "impact")):
        parts.append(f"<h3>{title}</h3>{_html_text(getattr(postmortem, name))}")
    items = "".join(
        f"<li>{esc(_when(e.at))} — {esc(e.event)} ({esc(e.source)})</li>" for e in timeline
    )
    parts.append(f"<h3>Timeline</h3><ul>{items}</ul>")
    for title, name in (("Root cause", "root_cause"), ("Fix", "fix")):
        parts.append(f"<h3>{title}</h3>{_html_text(getattr(postmortem, name))}")
    actions = "".join(
        f"<li>{'☑' if f.done else '☐'} {esc(f.action)} — owner: {esc(f.owner or '—')}, "
        f"due: {f'{f.due:%Y-%m-%d}' if f.due else '—'}</li>"
        for f in postmortem.follow_ups
    )
    parts.append(f"<h3>Follow-up actions</h3><ul>{actions or '<li>None yet.</li>'}</ul>")
    return "\n".join(parts)
