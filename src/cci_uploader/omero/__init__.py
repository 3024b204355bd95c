"""A small typed API over omero-py: the only code in the app that touches it."""

from cci_uploader.omero.annotations import CLIENT_NS, annotate, existing_values, tag_text
from cci_uploader.omero.client_paths import client_path, stored_name
from cci_uploader.omero.connection import Connection, Group, connect, server_url
from cci_uploader.omero.containers import get_or_create_dataset, get_or_create_project
from cci_uploader.omero.duplicates import find_duplicates
from cci_uploader.omero.errors import (
    AnnotationFailed,
    ChecksumMismatch,
    ConnectionLost,
    GroupSwitchRefused,
    ImportFailed,
    ImportStillRunning,
    ImportTimeout,
    LoginFailed,
    NotAMember,
    OmeroError,
    PermissionRefused,
    ServerRefused,
    ServerUnreachable,
    SessionExpired,
    SourceChanged,
    StorageFull,
)
from cci_uploader.omero.orphans import clean_remembered as clean_unfinished_uploads
from cci_uploader.omero.orphans import discard_upload, upload_verified
from cci_uploader.omero.transfer import (
    STILL_IMPORTING,
    Imported,
    ImportEvent,
    Processing,
    Uploading,
    Verifying,
    find_duplicate,
    import_file,
)

__all__ = [
    "CLIENT_NS",
    "STILL_IMPORTING",
    "AnnotationFailed",
    "ChecksumMismatch",
    "Connection",
    "ConnectionLost",
    "Group",
    "GroupSwitchRefused",
    "ImportEvent",
    "ImportFailed",
    "ImportStillRunning",
    "ImportTimeout",
    "Imported",
    "LoginFailed",
    "NotAMember",
    "OmeroError",
    "PermissionRefused",
    "Processing",
    "ServerRefused",
    "ServerUnreachable",
    "SessionExpired",
    "SourceChanged",
    "StorageFull",
    "Uploading",
    "Verifying",
    "annotate",
    "clean_unfinished_uploads",
    "client_path",
    "connect",
    "discard_upload",
    "existing_values",
    "find_duplicate",
    "find_duplicates",
    "get_or_create_dataset",
    "get_or_create_project",
    "import_file",
    "server_url",
    "stored_name",
    "tag_text",
    "upload_verified",
]
