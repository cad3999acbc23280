"""Security headers on API responses; CORS closed by default."""
from flask.testing import FlaskClient


def test_api_responses_carry_security_headers(client: FlaskClient) -> None:
    for resp in (client.get("/healthz"), client.get("/api/v1/auth/me"), client.get("/nowhere")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/api/v1/auth/me").headers["Cache-Control"] == "no-store"


def test_cors_is_closed(client: FlaskClient) -> None:
    preflight = client.options("/api/v1/errors/batch", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    resp = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"},
                       headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
