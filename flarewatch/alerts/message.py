"""What an alert says: counts, baseline, themes, sample posts and a dashboard link."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class Alert:
    """One spike, or a source gone silent (`kind` "silence"), worth telling people about."""

    brand: str | None
    title: str
    started_at: datetime
    detected_at: datetime
    observed: int
    baseline: float
    ratio: float
    severity: float
    early_warning: bool
    dashboard_url: str
    themes: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    event_id: int | None = None
    # Past incidents of the brand most like this spike: id, title, score, root cause, fix.
    matches: list[dict[str, Any]] = field(default_factory=list)
    # Links that mark this alert useful or noise on the dashboard (for alert precision).
    feedback_urls: dict[str, str] = field(default_factory=dict)
    # "spike", or "silence" when the brand has gone quiet during an incident.
    kind: str = "spike"
    # Replaces the counts line when the alert is not about a spike's counts.
    summary: str | None = None


def dashboard_link(base_url: str, brand: str | None, at: datetime) -> str:
    """Link to the dashboard's live view of `brand` around `at`."""
    query = {"brand": brand or "", "at": at.isoformat()}
    return f"{base_url.rstrip('/')}/?{urlencode(query)}"


def feedback_link(base_url: str, event_id: int, verdict: str) -> str:
    """Link that records, on the dashboard, whether an alert was useful or noise."""
    return f"{base_url.rstrip('/')}/?{urlencode({'alert': event_id, 'feedback': verdict})}"


def alert_from_event(event: dict[str, Any], base_url: str, samples: list[dict[str, Any]]) -> Alert:
    """Build an alert from a stored spike event row and a few of its negative posts."""
    kind = "Possible incident" if event["early_warning"] else "Negative spike"
    return Alert(
        brand=event["brand"],
        title=f"{kind}: {event['brand'] or 'all brands'}",
        started_at=event["started_at"],
        detected_at=event["detected_at"],
        observed=int(event["observed"]),
        baseline=float(event["baseline"]),
        ratio=float(event["ratio"]),
        severity=float(event["severity"]),
        early_warning=bool(event["early_warning"]),
        dashboard_url=dashboard_link(base_url, event["brand"], event["started_at"]),
        themes=[t["label"] for t in event.get("themes") or []],
        samples=[{"text": s.get("text"), "url": s.get("url")} for s in samples],
        event_id=event.get("id"),
        matches=[
            {k: m.get(k) for k in ("incident_id", "title", "score", "root_cause", "fix")}
            for m in event.get("matches") or []
        ],
        feedback_urls={
            verdict: feedback_link(base_url, int(event["id"]), verdict)
            for verdict in ("useful", "noise")
            if event.get("id") is not None
        },
    )


def _clip(text: str | None, limit: int = 200) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def match_lines(alert: Alert) -> list[str]:
    """One line per similar past incident: title, similarity, root cause and fix."""
    return [
        f"#{m['incident_id']} {_clip(m['title'], 120)} (similarity {float(m['score']):.2f}) — "
        f"root cause: {_clip(m['root_cause']) or 'not written'}; fix: {_clip(m['fix']) or 'not written'}"
        for m in alert.matches
    ]


def summary_line(alert: Alert) -> str:
    """One line: counts against baseline and severity (or the alert's own summary)."""
    if alert.summary:
        return alert.summary
    return (
        f"{alert.observed} people posting negatively per bucket vs baseline {alert.baseline:.1f} "
        f"({alert.ratio:.1f}×), severity {alert.severity:.0f}/100, since "
        f"{alert.started_at:%Y-%m-%d %H:%M} UTC"
    )


def _mrkdwn_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack incoming-webhook body (`text` fallback plus Block Kit sections)."""
    lines = [f"*{_mrkdwn_escape(alert.title)}*", _mrkdwn_escape(summary_line(alert))]
    if alert.themes:
        lines.append("Themes: " + _mrkdwn_escape(", ".join(alert.themes)))
    if alert.matches:
        lines.append("*Seen before?*")
        lines += ["• " + _mrkdwn_escape(line) for line in match_lines(alert)]
    samples = [f"> {_mrkdwn_escape(str(s['text']))[:280]}" for s in alert.samples]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    if samples:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(samples)}})
    links = [f"<{alert.dashboard_url}|Open dashboard>"]
    links += [f"<{url}|Mark {verdict}>" for verdict, url in alert.feedback_urls.items()]
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(links)}})
    # The fallback is mrkdwn too: an unescaped `<!channel>` in a brand would ping everyone.
    fallback = _mrkdwn_escape(f"{alert.title}: {summary_line(alert)}")
    return {"text": fallback, "blocks": blocks}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """Generic JSON webhook body: every alert field, times as ISO 8601."""
    body = asdict(alert)
    body["started_at"] = alert.started_at.isoformat()
    body["detected_at"] = alert.detected_at.isoformat()
    return {"type": f"flarewatch.{alert.kind}", "alert": body}


def email_message(alert: Alert, sender: str, recipients: list[str]) -> EmailMessage:
    """Plain-text email of the alert."""
    message = EmailMessage()
    # One line: a CR or LF in a brand would otherwise be refused as header injection.
    message["Subject"] = " ".join(f"[Flarewatch] {alert.title}".split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    body = [summary_line(alert), ""]
    if alert.themes:
        body += ["Themes: " + ", ".join(alert.themes), ""]
    if alert.matches:
        body += ["Seen before?", *(f"- {line}" for line in match_lines(alert)), ""]
    body += [f"- {s['text']} ({s['url'] or 'no link'})" for s in alert.samples]
    body += ["", f"Dashboard: {alert.dashboard_url}"]
    body += [f"Mark {verdict}: {url}" for verdict, url in alert.feedback_urls.items()]
    message.set_content("\n".join(body))
    return message
