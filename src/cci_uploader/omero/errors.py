"""Exceptions the OMERO adapter raises; each message is meant for the user."""

from __future__ import annotations


class OmeroError(Exception):
    """Base class: ``str(error)`` says what happened and what to do."""


class LoginFailed(OmeroError):
    """The server refused the token."""


class SessionExpired(OmeroError):
    """The session behind the token ended; a new token is needed."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "Your OMERO session has expired. Log in to OMERO.web again, copy a new "
            "token and paste it here; the queue continues where it stopped."
        )


class ServerUnreachable(OmeroError):
    """No OMERO server answered at the address."""


class ConnectionLost(OmeroError):
    """The connection dropped in the middle of an operation."""


class NotAMember(OmeroError):
    """The user asked for a group they do not belong to."""


class ChecksumMismatch(OmeroError):
    """The server received bytes that differ from the local file."""


class ImportFailed(OmeroError):
    """The server could not import a file; the message carries the server's reason."""


class ImportTimeout(OmeroError):
    """The server did not finish importing in time."""


class SourceChanged(OmeroError):
    """A file changed while it was converted or uploaded; nothing was imported."""


class ImportStillRunning(ImportTimeout):
    """We stopped waiting, but the server goes on importing; the image will appear."""


class GroupSwitchRefused(OmeroError):
    """OMERO refused to change the session's group (an upload is open in the session)."""


class AnnotationFailed(OmeroError):
    """The images exist, but their key-value pairs or tags could not be attached."""


class ServerRefused(OmeroError):
    """OMERO refused a call; the message says what it refused and what to do."""


class PermissionRefused(ServerRefused):
    """``SecurityViolation``: the user may not do this in this group."""


class StorageFull(ServerRefused):
    """``ResourceError``: the server could not store the data (repository full)."""
