"""Audio and profile-picture uploads, streamed to DATA_DIR and described in SQL."""
from __future__ import annotations

from flask import Flask

from app.services import Services
from app.uploads.service import UploadService, kinds


def init_uploads(app: Flask, services: Services) -> None:
    """Build the upload service (`services.uploads`) and mount its routes."""
    from app.uploads.routes import bp

    settings = services.settings
    uploads = UploadService(services.db, settings.data_dir / "uploads",
                            kinds(settings.upload_audio_max_bytes, settings.upload_image_max_bytes))
    uploads.sweep_incoming()
    services.extra["uploads"] = uploads
    app.register_blueprint(bp)
