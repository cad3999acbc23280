"""The analytics store: ClickHouse through clickhouse-connect, embedded (chDB) or a server."""
from __future__ import annotations

import io
import logging
import queue
import os
import re
import threading
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import parse_qs, urlencode, urlparse

import clickhouse_connect
from clickhouse_connect.driver.binding import bind_query
from clickhouse_connect.driver.exceptions import ClickHouseError

from app.storage import StorageError
from app.storage.blocking import run_blocking

log = logging.getLogger(__name__)


def _split_url(url: str) -> tuple[str, str]:
    """Separate the database name from a `chdb:///path?database=x` or `clickhouse://h:p/db` URL."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    if parsed.scheme == "chdb":
        database = query.pop("database", ["default"])[0]
        base = f"chdb://{parsed.netloc}{parsed.path}"
        return (base + ("?" + urlencode({k: v[0] for k, v in query.items()}) if query else "")), database
    database = parsed.path.strip("/") or query.get("database", ["default"])[0]
    return url, database


class ClickHouseStore:
    """Runs queries and inserts over a small pool of clients; opens lazily so CLI commands never lock chDB.

    Each call checks a client out of the pool (a greenlet-friendly queue), so a client's own
    lock is never contended. That matters under gevent: chDB calls run in real threads (they
    release the GIL) and gevent's locks must not be fought over between real threads.
    """

    def __init__(self, url: str, on_open: Callable[["ClickHouseStore"], None] | None = None,
                 pool_size: int = 3) -> None:
        self.url = url
        self._base_url, self.database = _split_url(url)
        self.embedded = url.startswith("chdb:")
        self._pool_size = pool_size
        self._pool: queue.Queue[Any] = queue.Queue()
        self._opened = 0
        self._ready = False
        self._lock = threading.RLock()
        self._on_open = on_open

    def _ensure_ready(self) -> None:
        """Open the first client and run `on_open` (the migrations) before anyone else may query."""
        if self._ready:
            return
        with self._lock:
            if self._ready or self._opened:  # ready, or on_open re-entering through a query
                return
            self._pool.put(self._new_client())
            try:
                if self._on_open is not None:
                    self._on_open(self)
            except BaseException:
                self._drain()
                raise
            self._ready = True

    def _new_client(self) -> Any:
        client = self._offload(self._open)
        self._opened += 1
        return client

    def _offload(self, fn: Callable[[], Any]) -> Any:
        """chDB calls go to a real thread; a server's HTTP calls are cooperative sockets already."""
        return run_blocking(fn) if self.embedded else fn()

    def _checkout(self) -> Any:
        self._ensure_ready()
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._opened < self._pool_size:
                return self._new_client()
        return self._pool.get()

    def _open(self) -> Any:
        try:
            if self.embedded:
                bootstrap = clickhouse_connect.get_client(dsn=self._base_url)
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
                sep = "&" if "?" in self._base_url else "?"
                return clickhouse_connect.get_client(dsn=f"{self._base_url}{sep}database={self.database}")
            parsed = urlparse(self._base_url)
            server = {"host": parsed.hostname or "localhost", "port": parsed.port or 8123,
                      "username": parsed.username or "default", "password": parsed.password or "",
                      "secure": parsed.scheme.endswith("s"), "autogenerate_session_id": False}
            clickhouse_connect.get_client(**server).command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
            return clickhouse_connect.get_client(**server, database=self.database)
        except Exception as exc:  # driver and engine errors alike
            raise StorageError(f"cannot open the analytics store: {exc}") from exc

    def _call(self, fn_name: str, *args: Any, **kwargs: Any) -> Any:
        client = self._checkout()
        try:
            return self._offload(lambda: getattr(client, fn_name)(*args, **kwargs))
        except (ClickHouseError, OSError, RuntimeError) as exc:
            raise StorageError(str(exc).split("\n", 1)[0][:500]) from exc
        finally:
            self._pool.put(client)

    def query(self, sql: str, parameters: dict[str, Any] | None = None,
              settings: dict[str, Any] | None = None) -> list[tuple]:
        """Run a SELECT with bound parameters and return its rows."""
        return self._call("query", sql, parameters=parameters or {}, settings=settings or {}).result_rows

    def query_columns(self, sql: str, parameters: dict[str, Any] | None = None,
                      settings: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run a SELECT and return (column names, rows)."""
        result = self._call("query", sql, parameters=parameters or {}, settings=settings or {})
        return list(result.column_names), result.result_rows

    def stream(self, sql: str, parameters: dict[str, Any] | None = None, fmt: str = "CSVWithNames",
               settings: dict[str, Any] | None = None) -> Iterator[bytes]:
        """Stream a query's output in a ClickHouse format, chunk by chunk (one client held meanwhile)."""
        client = self._checkout()
        try:
            try:
                stream = self._offload(lambda: client.raw_stream(sql, parameters=parameters or {}, fmt=fmt,
                                                                 settings=settings or {}))
            except (ClickHouseError, OSError, RuntimeError) as exc:
                raise StorageError(str(exc).split("\n", 1)[0][:500]) from exc
            try:
                while True:
                    chunk = self._offload(lambda: stream.read(65536))
                    if not chunk:
                        break
                    yield chunk
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
        finally:
            self._pool.put(client)

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        """Run DDL or another statement without a result set."""
        return self._call("command", sql, parameters=parameters or {})

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows in one call (one part on disk: gather rows before calling)."""
        if rows:
            self._call("insert", table, list(rows), column_names=list(columns))

    def ping(self) -> bool:
        """True when the store answers a trivial query."""
        try:
            self.query("SELECT 1")
            return True
        except StorageError:
            return False

    def close(self) -> None:
        """Release the clients (chDB keeps its engine for the process)."""
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            while True:
                try:
                    client = self._pool.get_nowait()
                except queue.Empty:
                    break
                if not self.embedded:
                    client.close()
            self._opened = 0
            self._ready = False
