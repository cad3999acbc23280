"""Analytics endpoints: thin handlers over the analytics service."""
from flask import Blueprint, Response, jsonify, stream_with_context

from app.analytics.exports import EXPORT_FORMATS
from app.analytics.schemas import (
    AuditPage,
    AuditQuery,
    FormatQuery,
    QueryRequest,
    QueryResponse,
    SqlRequest,
    SqlResponse,
)
from app.analytics.service import AnalyticsService
from app.api.openapi import documented
from app.api.validation import parse_body, parse_query
from app.auth.guard import STAFF, current_user, require_user
from app.services import services

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")


def _analytics() -> AnalyticsService:
    return services().error_analytics


@bp.post("/query")
@require_user(*STAFF)
@documented("Ask a structured question of the error events; ?format=csv|jsonl|parquet streams an export",
            tags=("analytics",), query=FormatQuery, body=QueryRequest, response=QueryResponse, errors=(503,),
            extra={"x-export-formats": {name: fmt.media_type for name, fmt in EXPORT_FORMATS.items()}})
def query():  # type: ignore[no-untyped-def]
    fmt = parse_query(FormatQuery).format
    body = parse_body(QueryRequest)
    if fmt == "json":
        return jsonify(_analytics().query(current_user().id, body))
    export = EXPORT_FORMATS[fmt]
    filename, chunks = _analytics().export(current_user().id, body, export)
    return Response(stream_with_context(chunks), mimetype=export.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/sql")
@require_user("admin")
@documented("Run one read-only SELECT over the analytics tables (admins; audited)", tags=("analytics",),
            body=SqlRequest, response=SqlResponse, errors=(503,))
def sql():  # type: ignore[no-untyped-def]
    return jsonify(_analytics().run_sql(current_user().id, parse_body(SqlRequest).sql))


@bp.get("/audit")
@require_user("admin")
@documented("Who ran which analytics query, when, with what outcome (admins)", tags=("analytics",),
            query=AuditQuery, response=AuditPage)
def audit():  # type: ignore[no-untyped-def]
    params = parse_query(AuditQuery)
    return jsonify(_analytics().audit.page(params.limit, params.cursor, params.kind, params.user_id))
