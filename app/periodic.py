"""A task run every N seconds in a background (green) thread, for housekeeping rounds."""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """Runs `run` every `interval` seconds until stopped; a failed round is retried next time."""

    def __init__(self, name: str, run: Callable[[], object], interval: float) -> None:
        self.name = name
        self._run = run
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start once, in the serving process (not in CLI commands)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop before the next round."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                result = self._run()
                if result:
                    log.info("%s: %s", self.name, result)
            except Exception:  # a failed round is retried at the next interval
                log.exception("%s round failed", self.name)
