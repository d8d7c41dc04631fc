"""Transactional outbox: events written in the same transaction as the change they describe."""

from putokaz.events.outbox import define_event_tables, emit

__all__ = ["define_event_tables", "emit"]
