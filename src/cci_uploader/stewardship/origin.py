"""Which server a history record may be verified against: only the one it was made on.

The training sandbox is never a verified copy: it forgets everything when it
stops.  A record names the server (host and port) and the OMERO user it was
made with; fileset ids mean nothing on another server, and a check by another
user is not the check the record describes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cci_uploader.omero.connection import Connection, server_url

if TYPE_CHECKING:
    from cci_uploader.stewardship.history import Upload

SANDBOX = "the training sandbox is not a copy anyone can rely on"


def _host_port(server: str) -> tuple[str, str] | None:
    try:
        url = server_url(server)
    except ValueError:
        return None
    _, _, rest = url.partition("://")
    host, _, port = rest.rpartition(":")
    return host.lower(), port


def same_server(a: str, b: str) -> bool:
    """Whether two server addresses name the same host and port (``HOST`` = ``HOST:4064``)."""
    first, second = _host_port(a), _host_port(b)
    return first is not None and first == second


def sandbox_problem(conn: Connection) -> str | None:
    """Why nothing may be verified on this connection's server, if it is the sandbox."""
    return SANDBOX if conn.is_sandbox else None


def origin_problem(conn: Connection, upload: Upload) -> str | None:
    """Why ``upload`` may not be verified on ``conn``; None when it was made there, so."""
    if conn.is_sandbox:
        return SANDBOX
    if not same_server(upload.server, conn.server):
        return (
            f"it was uploaded to {upload.server}, not {conn.server}; a record is only "
            "checked against the server it was made on"
        )
    if (upload.omero_user, upload.user_id) != (conn.user_name, conn.user_id):
        return (
            f"it was uploaded by the OMERO user {upload.omero_user}, not {conn.user_name}; "
            "a record is only checked by the user who made it"
        )
    return None
