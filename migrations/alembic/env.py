"""Alembic environment: runs against the engine the app hands in, under a lock on PostgreSQL."""
from alembic import context
from sqlalchemy import text

from app.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK_ID = 727274  # pg advisory lock: concurrent instances migrate one at a time


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=connection.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if is_pg:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_ID})
                connection.commit()


run_migrations_online()
