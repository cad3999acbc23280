"""A document held in memory while it is in use: its head, recent history and subscribers."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from app.documents.ids import DocumentId
from app.documents.store import StoredDocument, StoredOperation
from ot import Op, components_from_wire

if TYPE_CHECKING:
    from app.documents.gathering import Gathering

HISTORY_WINDOW = 2048  # revisions kept in memory per document; older ones are read from SQL
TEXT_CACHE_CHARS = 4_000_000  # recent texts kept per document, so an op is checked against its base cheaply
ACTIVE_SECONDS = 1.0  # an editor who submitted this recently is expected to submit again soon


class Peer(Protocol):
    """What the authority needs of a connection: an id, its user, and a way to send a frame."""

    conn_id: Any

    def send(self, frame_type: str, payload: dict[str, Any]) -> Any:
        """Queue one frame to this connection."""


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision as stored, with the components it applies (parsed once)."""

    stored: StoredOperation
    components: list[Op]

    @classmethod
    def parse(cls, stored: StoredOperation) -> "Revision":
        """Parse a stored revision's operation object into its components."""
        return cls(stored, components_from_wire(stored.operation))


@dataclass(slots=True)
class Subscriber:
    """A connection subscribed to a document and the last revision it was sent."""

    peer: Peer
    user_id: int
    sent_revision: int


@dataclass(eq=False)
class LiveDocument:
    """The in-memory authority state of one document; every field is guarded by `lock`."""

    doc_id: DocumentId
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded: bool = False
    leading: bool = False  # a submitter holds the lock to run a batch (it wakes the next one after)
    evicted: bool = False
    exists: bool = False
    content: str = ""
    revision: int = 0
    base_revision: int = 0
    recent: deque[Revision] = field(default_factory=deque)
    by_op_id: dict[str, StoredOperation] = field(default_factory=dict)
    subscribers: dict[Any, Subscriber] = field(default_factory=dict)
    pending: deque[Any] = field(default_factory=deque)
    arrived: threading.Event = field(default_factory=threading.Event)  # set for the leader, while it gathers
    gathering: Gathering | None = None  # the leader's batch while it waits for more (gathering.py)
    editors: dict[Any, float] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id: str = str(self.doc_id)  # the wire form, on every frame: made once

    def reset(self, head: StoredDocument | None) -> None:
        """Adopt a stored head, dropping the recent history (it may no longer lead to it)."""
        self.loaded = True
        self.exists = head is not None
        self.content = head.content if head else ""
        self.revision = head.revision if head else 0
        self.base_revision = head.base_revision if head else 0
        self.recent.clear()
        self.by_op_id.clear()
        self.texts = {self.revision: self.content}

    @property
    def window_start(self) -> int:
        """The oldest revision from which every later revision is in memory."""
        return self.revision - len(self.recent)

    def revisions_after(self, revision: int) -> list[Revision]:
        """The in-memory revisions after `revision` (which must be >= window_start).

        Walked from the newest end: a client is usually a few revisions behind a window of thousands.
        """
        newer = list(islice(reversed(self.recent), max(0, self.revision - revision)))
        newer.reverse()
        return newer

    def extend(self, revisions: list[Revision], content: str, texts: dict[int, str]) -> None:
        """Advance the head over consecutive revisions; `content` is the text after the last one.

        `texts` holds the text after some of them, kept (within a budget) to check later ops
        made at those revisions without undoing the history.
        """
        for offset, revision in enumerate(revisions, start=1):
            if revision.stored.revision != self.revision + offset:
                raise ValueError(f"{self.id}: revision {revision.stored.revision} after {self.revision}")
        for revision in revisions:
            self.recent.append(revision)
            self.by_op_id[revision.stored.op_id] = revision.stored
        if revisions:
            self.revision = revisions[-1].stored.revision
            self.content = content
            self.exists = True
        while len(self.recent) > HISTORY_WINDOW:
            self.by_op_id.pop(self.recent.popleft().stored.op_id, None)
        self._keep_texts(texts)

    def _keep_texts(self, texts: dict[int, str]) -> None:
        self.texts.update(texts)
        self.texts[self.revision] = self.content
        keep = max(1, TEXT_CACHE_CHARS // max(1, len(self.content)))
        if len(self.texts) > 2 * keep:
            for revision in sorted(self.texts)[:-keep]:
                del self.texts[revision]

    def note_editor(self, conn_id: Any, now: float) -> None:
        """Remember that this connection just submitted (see `expecting`)."""
        self.editors[conn_id] = now

    def expecting(self, now: float, taken: Iterable[Any] = ()) -> int:
        """Recently active editors with nothing waiting (nor `taken` into a batch): their next op is likely on its way."""
        waiting = {sub.peer.conn_id for sub in chain(self.pending, taken) if sub.peer is not None}
        for conn_id, seen in list(self.editors.items()):
            if now - seen > ACTIVE_SECONDS:
                del self.editors[conn_id]
        return sum(1 for conn_id in self.editors if conn_id not in waiting)

    def forget_before(self, revision: int) -> None:
        """Drop cached revisions up to `revision`: the history before it was collected."""
        self.base_revision = max(self.base_revision, revision)
        self.texts = {r: text for r, text in self.texts.items() if r >= revision}
        while self.recent and self.recent[0].stored.revision <= revision:
            self.by_op_id.pop(self.recent.popleft().stored.op_id, None)

    @property
    def idle(self) -> bool:
        """Nobody is subscribed and nothing waits to be applied: it may leave memory."""
        return not self.subscribers and not self.pending


class LiveDocuments:
    """The documents in memory, by id: created on first use, evicted when nobody uses them."""

    def __init__(self) -> None:
        self._docs: dict[str, LiveDocument] = {}
        self._lock = threading.Lock()

    def entry(self, doc_id: DocumentId) -> LiveDocument:
        """The document's entry, created (not yet loaded) when absent."""
        key = str(doc_id)
        doc = self._docs.get(key)  # a dict read is atomic: the lock is only for creating
        if doc is not None:
            return doc
        with self._lock:
            doc = self._docs.get(key)
            if doc is None:
                doc = self._docs[key] = LiveDocument(doc_id)
            return doc

    def find(self, document_id: str) -> LiveDocument | None:
        """The document if it is in memory now (never creates it)."""
        return self._docs.get(document_id)

    def matching(self, predicate: Callable[[LiveDocument], bool]) -> list[LiveDocument]:
        """The documents in memory that match, e.g. those of one channel."""
        with self._lock:
            return [doc for doc in self._docs.values() if predicate(doc)]

    def evict(self, doc: LiveDocument) -> None:
        """Forget a document (its lock held): the next use reloads it from SQL."""
        doc.evicted = True
        with self._lock:
            if self._docs.get(doc.id) is doc:
                del self._docs[doc.id]
