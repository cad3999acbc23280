"""Collaborative documents: the OT authority with storage, its WebSocket frames, history and GC.

`services.extra["documents"]` is a `DocumentService`: `read(user_id, document_id)`,
`history(user_id, document_id, from_revision, limit)`, `subscribe/unsubscribe/submit` for
connections, and `authority` (the in-memory side) underneath.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask

from app.documents.authority import DocumentAuthority
from app.documents.bridge import DocumentBridge
from app.documents.cli import documents_cli
from app.documents.collector import OperationCollector, cutoff_ms
from app.periodic import PeriodicTask
from app.documents.metrics import OperationMetrics
from app.documents.service import DocumentService
from app.documents.store import SqlDocumentStore
from app.services import Services

log = logging.getLogger(__name__)

GC_INTERVAL_SECONDS = 3600.0
DOCUMENTS_CHANNEL = "documents"


def init_documents(app: Flask, services: Services) -> DocumentService:
    """Build the document service on the hub and channels, mount its routes, frames and CLI."""
    from app.documents.frames import register_frame_handlers
    from app.documents.routes import bp

    settings = services.settings
    hub = services.extra.get("hub")
    channels = services.extra["channels"]
    store = SqlDocumentStore(services.db)
    frames_count = (lambda name, by, n: hub.count(name, by, n)) if hub is not None else None
    authority = DocumentAuthority(store, frames_count)
    service = DocumentService(store, authority, channels)
    services.extra["documents"] = service

    count = (lambda name, n: hub.count(name, None, n)) if hub is not None else None
    metrics = OperationMetrics(services.analytics, count)
    authority.on_decided.append(metrics.record)
    if hub is not None:  # operations per commit = operations_applied / operation_commits
        authority.on_committed.append(lambda _document_id, _stored: hub.count("operation_commits"))
    services.on_close(metrics.writer.close)

    bridge = DocumentBridge(_relay(settings, hub), resync=authority.resync)
    authority.on_committed.append(bridge.publish)
    collector = PeriodicTask("operation-gc", lambda: _collect(services, authority), GC_INTERVAL_SECONDS)
    starters = services.extra.setdefault("starters", [])
    starters.append(lambda: bridge.start(authority.adopt_published, service.revoke))
    starters.append(collector.start)
    services.on_close(bridge.stop)
    services.on_close(collector.stop)

    channels.on_channel_deleted(lambda channel_id, _former: _revoked(service, bridge, channel_id, None))
    channels.on_member_removed(lambda channel_id, user_id: _revoked(service, bridge, channel_id, user_id))
    if hub is not None:
        register_frame_handlers(hub, service)
        hub.on_disconnect(lambda conn, _last: service.disconnect(conn))
    app.register_blueprint(bp)
    app.cli.add_command(documents_cli)
    return service


def _revoked(service: DocumentService, bridge: DocumentBridge, channel_id: str, user_id: int | None) -> None:
    """A channel deleted (user None) or a member removed here: act on it, and tell the other instances."""
    service.revoke(channel_id, user_id)
    bridge.publish_revocation(channel_id, user_id)


def _relay(settings: Any, hub: Any) -> Any:
    """The hub's relay kind on a channel of our own: Redis when configured, local otherwise."""
    from app.realtime.relay import LocalRelay, RedisRelay

    if not settings.redis_url:
        return LocalRelay()
    import redis

    instance_id = getattr(hub, "instance_id", None) or uuid.uuid4().hex
    client = redis.Redis.from_url(settings.redis_url)
    return RedisRelay(client, f"{settings.redis_prefix}:{DOCUMENTS_CHANNEL}", instance_id)


def _collect(services: Services, authority: DocumentAuthority) -> None:
    """One GC round in the serving process; live documents forget the collected revisions too."""
    def forget(document_id: str, upto: int) -> None:
        doc = authority.documents.find(document_id)
        if doc is not None:
            with doc.lock:
                doc.forget_before(upto)

    collected = OperationCollector(services.db).collect(cutoff_ms(services.settings.operation_ttl_days),
                                                        forget)
    if collected.operations:
        log.info("operation GC: %d operations from %d documents", collected.operations, collected.documents)
