"""The signing secret: configured, or generated once and kept in DATA_DIR."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret(data_dir: Path, configured: str) -> str:
    """Return SECRET_KEY if set; else read `DATA_DIR/secret_key`, creating it (mode 0600) on first run."""
    if configured:
        if len(configured) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        return configured
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
