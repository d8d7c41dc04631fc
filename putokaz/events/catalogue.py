"""The event types partners may subscribe to, and how subscription patterns match them."""

from __future__ import annotations

from collections.abc import Iterable

REFERRAL_STATUSES = ("requested", "accepted", "rejected", "in_progress", "completed", "failed", "cancelled", "expired")

# Thin partner events (docs/events.md): ids, status, times; never identity data.
PARTNER_EVENT_TYPES: dict[str, str] = {
    **{f"referral.{s}": f"A referral of your organisation became {s.replace('_', ' ')}" for s in REFERRAL_STATUSES},
    "capacity.changed": "The free capacity of a service changed",
    "webhook.endpoint_disabled": "One of your webhook endpoints was disabled (410 Gone or failing for 5 days)",
    "webhook.test": "A test event you asked for",
}
# Events that only ever go to internal subscriptions (the anonymised registry feed).
INTERNAL_ONLY_PREFIX = "registry."


def type_matches(pattern: str, event_type: str) -> bool:
    """`referral.accepted` matches itself; `referral.*` matches every referral event; `*` matches all."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def any_matches(patterns: Iterable[str], event_type: str) -> bool:
    return any(type_matches(p, event_type) for p in patterns)


def is_known_partner_pattern(pattern: str) -> bool:
    """A subscription must name a partner event type or a family of them (`referral.*`)."""
    if pattern in PARTNER_EVENT_TYPES:
        return True
    if pattern.endswith(".*"):
        return any(t.startswith(pattern[:-1]) for t in PARTNER_EVENT_TYPES)
    return False
