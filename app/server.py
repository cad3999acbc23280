"""Serve the app with gunicorn's gevent worker: one process holds thousands of WebSockets."""
from __future__ import annotations

import gc
import logging
import os
from typing import Any

import gevent
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

from app import server_errors
from app.config import Settings, settings_from_env

log = logging.getLogger(__name__)


class PlatformWorker(GeventWorker):
    """A gevent worker that drains live connections (1001) as soon as SIGTERM arrives,
    and answers requests it cannot parse in the contract's JSON."""

    def init_process(self) -> None:
        server_errors.install()
        super().init_process()

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        gevent.spawn(_begin_shutdown, self.wsgi)


def _services(wsgi_app: Any) -> Any:
    return getattr(wsgi_app, "extensions", {}).get("services")


def _begin_shutdown(wsgi_app: Any) -> None:
    services = _services(wsgi_app)
    if services is not None:
        services.begin_shutdown()


GC_THRESHOLDS = (20_000, 20, 20)  # collections of young objects every 20k allocations, not 700


def _post_worker_init(worker: Any) -> None:
    """Open the analytics store (applying its migrations) before the first request, then settle GC."""
    services = _services(worker.wsgi)
    if services is not None:
        services.analytics.ping()
        for starter in services.extra.get("starters", []):
            starter()
    _settle_gc()


def _settle_gc() -> None:
    """Keep the cyclic GC off the hot paths.

    The loaded app (Flask, Dash, plotly, pandas, SQLAlchemy) is hundreds of thousands of
    long-lived objects: frozen, full collections no longer walk them. Each WebSocket frame and
    request allocates dozens of short-lived objects; with CPython's default threshold (700) a
    young collection ran every few frames.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _worker_exit(_server: Any, worker: Any) -> None:
    services = _services(worker.wsgi)
    if services is not None:
        services.begin_shutdown()
        services.close()


class PlatformServer(BaseApplication):
    """gunicorn configured from Settings, loading the app inside the worker (after gevent patches)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        embedded = self.settings.resolved().clickhouse_url.startswith("chdb:")
        workers = 1 if embedded else max(1, self.settings.workers)
        if embedded and self.settings.workers > 1:
            log.warning("chDB allows one process per data folder: running 1 worker")
        options = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": workers,
            "worker_class": "app.server.PlatformWorker",
            "worker_connections": 4000,
            "graceful_timeout": 10,
            "timeout": 60,
            "keepalive": 2,  # idle keep-alive sockets hold up a graceful exit until they time out
            "control_socket_disable": True,  # many test servers share one HOME
            "accesslog": os.environ.get("ACCESS_LOG") or None,
            "errorlog": "-",
            "loglevel": "info",
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from app import create_app

        return create_app()


def serve() -> None:
    """Run the server until SIGTERM or SIGINT."""
    PlatformServer(settings_from_env()).run()
