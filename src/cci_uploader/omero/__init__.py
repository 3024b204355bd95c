"""A small typed API over omero-py: the only code in the app that touches it."""

from cci_uploader.omero.annotations import CLIENT_NS, annotate, existing_values, tag_text
from cci_uploader.omero.connection import Connection, Group, connect, server_url
from cci_uploader.omero.containers import get_or_create_dataset, get_or_create_project
from cci_uploader.omero.errors import (
    ChecksumMismatch,
    ConnectionLost,
    ImportFailed,
    ImportTimeout,
    LoginFailed,
    NotAMember,
    OmeroError,
    ServerUnreachable,
    SessionExpired,
    SourceChanged,
)
from cci_uploader.omero.transfer import (
    Imported,
    ImportEvent,
    Processing,
    Uploading,
    find_duplicate,
    import_file,
)

__all__ = [
    "CLIENT_NS",
    "ChecksumMismatch",
    "Connection",
    "ConnectionLost",
    "Group",
    "ImportEvent",
    "ImportFailed",
    "ImportTimeout",
    "Imported",
    "LoginFailed",
    "NotAMember",
    "OmeroError",
    "Processing",
    "ServerUnreachable",
    "SessionExpired",
    "SourceChanged",
    "Uploading",
    "annotate",
    "connect",
    "existing_values",
    "find_duplicate",
    "get_or_create_dataset",
    "get_or_create_project",
    "import_file",
    "server_url",
    "tag_text",
]
