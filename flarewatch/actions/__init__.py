"""Outbound actions: public replies to unhappy authors and helpdesk hand-offs (dry run by default)."""
