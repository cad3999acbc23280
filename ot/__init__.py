"""Operational Transformation for plain text: pure, stdlib only, no I/O.

``operations`` holds the value types and ``apply``; ``transform`` the algebra;
``wire`` the JSON shapes; ``authority`` the server's rebase-and-apply step. When a
compiled build of exactly these sources exists, they are imported from it (``_accel``).
"""
from ot._accel import use_compiled

COMPILED = use_compiled(__path__)  # before the modules below are imported

from ot.authority import apply_revisions, base_text, check_revision, rebase, submit
from ot.errors import InvalidOperation, OTError, StaleRevision
from ot.operations import Delete, Insert, Op, apply, apply_all, check_fits, invert
from ot.transform import transform, transform_pair, wins_tie
from ot.wire import components_from_wire, op_from_wire, op_to_wire, revision_to_wire

__all__ = [
    "COMPILED",
    "Delete",
    "Insert",
    "InvalidOperation",
    "OTError",
    "Op",
    "StaleRevision",
    "apply",
    "apply_all",
    "apply_revisions",
    "base_text",
    "check_fits",
    "check_revision",
    "components_from_wire",
    "invert",
    "op_from_wire",
    "op_to_wire",
    "rebase",
    "revision_to_wire",
    "submit",
    "transform",
    "transform_pair",
    "wins_tie",
]
