"""The post-incident report rendered as Markdown (with a sparkline) or self-contained HTML."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from flarewatch.analysis.report import IncidentReport
from flarewatch.render.text import escape_markdown

SPARK = "▁▂▃▄▅▆▇█"


def volume_chart(report: IncidentReport) -> alt.LayerChart:
    """Negative posts per bucket with the incident's open and resolve times marked."""
    data = report.timeline[["negative"]].reset_index()
    data.columns = pd.Index(["bucket", "negative"])
    bars = (
        alt.Chart(data)
        .mark_bar(color="#d62728")
        .encode(x=alt.X("bucket:T", title=None), y=alt.Y("negative:Q", title="negative posts"))
    )
    marks = [
        {"at": report.incident[key], "event": label}
        for key, label in (("opened_at", "opened"), ("resolved_at", "resolved"))
        if report.incident.get(key) is not None
    ]
    rules = (
        alt.Chart(pd.DataFrame(marks, columns=["at", "event"]))
        .mark_rule(color="#1f77b4", strokeDash=[6, 3])
        .encode(x="at:T", tooltip=["event:N"])
    )
    return alt.LayerChart(layer=[bars, rules]).properties(width=640, height=220)


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """Render an Altair chart to inline SVG (vl-convert, offline)."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(chart.to_dict()))


def sparkline(values: pd.Series) -> str:
    """A one-line text chart of `values` for plain-text and Markdown reports."""
    top = float(values.max()) if len(values) else 0.0
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(7, int(v / top * 7))] for v in values)


def _fmt(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, timedelta):
        return str(pd.Timedelta(value).round("min"))
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _facts(report: IncidentReport) -> list[tuple[str, str]]:
    inc, summary = report.incident, report.summary
    return [
        ("Brand", _fmt(inc.get("brand"))),
        ("Severity", _fmt(inc.get("severity"))),
        ("Opened", _fmt(inc.get("opened_at"))),
        ("Resolved", _fmt(inc.get("resolved_at"))),
        ("Peak", f"{summary['peak_negative']} negative posts at {_fmt(summary['peak_at'])}"),
        ("Baseline", f"{_fmt(summary['baseline_negative'])} negative posts per bucket"),
        ("Back to baseline", _fmt(summary["time_to_baseline"]) + " after resolution"),
        ("Marketing", ("HOLD — " if report.posture.hold else "clear — ") + report.posture.reason),
    ]


def _outreach_line(report: IncidentReport) -> str:
    o = report.outreach
    return (
        f"{o['authors']} unhappy authors: {o['contacted']} contacted, "
        f"{o['followed_up']} followed up, {o['handed_off']} handed off, {o['resolved']} resolved, "
        f"{o['ignored']} ignored, {o['new']} still unanswered ({o['handled_share']:.0%} handled)."
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _answers_line(report: IncidentReport) -> str:
    a = report.answers
    if not a:
        return ""
    wait = a["median_minutes_to_first_answer"]
    return (
        f"Answered {a['answered_priority']} of {a['priority_authors']} priority authors "
        f"({_share(a['answered_share'])}); median time to first answer "
        f"{'—' if wait is None else f'{wait:.0f} min'}; {a['followed_up']} followed up. "
        f"Won back {a['recovered']} of {a['answered_authors']} answered "
        f"({_share(a['recovered_share'])}): {a['still_unhappy']} still unhappy, "
        f"{a['silent']} silent since."
    )


def update_lines(report: IncidentReport) -> list[str]:
    """Our public updates: first one, how many, cadence, longest silence."""
    u = report.updates
    if not u:
        return []
    return [
        f"Time to first public update: {_fmt(u['time_to_first_update'])}.",
        f"Public updates: {u['updates']}, median {_fmt(u['median_cadence'])} apart.",
        f"Longest silence: {_fmt(u['longest_silence'])}.",
    ]


def update_effects(report: IncidentReport) -> pd.DataFrame:
    """Negative share in the hour before and after each update."""
    rows = [
        (a["at"], _share(a["negative_share_before"]), _share(a["negative_share_after"]))
        for a in report.updates.get("around_updates", [])
    ]
    return pd.DataFrame(rows, columns=["update at", "negative share hour before", "hour after"])


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(escape_markdown(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(escape_markdown(_fmt(v)) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def render_markdown(report: IncidentReport, chart_path: str | None = None) -> str:
    """Render the report as Markdown; `chart_path` links a chart image written beside it."""
    esc = escape_markdown
    lines = [f"# Post-incident report: {esc(report.incident['title'])}", ""]
    lines += [f"- **{k}:** {esc(v)}" for k, v in _facts(report)]
    lines += ["", "## Negative volume", "", f"`{sparkline(report.timeline['negative'])}`", ""]
    if chart_path:
        lines += [f"![Negative posts per bucket]({chart_path})", ""]
    lines += [_md_table(report.phases.reset_index()), "", "## Themes", ""]
    for theme in report.themes:
        lines.append(f"- **{esc(theme.label)}** — {theme.size} posts ({theme.share:.0%})")
        lines += [f"  - “{esc(example)}”" for example in theme.examples[:2]]
    if report.updates:
        lines += ["", "## Our public updates", "", *update_lines(report), ""]
        effects = update_effects(report)
        lines += [_md_table(effects)] if len(effects) else []
    lines += ["", "## Outreach", "", esc(_outreach_line(report)), ""]
    if report.answers:
        lines += [esc(_answers_line(report)), ""]
    if len(report.unanswered):
        cols = ["priority", "platform", "handle", "followers", "reason", "latest_url"]
        lines += ["Still waiting for an answer:", "", _md_table(report.unanswered[cols])]
    return "\n".join(lines) + "\n"


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="—")


def render_html(report: IncidentReport) -> str:
    """Render the report as one self-contained HTML page (inline SVG chart, no scripts)."""
    esc = html.escape
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(report))
    themes = "".join(
        f"<li><b>{esc(t.label)}</b> — {t.size} posts ({t.share:.0%})<ul>"
        + "".join(f"<li>{esc(e)}</li>" for e in t.examples[:2])
        + "</ul></li>"
        for t in report.themes
    )
    cols = ["priority", "platform", "handle", "followers", "reason", "latest_url"]
    waiting = _html_table(report.unanswered[cols]) if len(report.unanswered) else "<p>None.</p>"
    updates = "".join(f"<p>{esc(line)}</p>" for line in update_lines(report))
    if report.updates and len(update_effects(report)):
        updates += _html_table(update_effects(report))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(str(report.incident["title"]))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}th,td{{padding:.25rem .6rem;text-align:left;border-bottom:1px solid #ddd}}</style>
</head><body>
<h1>Post-incident report: {esc(str(report.incident["title"]))}</h1>
<table>{facts}</table>
<h2>Negative volume</h2>
<figure>{chart_svg(volume_chart(report))}</figure>
{_html_table(report.phases.reset_index())}
<h2>Themes</h2><ul>{themes}</ul>
<h2>Our public updates</h2>{updates or "<p>None recorded.</p>"}
<h2>Outreach</h2><p>{esc(_outreach_line(report))}</p><p>{esc(_answers_line(report))}</p>
<h3>Still waiting for an answer</h3>{waiting}
</body></html>
"""
