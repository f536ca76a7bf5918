"""Outbound actions: what Flarewatch says in public for the brand, and to whom (dry run by default)."""

from __future__ import annotations

from collections.abc import Mapping

from flarewatch.actions.base import Outbound, Published, Publisher, PublishError


def make_publisher(destination: str, account: str, env: Mapping[str, str]) -> Publisher:
    """The live publisher of `destination` posting as `account`; a missing credential raises."""
    if destination == "x":
        from flarewatch.actions import x

        return x.XPublisher(x.make_client(env), account)
    if destination == "mastodon":
        from flarewatch.actions import mastodon

        return mastodon.MastodonPublisher(mastodon.make_client(account, env), account)
    if destination == "bluesky":
        from flarewatch.actions import bluesky

        return bluesky.BlueskyPublisher(bluesky.make_client(account, env), account)
    if destination == "statuspage":
        from flarewatch.actions import statuspage

        return statuspage.StatuspagePublisher(statuspage.make_client(env), account)
    raise ValueError(f"unknown destination {destination!r}")


def deliver(publisher: Publisher, item: Outbound, *, retry: bool) -> Published:
    """Send `item`; on a retry, first ask the platform whether an earlier try went out.

    A retry that finds the message returns what is there instead of posting it twice.
    """
    if retry:
        found = publisher.find_sent(item)
        if found is not None and found.remote_ids:
            if not item.parts:
                return found
            # A send stops at its first failure, so the parts after the one found never went.
            rest = Outbound(
                destination=item.destination,
                text=item.parts[0],
                parts=item.parts[1:],
                account=item.account,
                reply_to=found.remote_ids[-1],
                idempotency_key=f"{item.idempotency_key}-rest",
                options=item.options,
            )
            sent = publisher.publish(rest)
            return Published(found.remote_ids + sent.remote_ids, found.url)
    return publisher.publish(item)


__all__ = ["Outbound", "PublishError", "Published", "Publisher", "deliver", "make_publisher"]
