"""The analytics store: ClickHouse through clickhouse-connect, embedded (chDB) or a server."""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import parse_qs, urlencode, urlparse

import clickhouse_connect
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
    """Runs queries and inserts; opens lazily so CLI commands never lock the chDB folder."""

    def __init__(self, url: str, on_open: Callable[["ClickHouseStore"], None] | None = None) -> None:
        self.url = url
        self._base_url, self.database = _split_url(url)
        self._client: Any = None
        self._ready = False
        self._lock = threading.RLock()
        self._on_open = on_open
        self.embedded = url.startswith("chdb:")

    def _connect(self) -> Any:
        """Open on first use and run `on_open` (the migrations) before anyone else may query."""
        if self._ready:
            return self._client
        with self._lock:
            if self._ready or self._client is not None:  # ready, or on_open re-entering
                return self._client
            self._client = run_blocking(self._open)
            try:
                if self._on_open is not None:
                    self._on_open(self)
            except BaseException:
                self._client = None
                raise
            self._ready = True
        return self._client

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
                      "secure": parsed.scheme.endswith("s")}
            clickhouse_connect.get_client(**server).command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
            return clickhouse_connect.get_client(**server, database=self.database)
        except Exception as exc:  # driver and engine errors alike
            raise StorageError(f"cannot open the analytics store: {exc}") from exc

    def _call(self, fn_name: str, *args: Any, **kwargs: Any) -> Any:
        client = self._connect()

        def call() -> Any:
            return getattr(client, fn_name)(*args, **kwargs)

        try:
            return run_blocking(call)
        except (ClickHouseError, OSError, RuntimeError) as exc:
            raise StorageError(str(exc).split("\n", 1)[0][:500]) from exc

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
        """Stream a query's output in a ClickHouse format, chunk by chunk."""
        stream = self._call("raw_stream", sql, parameters=parameters or {}, fmt=fmt, settings=settings or {})
        try:
            while True:
                chunk = run_blocking(stream.read, 65536)
                if not chunk:
                    break
                yield chunk
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()

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
        """Release the client (chDB keeps its engine for the process)."""
        if self._client is not None and not self.embedded:
            self._client.close()
        self._client = None
        self._ready = False
