"""Counters the hub and the features riding on it keep for the metrics endpoint."""
from __future__ import annotations

from typing import Any

from app.locks import native_lock


class Counters:
    """Named counts, plain (`name -> n`) or labelled (`name -> {label: n}`); safe from any thread."""

    def __init__(self, plain: tuple[str, ...] = (), labelled: tuple[str, ...] = ()) -> None:
        self._lock = native_lock()  # never held across a switch
        self._plain: dict[str, int] = {name: 0 for name in plain}
        self._labelled: dict[str, dict[str, int]] = {name: {} for name in labelled}

    def add(self, name: str, by: str | None = None, n: int = 1) -> None:
        """Add `n` to a counter, under label `by` when given; a name is plain or labelled, not both."""
        with self._lock:
            if by is None:
                if name in self._labelled:
                    raise ValueError(f"counter {name!r} is labelled; pass by=")
                self._plain[name] = self._plain.get(name, 0) + n
            else:
                if name in self._plain:
                    raise ValueError(f"counter {name!r} is plain; do not pass by=")
                labels = self._labelled.setdefault(name, {})
                labels[by] = labels.get(by, 0) + n

    def get(self, name: str, by: str | None = None) -> int:
        """The current value of a counter (0 when never counted)."""
        with self._lock:
            if by is None:
                return self._plain.get(name, 0)
            return self._labelled.get(name, {}).get(by, 0)

    def snapshot(self) -> dict[str, Any]:
        """Every counter, copied: plain ones as ints, labelled ones as dicts sorted by label."""
        with self._lock:
            out: dict[str, Any] = dict(self._plain)
            out.update({name: dict(sorted(labels.items())) for name, labels in self._labelled.items()})
        return dict(sorted(out.items()))
