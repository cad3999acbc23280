"""Channels and membership over SQL, with hooks so live features react to deletions and removals."""
from __future__ import annotations

import logging
import secrets
from typing import Any, Callable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound
from app.models import Channel, ChannelMember, User
from app.storage import StorageError
from app.storage.sql import Database

log = logging.getLogger(__name__)

STAFF_ROLES = ("support", "admin")
ChannelHook = Callable[[str, list[int]], None]
MemberHook = Callable[[str, int], None]


def new_channel_id() -> str:
    """A short, URL-safe, unguessable channel id (12 hex characters)."""
    return secrets.token_hex(6)


class ChannelService:
    """Who belongs where: reads for the hub (members, peers) and owner-checked changes for the API."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._deleted_hooks: list[ChannelHook] = []
        self._added_hooks: list[MemberHook] = []
        self._removed_hooks: list[MemberHook] = []

    # --- hooks -----------------------------------------------------------------------------------
    def on_channel_deleted(self, hook: ChannelHook) -> None:
        """Call `hook(channel_id, former_member_ids)` after a channel and its documents are deleted."""
        self._deleted_hooks.append(hook)

    def on_member_added(self, hook: MemberHook) -> None:
        """Call `hook(channel_id, user_id)` after a user joins a channel."""
        self._added_hooks.append(hook)

    def on_member_removed(self, hook: MemberHook) -> None:
        """Call `hook(channel_id, user_id)` after a user leaves or is removed from a channel."""
        self._removed_hooks.append(hook)

    # --- reads the hub and other features use ----------------------------------------------------
    def is_member(self, channel_id: str, user_id: int) -> bool:
        """True when the user belongs to the channel."""
        with self._db.session() as session:
            return session.get(ChannelMember, (channel_id, user_id)) is not None

    def members(self, channel_id: str) -> list[int]:
        """User ids of the channel's members (empty for an unknown channel)."""
        with self._db.session() as session:
            return list(session.scalars(select(ChannelMember.user_id)
                                        .where(ChannelMember.channel_id == channel_id)
                                        .order_by(ChannelMember.user_id)))

    def peers_of(self, user_id: int) -> set[int]:
        """Users sharing at least one channel with `user_id`, excluding the user."""
        mine = select(ChannelMember.channel_id).where(ChannelMember.user_id == user_id)
        with self._db.session() as session:
            rows = session.scalars(select(ChannelMember.user_id).distinct()
                                   .where(ChannelMember.channel_id.in_(mine), ChannelMember.user_id != user_id))
            return set(rows)

    # --- the API's operations --------------------------------------------------------------------
    def create(self, owner: User, name: str) -> dict[str, Any]:
        """A new channel owned by `owner`, who is its first member."""
        for _attempt in range(3):
            channel_id = new_channel_id()
            try:
                with self._db.session() as session:
                    session.add(Channel(id=channel_id, name=name, owner_id=owner.id))
                    session.flush()
                    session.add(ChannelMember(channel_id=channel_id, user_id=owner.id))
                return self.detail(channel_id, owner)
            except StorageError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise Conflict("Could not allocate a channel id; retry.")

    def detail(self, channel_id: str, viewer: User) -> dict[str, Any]:
        """A channel with its members; members and staff may read it (403 otherwise)."""
        with self._db.session() as session:
            channel = self._channel(session, channel_id)
            rows = session.execute(select(ChannelMember.user_id, User.username, ChannelMember.joined_at_ms)
                                   .join(User, User.id == ChannelMember.user_id)
                                   .where(ChannelMember.channel_id == channel_id)
                                   .order_by(ChannelMember.joined_at_ms, ChannelMember.user_id)).all()
        members = [{"user_id": uid, "username": name, "joined_at_ms": joined} for uid, name, joined in rows]
        if viewer.role not in STAFF_ROLES and all(m["user_id"] != viewer.id for m in members):
            raise Forbidden("Only members of this channel may see it.")
        return {**_public(channel), "members": members}

    def list_for(self, user: User) -> list[dict[str, Any]]:
        """The channels `user` belongs to, newest first, with their member counts."""
        counts = (select(ChannelMember.channel_id, func.count().label("n"))
                  .group_by(ChannelMember.channel_id).subquery())
        mine = select(ChannelMember.channel_id).where(ChannelMember.user_id == user.id)
        with self._db.session() as session:
            rows = session.execute(select(Channel, counts.c.n).join(counts, counts.c.channel_id == Channel.id)
                                   .where(Channel.id.in_(mine))
                                   .order_by(Channel.created_at_ms.desc(), Channel.id)).all()
        return [{**_public(channel), "member_count": n} for channel, n in rows]

    def add_member(self, channel_id: str, actor: User, user_id: int) -> tuple[dict[str, Any], bool]:
        """Add a user (owner or admin only); returns the channel and whether the user was new."""
        with self._db.session() as session:
            self._owned(session, channel_id, actor)
            if session.get(User, user_id) is None:
                raise NotFound("No such user.", code="user_not_found")
            added = session.get(ChannelMember, (channel_id, user_id)) is None
            if added:
                session.add(ChannelMember(channel_id=channel_id, user_id=user_id))
        if added:
            self._fire(self._added_hooks, channel_id, user_id)
        return self.detail(channel_id, actor), added

    def remove_member(self, channel_id: str, actor: User, user_id: int) -> None:
        """Remove a member (the owner or an admin removes anyone but the owner; a member may leave)."""
        with self._db.session() as session:
            channel = self._channel(session, channel_id)
            if actor.id != user_id and actor.id != channel.owner_id and actor.role != "admin":
                raise Forbidden("Only the channel's owner may remove members.")
            if user_id == channel.owner_id:
                raise Conflict("The owner cannot leave the channel; delete it instead.", code="owner_cannot_leave")
            member = session.get(ChannelMember, (channel_id, user_id))
            if member is None:
                raise NotFound("That user is not a member of this channel.", code="not_a_member")
            session.delete(member)
        self._fire(self._removed_hooks, channel_id, user_id)

    def delete(self, channel_id: str, actor: User) -> None:
        """Delete a channel (owner or admin); its documents and their operations go with it (FK cascade)."""
        with self._db.session() as session:
            self._owned(session, channel_id, actor)
            former = list(session.scalars(select(ChannelMember.user_id)
                                          .where(ChannelMember.channel_id == channel_id)))
            session.execute(delete(Channel).where(Channel.id == channel_id))
        self._fire(self._deleted_hooks, channel_id, former)

    # --- helpers ---------------------------------------------------------------------------------
    def _channel(self, session: Session, channel_id: str) -> Channel:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise NotFound("No such channel.")
        return channel

    def _owned(self, session: Session, channel_id: str, actor: User) -> Channel:
        channel = self._channel(session, channel_id)
        if actor.id != channel.owner_id and actor.role != "admin":
            raise Forbidden("Only the channel's owner may do this.")
        return channel

    def _fire(self, hooks: list, *args: Any) -> None:
        for hook in list(hooks):
            try:
                hook(*args)
            except Exception:  # a listener's failure must not undo or fail the committed change
                log.exception("channel hook %r failed", hook)


def _public(channel: Channel) -> dict[str, Any]:
    return {"id": channel.id, "name": channel.name, "owner_id": channel.owner_id,
            "created_at_ms": channel.created_at_ms}
