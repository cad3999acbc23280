"""The declarative base and the one clock for stored times (unix milliseconds)."""
import time

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base for every model; constraint names are stable across SQLite and PostgreSQL."""

    metadata = MetaData(naming_convention=NAMING)


def now_ms() -> int:
    """Unix time in milliseconds, the unit every stored time uses."""
    return int(time.time() * 1000)
