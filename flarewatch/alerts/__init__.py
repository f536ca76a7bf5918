"""Spike alerts to Slack, a generic JSON webhook and email."""
