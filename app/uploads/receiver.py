"""Stream one multipart file part to disk in chunks: sized, hashed and capped as it arrives."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from app.errors import ApiError, BadRequest, PayloadTooLarge

FIELD = "file"
MULTIPART_OVERHEAD = 64 * 1024   # boundaries and part headers on top of the file itself
FIELD_MEMORY_BYTES = 64 * 1024   # non-file fields are the only parts held in memory
MAX_PARTS = 16


class IncomingFile:
    """The container werkzeug's parser writes a file part into: a temp file under DATA_DIR."""

    def __init__(self, directory: Path, cap: int, too_large: str) -> None:
        fd, name = tempfile.mkstemp(dir=directory, suffix=".part")
        self.path = Path(name)
        self.file = os.fdopen(fd, "w+b")
        self.size = 0
        self._cap = cap
        self._too_large = too_large
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        """Append a chunk; 413 as soon as the file passes its cap."""
        self.size += len(data)
        if self.size > self._cap:
            raise PayloadTooLarge(self._too_large)
        self._hash.update(data)
        return self.file.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Rewind (the parser does once the part is complete)."""
        return self.file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        """Read back what was written."""
        return self.file.read(size)

    @property
    def sha256(self) -> str:
        """Hex digest of every byte written."""
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Close and delete the temp file."""
        self.file.close()
        self.path.unlink(missing_ok=True)


def receive_file(directory: Path, cap: int, too_large: str) -> tuple[IncomingFile, str | None]:
    """Parse the multipart body, keeping the `file` part on disk; every other part is deleted."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(f"Send multipart/form-data with the file in the field `{FIELD}`.",
                       code="unsupported_media_type", status=415)
    request.max_content_length = cap + MULTIPART_OVERHEAD
    directory.mkdir(parents=True, exist_ok=True)
    parts: list[IncomingFile] = []

    def factory(*_args: Any, **_kwargs: Any) -> IncomingFile:
        parts.append(IncomingFile(directory, cap, too_large))
        return parts[-1]

    parser = FormDataParser(factory, max_form_memory_size=FIELD_MEMORY_BYTES, max_form_parts=MAX_PARTS,
                            max_content_length=cap + MULTIPART_OVERHEAD, silent=False)
    try:
        _, _, files = parser.parse(request.stream, request.mimetype, request.content_length,
                                   request.mimetype_params)
    except BaseException as exc:
        for part in parts:
            part.discard()
        if isinstance(exc, RequestEntityTooLarge):
            raise PayloadTooLarge(too_large) from exc
        if isinstance(exc, ValueError):
            raise BadRequest("The multipart body is malformed.", code="malformed_multipart") from exc
        raise
    chosen = files.get(FIELD)
    for part in parts:
        if chosen is None or part is not chosen.stream:
            part.discard()
    if chosen is None:
        raise BadRequest(f"The form needs a file in the field `{FIELD}`.", code="missing_file")
    return chosen.stream, chosen.filename
