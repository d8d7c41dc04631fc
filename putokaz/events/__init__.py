"""Transactional outbox: events written in the same transaction as the change they describe."""

from putokaz.events.outbox import EventTables, define_event_tables, emit

__all__ = ["EventTables", "define_event_tables", "emit"]
