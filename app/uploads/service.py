"""Uploads: check what the bytes are, keep them under DATA_DIR, record them in SQL, serve them back."""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.errors import ApiError, BadRequest, NotFound
from app.models import Upload, User, now_ms
from app.storage.sql import Database
from app.uploads import media
from app.uploads.durations import duration_ms
from app.uploads.receiver import IncomingFile, receive_file

MIB = 1024 * 1024
STALE_INCOMING_SECONDS = 3600


@dataclass(frozen=True)
class UploadKind:
    """One upload route's rules: the stored `kind`, the accepted family and the size cap."""

    name: str
    family: str
    max_bytes: int
    label: str
    accepted: str

    @property
    def too_large(self) -> str:
        """The 413 sentence."""
        return f"{self.label} uploads are limited to {self.max_bytes / MIB:g} MiB."


def kinds(audio_max_bytes: int, image_max_bytes: int) -> dict[str, UploadKind]:
    """The two upload kinds with their configured caps."""
    return {"audio": UploadKind("audio", media.AUDIO, audio_max_bytes, "Audio", "WAV, AIFF, FLAC, MP3 or OGG"),
            "profile_picture": UploadKind("profile_picture", media.IMAGE, image_max_bytes,
                                          "Profile picture", "PNG, JPEG or WebP")}


class UploadService:
    """Files under `root` (DATA_DIR/uploads), one `uploads` row each, readable by their owner only."""

    def __init__(self, db: Database, root: Path, upload_kinds: dict[str, UploadKind]) -> None:
        self._db = db
        self.root = root
        self.kinds = upload_kinds

    def sweep_incoming(self) -> int:
        """Delete partial files a crashed process left behind (an hour old: no live upload is)."""
        cutoff = time.time() - STALE_INCOMING_SECONDS
        stale = [p for p in (self.root / ".incoming").glob("*.part") if p.stat().st_mtime < cutoff]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def receive(self, owner: User, kind_name: str) -> dict[str, Any]:
        """Stream the request's file to disk, check its bytes, and record it; returns its metadata."""
        kind = self.kinds[kind_name]
        incoming, filename = receive_file(self.root / ".incoming", kind.max_bytes, kind.too_large)
        try:
            fmt, duration = self._inspect(incoming, kind)
            upload_id = str(uuid.uuid4())
            relative = f"{kind.name}/{upload_id[:2]}/{upload_id}"
            incoming.file.close()
            (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(incoming.path, self.root / relative)
        except BaseException:
            incoming.discard()
            raise
        row = Upload(id=upload_id, owner_id=owner.id, kind=kind.name, media_type=fmt.media_type,
                     size_bytes=incoming.size, sha256=incoming.sha256, duration_ms=duration,
                     original_name=filename[:255] if filename else None, storage_path=relative,
                     created_at_ms=now_ms())
        try:
            replaced = self._save(row)
        except BaseException:
            (self.root / relative).unlink(missing_ok=True)
            raise
        if replaced is not None:
            (self.root / replaced).unlink(missing_ok=True)
        return describe(row)

    def _inspect(self, incoming: IncomingFile, kind: UploadKind) -> tuple[media.MediaFormat, int | None]:
        if incoming.size == 0:
            raise BadRequest("The file is empty.", code="empty_file")
        fmt = media.sniff(incoming.file)
        if fmt is None or fmt.family != kind.family:
            raise ApiError(f"{kind.label} uploads must be {kind.accepted} (recognised by their bytes).",
                           code="unsupported_media_type", status=415)
        duration = duration_ms(incoming.file, fmt, incoming.size) if fmt.family == media.AUDIO else None
        return fmt, duration

    def _save(self, row: Upload) -> str | None:
        """Insert the row; a profile picture also becomes the user's avatar, replacing (deleting) the old one."""
        with self._db.session() as session:
            session.add(row)
            if row.kind != "profile_picture":
                return None
            user = session.get(User, row.owner_id)
            previous = session.get(Upload, user.avatar_upload_id) if user and user.avatar_upload_id else None
            if user is not None:
                user.avatar_upload_id = row.id
            if previous is None:
                return None
            session.delete(previous)
            return previous.storage_path

    def find(self, owner: User, kind_name: str, upload_id: str) -> tuple[Path, Upload]:
        """The file and row of the owner's upload of this kind; 404 for anyone else's or none."""
        with self._db.session() as session:
            row = session.scalar(select(Upload).where(Upload.id == upload_id, Upload.kind == kind_name,
                                                      Upload.owner_id == owner.id))
        path = self.root / row.storage_path if row is not None else None
        if row is None or path is None or not path.is_file():
            raise NotFound("No such upload.")
        return path, row


def describe(row: Upload) -> dict[str, Any]:
    """The upload's public metadata."""
    return {"id": row.id, "kind": row.kind, "media_type": row.media_type, "size_bytes": row.size_bytes,
            "sha256": row.sha256, "duration_ms": row.duration_ms, "original_name": row.original_name,
            "created_at_ms": row.created_at_ms}
