"""Channels: shared spaces whose members see each other's presence and edit its documents.

`services.extra["channels"]` is a `ChannelService`: `is_member(channel_id, user_id)`,
`members(channel_id) -> [user_id]`, `peers_of(user_id) -> {user_id}`, and hooks
`on_channel_deleted(cb(channel_id, former_member_ids))`, `on_member_added(cb(channel_id, user_id))`,
`on_member_removed(cb(channel_id, user_id))`, called after the change is committed.
"""
from __future__ import annotations

from flask import Flask

from app.channels.service import ChannelService
from app.services import Services


def init_channels(app: Flask, services: Services) -> ChannelService:
    """Build the ChannelService, store it in `services.extra["channels"]` and mount the endpoints."""
    from app.channels.routes import bp

    channels = ChannelService(services.db)
    services.extra["channels"] = channels
    app.register_blueprint(bp)
    return channels


__all__ = ["ChannelService", "init_channels"]
