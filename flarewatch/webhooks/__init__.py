"""Incident events from outside tools: Statuspage and PagerDuty webhooks, file import and listener."""
