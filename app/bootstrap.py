"""Build the concrete stores and services for a Settings; the only place adapters are chosen."""
from __future__ import annotations

import logging

from app.auth.service import AuthService
from app.auth.tokens import TokenSigner
from app.config import Settings
from app.periodic import PeriodicTask
from app.secret_key import load_or_create_secret
from app.services import Services
from app.storage.clickhouse import ClickHouseStore
from app.storage.clickhouse_migrations import upgrade_clickhouse_schema
from app.storage.sql import Database
from app.storage.sql_migrations import upgrade_sql_schema
from app.storage.wal_checkpoint import CHECKPOINT_SECONDS
from app.tracking.group_state import GroupStateStore
from app.tracking.ingest import EventSink, IngestService
from app.tracking.queries import EventQueries
from app.tracking.service import TrackingService

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """Open the SQL store (migrating it), prepare the analytics store, and wire the services."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_secret(settings.data_dir, settings.secret_key)
    db = Database(settings.database_url)
    upgrade_sql_schema(db.engine)
    analytics = ClickHouseStore(
        settings.clickhouse_url,
        on_open=lambda store: upgrade_clickhouse_schema(store, settings.event_ttl_days))
    auth = AuthService(db, TokenSigner(secret, settings.jwt_ttl_seconds))
    groups = GroupStateStore(db)
    sink = EventSink(analytics, groups, settings.ingest_linger_ms)
    tracking = TrackingService(IngestService(sink, settings.max_batch_items), EventQueries(analytics),
                               groups, settings.event_ttl_days)
    services = Services(settings=settings, db=db, analytics=analytics, auth=auth, tracking=tracking)
    services.extra["secret"] = secret
    services.on_close(db.dispose)
    services.on_close(analytics.close)
    services.on_close(sink.writer.close)
    checkpointer = db.wal_checkpointer()
    if checkpointer is not None:  # started by the server only, like every housekeeping round
        rounds = PeriodicTask("sqlite-checkpoint", checkpointer.checkpoint, CHECKPOINT_SECONDS)
        services.extra.setdefault("starters", []).append(rounds.start)
        services.on_close(rounds.stop)
        services.on_close(checkpointer.close)
    return services
