"""Uploads over a real server: real small media files in, the same bytes back to their owner only."""
from __future__ import annotations

import hashlib
import http.client
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.test_uploads_formats import AUDIO_SAMPLES, IMAGE_SAMPLES, png_bytes, wav_bytes
from tests.support.api import Account, Api
from tests.support.server import GENEROUS_LIMITS, ServerProcess

MIB = 1024 * 1024
AUDIO, PICTURE = "/api/v1/audio/upload", "/api/v1/users/upload-profile-picture"


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("uploads"), env={"SECRET_KEY": "up-secret-" + "u" * 40, **GENEROUS_LIMITS})
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def uapi(upload_server: ServerProcess) -> Iterator[Api]:
    api = Api(upload_server.url)
    yield api
    api.http.close()


def upload(api: Api, account: Account | None, path: str, data: bytes, name: str = "file.bin"):  # type: ignore[no-untyped-def]
    return api.post(path, account, files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize("name", sorted(AUDIO_SAMPLES))
def test_audio_round_trip_with_metadata(uapi: Api, name: str) -> None:
    data, media_type, duration = AUDIO_SAMPLES[name]
    owner = uapi.register("audio")
    resp = upload(uapi, owner, AUDIO, data, f"take-{name}.bin")
    assert resp.status_code == 201, resp.text
    info = resp.json()["upload"]
    assert (info["kind"], info["media_type"], info["size_bytes"]) == ("audio", media_type, len(data))
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["duration_ms"] == duration and info["original_name"] == f"take-{name}.bin"
    back = uapi.get(info["url"], owner)
    assert back.status_code == 200 and back.content == data
    assert back.headers["Content-Type"] == media_type
    assert back.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", sorted(IMAGE_SAMPLES))
def test_profile_picture_round_trip_sets_the_avatar(uapi: Api, upload_server: ServerProcess, name: str) -> None:
    data, media_type = IMAGE_SAMPLES[name]
    owner = uapi.register("pic")
    resp = upload(uapi, owner, PICTURE, data, "me.jpg")
    assert resp.status_code == 201, resp.text
    info = resp.json()["upload"]
    assert (info["kind"], info["media_type"], info["duration_ms"]) == ("profile_picture", media_type, None)
    back = uapi.get(info["url"], owner)
    assert back.content == data and back.headers["Content-Type"] == media_type
    assert back.headers["X-Content-Type-Options"] == "nosniff"
    assert _avatar_of(upload_server.data_dir, owner.id) == info["id"]


def test_a_new_picture_replaces_and_deletes_the_old_one(uapi: Api, upload_server: ServerProcess) -> None:
    owner = uapi.register("repl")
    first = upload(uapi, owner, PICTURE, png_bytes()).json()["upload"]
    second = upload(uapi, owner, PICTURE, png_bytes(width=8)).json()["upload"]
    assert _avatar_of(upload_server.data_dir, owner.id) == second["id"]
    assert uapi.get(first["url"], owner).status_code == 404
    assert uapi.get(second["url"], owner).status_code == 200


def test_the_type_comes_from_the_bytes_not_the_name(uapi: Api) -> None:
    owner = uapi.register("sniff")
    png_as_wav = upload(uapi, owner, AUDIO, png_bytes(), "song.wav")
    assert png_as_wav.status_code == 415
    assert png_as_wav.json()["error"]["code"] == "unsupported_media_type"
    wav_as_png = upload(uapi, owner, PICTURE, wav_bytes(), "me.png")
    assert wav_as_png.status_code == 415
    text = upload(uapi, owner, AUDIO, b"just some text, not audio", "notes.mp3")
    assert text.status_code == 415
    renamed = upload(uapi, owner, AUDIO, wav_bytes(), "cover.png")
    assert renamed.status_code == 201 and renamed.json()["upload"]["media_type"] == "audio/wav"


def test_malformed_requests_are_refused_clearly(uapi: Api) -> None:
    owner = uapi.register("bad")
    as_json = uapi.post(AUDIO, owner, json={"file": "UklGRg=="})
    assert as_json.status_code == 415 and as_json.json()["error"]["code"] == "unsupported_media_type"
    wrong_field = uapi.post(AUDIO, owner, files={"audio": ("a.wav", wav_bytes())})
    assert wrong_field.status_code == 400 and wrong_field.json()["error"]["code"] == "missing_file"
    empty = upload(uapi, owner, AUDIO, b"")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_file"
    assert upload(uapi, None, AUDIO, wav_bytes()).status_code == 401


def test_files_are_served_to_their_owner_only(uapi: Api) -> None:
    owner, other = uapi.register("own"), uapi.register("other")
    audio = upload(uapi, owner, AUDIO, wav_bytes()).json()["upload"]
    picture = upload(uapi, owner, PICTURE, png_bytes()).json()["upload"]
    for url in (audio["url"], picture["url"]):
        assert uapi.get(url, owner).status_code == 200
        resp = uapi.get(url, other)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
        assert uapi.get(url).status_code == 401
    assert uapi.get(f"/api/v1/users/profile-picture/{audio['id']}", owner).status_code == 404
    assert uapi.get(f"/api/v1/audio/{picture['id']}", owner).status_code == 404
    assert uapi.get("/api/v1/audio/not-an-id", owner).status_code == 404


@pytest.mark.parametrize("path,cap", [(AUDIO, 50 * MIB), (PICTURE, 5 * MIB)])
def test_a_declared_length_over_the_cap_is_413_before_the_body_is_read(
        upload_server: ServerProcess, uapi: Api, path: str, cap: int) -> None:
    owner = uapi.register("big")
    boundary = "xyzBOUNDARY"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + png_bytes()
    conn = http.client.HTTPConnection("127.0.0.1", upload_server.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {owner.token}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(cap + 1024 * 1024))
        conn.endheaders()
        conn.send(head)  # a few hundred bytes of the 5-51 MiB promised: the answer comes anyway
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 413, body
    assert b'"payload_too_large"' in body and resp.getheader("Content-Type") == "application/json"


def test_a_streamed_file_over_the_cap_is_413_and_leaves_nothing(uapi: Api, upload_server: ServerProcess) -> None:
    owner = uapi.register("stream")
    oversize = png_bytes(padding=5 * MIB)  # a valid PNG just over 5 MiB, sent chunked (no length)

    def chunks() -> Iterator[bytes]:
        boundary_head = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\r\n")
        yield boundary_head
        for start in range(0, len(oversize), 256 * 1024):
            yield oversize[start:start + 256 * 1024]
        yield b"\r\n--B--\r\n"

    resp = uapi.post(PICTURE, owner, data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large"
    assert "5 MiB" in resp.json()["error"]["message"]
    incoming = upload_server.data_dir / "uploads" / ".incoming"
    assert not list(incoming.glob("*")), "partial uploads must be deleted"


def test_a_file_of_exactly_the_cap_is_accepted(uapi: Api) -> None:
    owner = uapi.register("edge")
    base = png_bytes(padding=1)
    exact = png_bytes(padding=1 + 5 * MIB - len(base))
    assert len(exact) == 5 * MIB
    resp = upload(uapi, owner, PICTURE, exact)
    assert resp.status_code == 201 and resp.json()["upload"]["size_bytes"] == 5 * MIB


def test_upload_endpoints_are_documented_as_multipart(uapi: Api) -> None:
    paths = uapi.get("/api/v1/openapi.json").json()["paths"]
    for path in (AUDIO, PICTURE):
        operation = paths[path]["post"]
        assert "multipart/form-data" in operation["requestBody"]["content"]
        assert {"201", "413", "415", "429"} <= set(operation["responses"])
    assert "get" in paths["/api/v1/audio/{upload_id}"]
    assert "get" in paths["/api/v1/users/profile-picture/{upload_id}"]


def _avatar_of(data_dir: Path, user_id: int) -> str | None:
    with sqlite3.connect(data_dir / "app.db") as conn:
        return conn.execute("SELECT avatar_upload_id FROM users WHERE id = ?", (user_id,)).fetchone()[0]


def test_partial_files_left_by_a_crash_are_swept_at_start(tmp_path: Path) -> None:
    from app.uploads.service import UploadService, kinds

    incoming = tmp_path / "uploads" / ".incoming"
    incoming.mkdir(parents=True)
    stale, live = incoming / "old.part", incoming / "new.part"
    stale.write_bytes(b"x")
    live.write_bytes(b"y")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    service = UploadService(None, tmp_path / "uploads", kinds(MIB, MIB))  # type: ignore[arg-type]
    assert service.sweep_incoming() == 1
    assert not stale.exists() and live.exists()
