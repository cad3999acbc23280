"""SQLAlchemy models: the SQL side's tables, one module per feature."""
from app.models.base import Base, now_ms
from app.models.users import User, ROLES
from app.models.tracking import ErrorGroup, GROUP_STATUSES
from app.models.channels import Channel, ChannelMember
from app.models.documents import Document, Operation
from app.models.uploads import Upload
from app.models.notifications import Notification
from app.models.projects import Project, ProjectKey
from app.models.audit import AnalyticsAudit

__all__ = [
    "Base", "now_ms", "User", "ROLES", "ErrorGroup", "GROUP_STATUSES", "Channel", "ChannelMember",
    "Document", "Operation", "Upload", "Notification", "Project", "ProjectKey", "AnalyticsAudit",
]
