"""What the queue says about each file: a frozen state, and the events that carry it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from cci_uploader.plan import PlannedFile

CHECKING = "checking whether it is already on the server"
PAUSED_OFFLINE = "paused: the connection to OMERO was lost"


class Status(StrEnum):
    """Where a file is in the queue; the GUI colours rows by it."""

    PENDING = "pending"
    QUEUED = "queued"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    DUPLICATE = "duplicate"
    ERROR = "error"


@dataclass(frozen=True)
class FileState:
    """What has happened to one planned file so far.

    Only the queue makes new states (with :func:`dataclasses.replace`); every
    change reaches the CLI and the GUI as an :class:`EntryChanged`.
    """

    status: Status = Status.PENDING
    message: str = ""
    image_ids: tuple[int, ...] = ()
    done_bytes: int = 0
    total_bytes: int = 0
    sha1: str | None = None  # of the main file (a converted file: of its main source)
    # SHA-1 of a converted file's sources, hashed once before converting.
    source_sha1s: tuple[tuple[Path, str], ...] = ()

    @property
    def progress(self) -> int:
        """Percent done, 0 to 100."""
        if self.status in (Status.UPLOADED, Status.DUPLICATE):
            return 100
        if self.total_bytes <= 0:
            return 0
        return min(100, self.done_bytes * 100 // self.total_bytes)


def initial_state(file: PlannedFile) -> FileState:
    """Pending, or an error at once for a file that cannot be uploaded."""
    if file.refused:
        return FileState(Status.ERROR, file.scan.reason or "")
    return FileState()


@dataclass(frozen=True)
class EntryChanged:
    """A file's status, message or progress changed: its new state."""

    index: int
    file: PlannedFile
    state: FileState


@dataclass(frozen=True)
class SessionLost:
    """The session expired: the queue paused; give it a new connection to go on."""

    message: str


@dataclass(frozen=True)
class QueueDone:
    """The run ended (not paused)."""


@dataclass(frozen=True)
class ConnectionDown:
    """The server went away: the queue paused once; reconnect, then run it again.

    The file that was being sent is queued again (nothing of it was imported),
    so running the queue after a reconnect loses nothing and sends nothing twice.
    """

    message: str


QueueEvent = EntryChanged | SessionLost | ConnectionDown | QueueDone
