"""Servers and stores the fault tests start, kill and restart themselves (never the machine's shared ones)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.support.server import ROOT, ServerProcess, free_port


def server_log_problems(log_path: Path) -> list[str]:
    """Lines of a RUNNING server's log showing an unexpected failure: a 500, a crashed frame handler,
    or a worker that died (a second `Booting worker`)."""
    markers = ("unhandled error", "frame handler failed", "Worker exiting", "WORKER TIMEOUT")
    lines = log_path.read_text(errors="replace").splitlines()
    boots = [line for line in lines if "Booting worker" in line]
    return [line for line in lines if any(m in line for m in markers)] + boots[1:]


class LiveServer(ServerProcess):
    """A ServerProcess that may be started while not ready, and can name its worker process."""

    def start_until(self, path: str = "/readyz", timeout: float = 60.0) -> "LiveServer":
        """Launch and wait until `path` answers 200 (`/healthz` when a store is meant to be down)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "DATA_DIR": str(self.data_dir),
               **self.extra_env}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer {path}:\n{self.log_tail()}")

    def worker_pid(self) -> int:
        """The gunicorn worker (the one process that serves requests), a child of the master."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])


class RedisServer:
    """A throw-away `redis-server` on a free port, without persistence; stop() is a crash (SIGKILL)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        """Start and wait until it answers PING."""
        import redis

        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(100):
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """kill -9: connections drop without a goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a folder of its own on a free port (run as `postgres` when root).

    The folder is made under the system temp dir (not pytest's, which `postgres` cannot enter);
    `remove()` stops the cluster and deletes it.
    """

    def __init__(self, port: int | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
        self.folder.chmod(0o755)
        self.port = port or free_port()
        self.bin = postgres_bin()
        assert self.bin is not None, "PostgreSQL server binaries are not installed"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}\n{done.stderr}")

    def init(self) -> "PostgresCluster":
        """initdb (trust auth on localhost, no fsync: a test cluster) and start."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "--username=postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        return self.start()

    def start(self) -> "PostgresCluster":
        """pg_ctl start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "immediate") -> None:
        """pg_ctl stop; `immediate` drops every connection at once, as a crash would."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        """Stop (if running) and delete the cluster's folder."""
        try:
            self.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)
