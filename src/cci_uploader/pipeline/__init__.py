"""Convert, import, annotate, record: the queue that takes planned files to OMERO.

:mod:`~cci_uploader.pipeline.state` holds what the queue says about a file,
:mod:`~cci_uploader.pipeline.steps` one file's steps in order, and
:mod:`~cci_uploader.pipeline.queue` the queue that runs them.
"""

from cci_uploader.pipeline.queue import ImportQueue
from cci_uploader.pipeline.state import (
    PAUSED_OFFLINE,
    ConnectionDown,
    EntryChanged,
    FileState,
    QueueDone,
    QueueEvent,
    SessionLost,
    Status,
)

__all__ = [
    "PAUSED_OFFLINE",
    "ConnectionDown",
    "EntryChanged",
    "FileState",
    "ImportQueue",
    "QueueDone",
    "QueueEvent",
    "SessionLost",
    "Status",
]
