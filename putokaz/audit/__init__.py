"""Tamper-evident audit trail: an append-only log per service, each row hash-chained to the previous one."""

from putokaz.audit.api import audit_router
from putokaz.audit.chain import Actor, Entry, record, record_for, record_refused, verify
from putokaz.audit.tables import AuditTables, define_audit_tables

__all__ = [
    "Actor",
    "AuditTables",
    "Entry",
    "audit_router",
    "define_audit_tables",
    "record",
    "record_for",
    "record_refused",
    "verify",
]
