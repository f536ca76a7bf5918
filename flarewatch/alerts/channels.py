"""Deliver alerts: Slack incoming webhook and generic webhook over httpx, email over SMTP."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import httpx

from flarewatch.alerts.message import Alert, email_message, slack_payload, webhook_payload
from flarewatch.config import Settings, load_settings

TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go; every destination is optional.

    Args:
        slack_webhook_url: Slack incoming-webhook URL (secret).
        webhook_url: Any URL that accepts a JSON POST (secret if it embeds a token).
        smtp_host: SMTP server for email alerts.
        smtp_port: Its port.
        smtp_user: Login, if the server wants one.
        smtp_password: Password (secret).
        smtp_starttls: Upgrade the connection with STARTTLS before logging in.
        email_from: Sender address.
        email_to: Recipient addresses.
    """

    slack_webhook_url: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    email_from: str = "flarewatch@localhost"
    email_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertSettings:
        """The destinations of resolved settings (`FLAREWATCH_SLACK_WEBHOOK_URL` and so on)."""
        return cls(
            slack_webhook_url=settings.secret("slack_webhook_url"),
            webhook_url=settings.secret("alert_webhook_url"),
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_user=settings.smtp_user,
            smtp_password=settings.secret("smtp_password"),
            smtp_starttls=settings.smtp_starttls,
            email_from=settings.alert_email_from,
            email_to=settings.email_recipients,
        )

    @classmethod
    def from_env(cls) -> AlertSettings:
        """The destinations as configured now (arguments > env > .env > file > defaults)."""
        return cls.from_settings(load_settings())

    @property
    def any(self) -> bool:
        """Whether at least one destination is configured."""
        return bool(
            self.slack_webhook_url or self.webhook_url or (self.smtp_host and self.email_to)
        )


def send_slack(url: str, alert: Alert, client: httpx.Client | None = None) -> None:
    """Post the alert to a Slack incoming webhook; raises httpx.HTTPError on failure."""
    _post(url, slack_payload(alert), client)


def send_webhook(url: str, alert: Alert, client: httpx.Client | None = None) -> None:
    """Post the alert as JSON to a generic webhook; raises httpx.HTTPError on failure."""
    _post(url, webhook_payload(alert), client)


def _post(url: str, body: dict[str, object], client: httpx.Client | None) -> None:
    if client is None:
        with httpx.Client(timeout=TIMEOUT_S) as own:
            own.post(url, json=body).raise_for_status()
    else:
        client.post(url, json=body).raise_for_status()


def send_email(settings: AlertSettings, alert: Alert) -> None:
    """Send the alert by SMTP to `settings.email_to`; raises smtplib.SMTPException on failure."""
    if not settings.smtp_host:
        raise ValueError("no SMTP host configured")
    message = email_message(alert, settings.email_from, list(settings.email_to))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def dispatch(
    settings: AlertSettings, alert: Alert, only: Collection[str] | None = None
) -> dict[str, str]:
    """Send to every configured destination (or those in `only`), each on its own.

    Returns:
        Each destination's outcome: "sent", or "failed: <kind of error>". One destination's
        failure (a bad URL, a refused message, a server down) never stops the others.
    """
    outcomes: dict[str, str] = {}
    for name, send in _senders(settings, alert).items():
        if only is not None and name not in only:
            continue
        try:
            send()
            outcomes[name] = "sent"
        except Exception as exc:  # any failure is this destination's alone
            # The URL may carry a token: report the failure's kind, never the URL itself.
            log.warning("alert to %s failed: %s", name, type(exc).__name__)
            outcomes[name] = f"failed: {type(exc).__name__}"
    return outcomes


def destinations(settings: AlertSettings) -> list[str]:
    """The names of the configured destinations (slack, webhook, email)."""
    return list(_senders(settings, None))


def _senders(settings: AlertSettings, alert: Alert | None) -> dict[str, Callable[[], None]]:
    senders: dict[str, Callable[[], None]] = {}
    if settings.slack_webhook_url:
        url = settings.slack_webhook_url
        senders["slack"] = lambda: send_slack(url, _must(alert))
    if settings.webhook_url:
        hook = settings.webhook_url
        senders["webhook"] = lambda: send_webhook(hook, _must(alert))
    if settings.smtp_host and settings.email_to:
        senders["email"] = lambda: send_email(settings, _must(alert))
    return senders


def _must(alert: Alert | None) -> Alert:
    if alert is None:
        raise ValueError("no alert to send")
    return alert
