"""Upload endpoints: thin handlers over the upload service."""
from flask import Blueprint, Response, jsonify, send_file, url_for

from app.api.openapi import documented
from app.auth.guard import current_user, require_user
from app.services import services
from app.uploads.schemas import UploadForm, UploadResponse

bp = Blueprint("uploads", __name__)
_ERRORS = (413, 415)


def _created(kind: str, endpoint: str):  # type: ignore[no-untyped-def]
    upload = services().uploads.receive(current_user(), kind)
    upload["url"] = url_for(endpoint, upload_id=upload["id"])
    return jsonify({"upload": upload}), 201


def _file(kind: str, upload_id: str) -> Response:
    path, row = services().uploads.find(current_user(), kind, upload_id)
    response = send_file(path, mimetype=row.media_type, conditional=True, etag=row.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/api/v1/audio/upload")
@require_user()
@documented("Upload audio (WAV, AIFF, FLAC, MP3, OGG by their bytes; 50 MiB)", tags=("uploads",),
            body=UploadForm, content_type="multipart/form-data", response=UploadResponse, status=201,
            errors=_ERRORS)
def upload_audio():  # type: ignore[no-untyped-def]
    return _created("audio", "uploads.audio_file")


@bp.get("/api/v1/audio/<upload_id>")
@require_user()
@documented("Your uploaded audio file, with its media type", tags=("uploads",), errors=(404,))
def audio_file(upload_id: str):  # type: ignore[no-untyped-def]
    return _file("audio", upload_id)


@bp.post("/api/v1/users/upload-profile-picture")
@require_user()
@documented("Upload your profile picture (PNG, JPEG, WebP by their bytes; 5 MiB)", tags=("uploads",),
            body=UploadForm, content_type="multipart/form-data", response=UploadResponse, status=201,
            errors=_ERRORS)
def upload_profile_picture():  # type: ignore[no-untyped-def]
    return _created("profile_picture", "uploads.profile_picture_file")


@bp.get("/api/v1/users/profile-picture/<upload_id>")
@require_user()
@documented("Your profile picture, with its media type", tags=("uploads",), errors=(404,))
def profile_picture_file(upload_id: str):  # type: ignore[no-untyped-def]
    return _file("profile_picture", upload_id)
