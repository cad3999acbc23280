"""Entry point: `python wsgi.py` serves the app; `flask --app wsgi ...` finds create_app here."""
from app import create_app  # noqa: F401  (the flask CLI discovers the factory)

if __name__ == "__main__":
    from app.server import serve

    serve()
