"""Channel and membership endpoints: thin handlers over the ChannelService."""
from flask import Blueprint, Response, jsonify

from app.api.openapi import documented
from app.api.validation import parse_body
from app.auth.guard import current_user, require_user
from app.channels.schemas import AddMember, ChannelList, ChannelOut, CreateChannel
from app.errors import NotFound
from app.services import services

bp = Blueprint("channels", __name__, url_prefix="/api/v1/channels")
_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-")


def _checked(channel_id: str) -> str:
    if not 1 <= len(channel_id) <= 32 or not set(channel_id) <= _ID_CHARS:
        raise NotFound("No such channel.")
    return channel_id


@bp.post("")
@require_user()
@documented("Create a channel owned by the caller (its first member)", tags=("channels",),
            body=CreateChannel, response=ChannelOut, status=201)
def create_channel():  # type: ignore[no-untyped-def]
    body = parse_body(CreateChannel)
    return jsonify(services().channels.create(current_user(), body.name)), 201


@bp.get("")
@require_user()
@documented("The caller's channels, newest first", tags=("channels",), response=ChannelList)
def list_channels():  # type: ignore[no-untyped-def]
    return jsonify({"channels": services().channels.list_for(current_user())})


@bp.get("/<channel_id>")
@require_user()
@documented("A channel with its members (members, support and admin)", tags=("channels",),
            response=ChannelOut, errors=(404,))
def get_channel(channel_id: str):  # type: ignore[no-untyped-def]
    return jsonify(services().channels.detail(_checked(channel_id), current_user()))


@bp.delete("/<channel_id>")
@require_user()
@documented("Delete a channel with its documents and their history (owner or admin); members "
            "get a `channel_deleted` frame", tags=("channels",), status=204, errors=(404,))
def delete_channel(channel_id: str) -> Response:
    services().channels.delete(_checked(channel_id), current_user())
    return Response(status=204)


@bp.post("/<channel_id>/members")
@require_user()
@documented("Add a member (owner or admin); 201 when added, 200 when already a member",
            tags=("channels",), body=AddMember, response=ChannelOut, status=201, also=(200,), errors=(404,))
def add_member(channel_id: str):  # type: ignore[no-untyped-def]
    body = parse_body(AddMember)
    channel, added = services().channels.add_member(_checked(channel_id), current_user(), body.user_id)
    return jsonify(channel), 201 if added else 200


@bp.delete("/<channel_id>/members/<int:user_id>")
@require_user()
@documented("Remove a member (owner or admin), or leave (the member itself); the owner cannot leave",
            tags=("channels",), status=204, errors=(404, 409))
def remove_member(channel_id: str, user_id: int) -> Response:
    services().channels.remove_member(_checked(channel_id), current_user(), user_id)
    return Response(status=204)
