"""SQLAlchemy tables of the registry service."""

from sqlalchemy.orm import DeclarativeBase

from putokaz.db import new_metadata
from putokaz.events import define_event_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


event_tables = define_event_tables(Base.metadata)
