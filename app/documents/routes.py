"""Document history over HTTP: thin handlers over the document service."""
from flask import Blueprint, jsonify

from app.api.openapi import documented
from app.api.validation import parse_query
from app.auth.guard import current_user, require_user
from app.documents.schemas import DocumentHead, HistoryQuery, OperationList
from app.services import services

bp = Blueprint("documents", __name__, url_prefix="/api/v1/documents")


@bp.get("/<document_id>")
@require_user()
@documented("A document's current text and revision (members of its channel only)", tags=("documents",),
            response=DocumentHead, errors=(404, 503))
def get_document(document_id: str):  # type: ignore[no-untyped-def]
    return jsonify(services().documents.read(current_user().id, document_id))


@bp.get("/<document_id>/operations")
@require_user()
@documented("The revisions after from_revision, in order (410 stale_revision once collected)",
            tags=("documents",), query=HistoryQuery, response=OperationList, errors=(404, 410, 503))
def list_operations(document_id: str):  # type: ignore[no-untyped-def]
    query = parse_query(HistoryQuery)
    return jsonify(services().documents.history(current_user().id, document_id, query.from_revision,
                                                query.limit))
