"""Self-reporting never reports the Sentry ingest's own failures (a DSN pointing here would loop)."""
from flask import Flask

from app.sentry.reporting import drop_ingest_events, is_ingest_event
from app.sentry.routes import bp


def _app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(bp)
    return app


def test_events_raised_in_an_ingest_request_are_dropped() -> None:
    app = _app()
    with app.test_request_context("/api/3/envelope/", method="POST"):
        assert is_ingest_event({"message": "x"})
        assert drop_ingest_events({"message": "x"}, {}) is None
    with app.test_request_context("/api/v1/errors"):
        assert drop_ingest_events({"message": "x"}, {}) == {"message": "x"}


def test_ingest_urls_and_loggers_are_recognised_outside_a_request() -> None:
    assert is_ingest_event({"request": {"url": "http://h:8000/api/12/store/?sentry_key=k"}})
    assert is_ingest_event({"request": {"url": "https://h/api/12/envelope"}})
    assert is_ingest_event({"logger": "app.sentry.quota"})
    assert not is_ingest_event({"request": {"url": "https://h/api/v1/errors/batch"}, "logger": "app.errors"})
    assert not is_ingest_event({"request": "junk"})
