"""The support dashboard: a Dash app mounted in the Flask server at /dashboard/, staff only.

`init_dashboards(server)` wires everything the dashboard needs: its read services
(`services.extra["ops_metrics"]`, `["error_trends"]`), the request-metrics middleware that feeds
the overview, the sign-in gate, and the Dash app with one module per page.
"""
from __future__ import annotations

from pathlib import Path

from dash import Dash
from flask import Flask

from app.dashboard_auth import init_dashboard_auth
from app.ops.metrics_queries import OpsMetricsQueries
from app.ops.request_metrics import init_request_metrics
from app.security_headers import register_page_policy
from app.services import Services
from app.tracking.trends import ErrorTrends

ASSETS = Path(__file__).resolve().parent / "assets"
URL_BASE = "/dashboard/"


def build_dash(server: Flask) -> Dash:
    """The Dash app on `server`, with the frame, the router and every page's callbacks."""
    from dashboards import shell
    from dashboards.pages import collaboration, errors, group, overview, rate_limits

    dash_app = Dash(__name__, server=server, url_base_pathname=URL_BASE,  # type: ignore[arg-type]
                    assets_folder=str(ASSETS), title="Support dashboard", update_title=None,  # type: ignore[arg-type]
                    suppress_callback_exceptions=True, serve_locally=True)
    dash_app.layout = shell.layout
    shell.register(dash_app)
    for page in (overview, errors, group, rate_limits, collaboration):
        page.register(dash_app)
    return dash_app


def page_policy(dash_app: Dash) -> str:
    """The dashboard's Content-Security-Policy: its own scripts (and Dash's hashed inline one) only."""
    scripts = " ".join(["'self'", *dash_app.csp_hashes()])
    # Plotly adds <style> elements at run time, hence 'unsafe-inline' for styles (not scripts).
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def init_dashboards(server: Flask, services: Services | None = None) -> Dash:
    """Mount the dashboard (and the request metrics it reads) on the app."""
    services = services or server.extensions["services"]
    services.extra["ops_metrics"] = OpsMetricsQueries(services.analytics)
    services.extra["error_trends"] = ErrorTrends(services.analytics, services.tracking.groups,
                                                 services.tracking.queries)
    init_request_metrics(server, services)
    init_dashboard_auth(server, services, URL_BASE.rstrip("/"))
    dash_app = build_dash(server)
    register_page_policy(server, URL_BASE.rstrip("/"), page_policy(dash_app))
    server.extensions["dashboard"] = dash_app
    return dash_app
