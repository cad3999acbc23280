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
            result = self._offload(lambda: getattr(client, fn_name)(*args, **kwargs))
        except (ClickHouseError, OSError, RuntimeError) as exc:
            self._discard(client)
            raise StorageError(str(exc).split("\n", 1)[0][:500]) from exc
        except BaseException:
            self._discard(client)
            raise
        self._pool.put(client)
        return result

    def _discard(self, client: Any) -> None:
        """Drop a client whose call failed: chDB can keep a failed query's rows on its connection."""
        with self._lock:
            self._opened = max(0, self._opened - 1)
        close = getattr(client, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # already broken; nothing more to release
                log.debug("closing a failed analytics client failed", exc_info=True)

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
        """Stream a query's output in a ClickHouse format, chunk by chunk (one client held meanwhile).

        `sql` must not carry SETTINGS or FORMAT clauses of its own. Embedded, the stream runs on a
        chDB connection of its own, outside the pool; settings ride in a SETTINGS clause (through
        clickhouse-connect they would be SET on the client, and `readonly` would then stick to it),
        and chDB's per-block documents are joined into one (CSVWithNames' header once, one Parquet
        file) instead of being materialised whole.
        """
        if self.embedded:
            yield from self._stream_embedded(sql, parameters or {}, fmt, settings or {})
            return
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

    def _stream_embedded(self, sql: str, parameters: dict[str, Any], fmt: str,
                         settings: dict[str, Any]) -> Iterator[bytes]:
        import chdb

        self._ensure_ready()  # the engine is open and the schema migrated
        query, bound = bind_query(sql + _settings_clause(settings), parameters)
        params = {key.removeprefix("param_"): value for key, value in bound.items()}
        joiner = _BlockJoin(fmt)
        conn = result = None
        try:
            conn = run_blocking(chdb.connect, _chdb_location(self._base_url))
            run_blocking(conn.query, f"USE `{self.database}`")
            if fmt not in _STREAMABLE:  # a document-wide header or footer: only a whole document will do
                yield run_blocking(conn.query, query, fmt, params).bytes()
                return
            result = run_blocking(conn.send_query, query, fmt, params)
            blocks = iter(result)
            while (block := run_blocking(next, blocks, None)) is not None:
                if payload := joiner.feed(block.bytes()):
                    yield payload
            if joiner.blocks == 0 and fmt not in _PASS_THROUGH:  # empty: the header or schema alone
                yield run_blocking(conn.query, query, fmt, params).bytes()
            elif tail := joiner.finish():
                yield tail
        except (RuntimeError, OSError, ValueError) as exc:  # engine errors; pyarrow's are ValueErrors
            raise StorageError(str(exc).split("\n", 1)[0][:500]) from exc
        finally:
            if result is not None:
                result.close()
            if conn is not None:
                conn.close()

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


_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PASS_THROUGH = frozenset({"CSV", "TSV", "TabSeparated", "TSVRaw", "TabSeparatedRaw", "JSONEachRow",
                           "JSONLines", "NDJSON", "JSONCompactEachRow", "RowBinary", "Native"})
_HEADER_FORMATS = frozenset({"CSVWithNames", "TSVWithNames", "TabSeparatedWithNames",
                             "JSONCompactEachRowWithNames"})
_STREAMABLE = _PASS_THROUGH | _HEADER_FORMATS | {"Parquet"}


def _settings_clause(settings: dict[str, Any]) -> str:
    """A trailing `SETTINGS a = 1, b = 'x'` clause; names are checked, strings quoted."""
    parts = []
    for name, value in settings.items():
        if not _SETTING_NAME.match(name):
            raise ValueError(f"not a setting name: {name!r}")
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, str):
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        elif not isinstance(value, (int, float)):
            raise ValueError(f"setting {name} needs a number or a string")
        parts.append(f"{name} = {value}")
    return ("\nSETTINGS " + ", ".join(parts)) if parts else ""


def _chdb_location(base_url: str) -> str:
    """The chDB engine path of a `chdb:///path` or `chdb://memory` URL, spelled as clickhouse-connect does."""
    parsed = urlparse(base_url)
    location = parsed.netloc or parsed.path
    path = ":memory:" if location in ("", "memory", ":memory:") else os.path.realpath(location)
    return f"{path}?{parsed.query}" if parsed.query else path


class _BlockJoin:
    """Joins chDB's streamed blocks, each a whole document in the format, into one document."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.blocks = 0
        self._header: bytes | None = None
        self._sink: list[bytes] = []
        self._writer: Any = None

    def feed(self, block: bytes) -> bytes:
        """The bytes to send for the next block."""
        self.blocks += 1
        if self.fmt == "Parquet":
            return self._parquet_row_groups(block)
        if self.fmt in _HEADER_FORMATS:  # every block repeats the header line: keep the first
            if self._header is None:
                self._header = block[:_line_end(block, quoted=self.fmt == "CSVWithNames")]
                return block
            return block[len(self._header):] if block.startswith(self._header) else block
        return block

    def _parquet_row_groups(self, block: bytes) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(pa.BufferReader(block))
        if self._writer is None:
            self._writer = pq.ParquetWriter(_Drain(self._sink), table.schema)
        elif not table.schema.equals(self._writer.schema):
            table = table.cast(self._writer.schema)
        self._writer.write_table(table)
        return self._drained()

    def finish(self) -> bytes:
        """The bytes that close the document (the Parquet footer)."""
        if self._writer is not None:
            self._writer.close()
        return self._drained()

    def _drained(self) -> bytes:
        out = b"".join(self._sink)
        self._sink.clear()
        return out


def _line_end(data: bytes, quoted: bool) -> int:
    """Where the first line ends; in CSV a newline inside double quotes does not end it."""
    inside = False
    for index, byte in enumerate(data):
        if quoted and byte == 0x22:
            inside = not inside  # a doubled quote toggles twice
        elif byte == 0x0A and not inside:
            return index + 1
    return len(data)


class _Drain(io.RawIOBase):
    """A write-only file appending to a list the stream empties after each block."""

    def __init__(self, sink: list[bytes]) -> None:
        super().__init__()
        self._sink = sink
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sink.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position
