"""Error tracking endpoints: thin handlers over the tracking service."""
from flask import Blueprint, jsonify

from app.api.openapi import documented
from app.api.validation import json_body, parse_body, parse_query
from app.auth.guard import STAFF, current_user, require_user
from app.errors import NotFound
from app.services import services
from app.tracking.schemas import (BatchRequest, BatchResponse, DetailQuery, GroupDetail, GroupList,
                                  GroupPatch, ListQuery, StatsQuery, StatsResponse)

bp = Blueprint("errors", __name__, url_prefix="/api/v1/errors")
_GROUP_ID = "0123456789abcdef"


def _checked_group_id(group_id: str) -> str:
    if len(group_id) != 16 or any(c not in _GROUP_ID for c in group_id):
        raise NotFound("No such error group.")
    return group_id


@bp.post("/batch")
@require_user()
@documented("Report a batch of errors; valid items are kept, the rest reported by index",
            tags=("errors",), body=BatchRequest, response=BatchResponse, errors=(413, 503))
def batch():  # type: ignore[no-untyped-def]
    return jsonify(services().tracking.ingest.ingest(json_body(), current_user().id))


@bp.get("")
@bp.get("/")
@require_user()
@documented("Error groups, most recently seen first", tags=("errors",), query=ListQuery, response=GroupList)
def list_groups():  # type: ignore[no-untyped-def]
    return jsonify(services().tracking.list_groups(current_user(), parse_query(ListQuery)))


@bp.get("/stats")
@require_user()
@documented("Totals, top groups and an hourly series", tags=("errors",), query=StatsQuery, response=StatsResponse)
def stats():  # type: ignore[no-untyped-def]
    return jsonify(services().tracking.stats(current_user(), parse_query(StatsQuery).hours))


@bp.get("/<group_id>")
@require_user()
@documented("A group with recent events and an hourly histogram", tags=("errors",), query=DetailQuery,
            response=GroupDetail, errors=(404,))
def group_detail(group_id: str):  # type: ignore[no-untyped-def]
    hours = parse_query(DetailQuery).hours
    return jsonify(services().tracking.group_detail(current_user(), _checked_group_id(group_id), hours))


@bp.patch("/<group_id>")
@require_user(*STAFF)
@documented("Resolve, ignore or reopen a group", tags=("errors",), body=GroupPatch, response=GroupDetail,
            errors=(404,))
def patch_group(group_id: str):  # type: ignore[no-untyped-def]
    body = parse_body(GroupPatch)
    return jsonify(services().tracking.set_status(current_user(), _checked_group_id(group_id), body.status))
