"""The work the window hands to worker threads: thin wrappers over the core.

Nothing here touches a widget; each function runs off the GUI thread and
returns (or yields) plain values that the GUI thread then shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cci_uploader import omero as om
from cci_uploader.logsetup import register_secret
from cci_uploader.pipeline import (
    ConnectionDown,
    EntryChanged,
    FileState,
    ImportQueue,
    SessionLost,
    Status,
)
from cci_uploader.plan import PlannedFile, plan_file
from cci_uploader.scan import Ignored, scan_batches, scan_paths

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence
    from pathlib import Path

    from cci_uploader.config import Config

FIRST_ROWS = 50  # rows of the first batch, as soon as they are read
ROWS_EVERY_S = 3.0  # a slow scan still shows its rows this often


@dataclass(frozen=True)
class Joined:
    """A connection and the user's groups, ready for the group picker."""

    conn: om.Connection
    groups: list[om.Group]


def join(server: str, token: str, group: int | None = None) -> Joined:
    """Connect with ``token``, switch to ``group`` when given, list the groups."""
    register_secret(token.strip())
    conn = om.connect(server, token)
    try:
        if group is not None:
            conn.switch_group(group)
        groups = conn.list_groups()
    except BaseException:
        conn.close()
        raise
    return Joined(conn, groups)


def choose_group(conn: om.Connection, group: int, key: str) -> tuple[int, list[str]]:
    """Switch to ``group`` and load the values already used for ``key`` there."""
    conn.switch_group(group)
    return group, om.existing_values(conn, key) if key.strip() else []


def values_for(conn: om.Connection, key: str) -> tuple[str, list[str]]:
    """The values already used for ``key`` in the working group."""
    return key, om.existing_values(conn, key) if key.strip() else []


def scan(paths: Sequence[Path], config: Config) -> list[tuple[PlannedFile, int]]:
    """Scan and plan files and folders, with each file's size (both read the disk)."""
    return [(plan_file(entry, config), entry.size) for entry in scan_paths(paths, config)]


def scan_each(
    paths: Sequence[Path], config: Config
) -> Generator[tuple[list[tuple[PlannedFile, int]], list[Ignored]], None, None]:
    """Scan and plan the chosen files and folders, yielding rows in batches as they are read.

    With the rows come the files of that folder that were left out (not
    microscopy data), so the window can say how many and list them.  The
    tree view lays out every top-level row again on each insert, so the
    batches grow with the list (a few inserts, O(rows) in all), at least
    every :data:`ROWS_EVERY_S` and at the end of each chosen item; the
    column widths measure only the new rows (ui/widgets/column_fit.py).
    """
    shown = 0
    for given in paths:
        rows: list[tuple[PlannedFile, int]] = []
        ignored: list[Ignored] = []
        last = time.monotonic()
        for found in scan_batches([given], config):
            rows.extend((plan_file(entry, config), entry.size) for entry in found.entries)
            ignored.extend(found.ignored)
            if len(rows) >= max(FIRST_ROWS, shown) or time.monotonic() - last >= ROWS_EVERY_S:
                yield rows, ignored
                shown += len(rows)
                rows, ignored = [], []
                last = time.monotonic()
        yield rows, ignored


def run_queue(
    queue: ImportQueue, conn: om.Connection
) -> Generator[EntryChanged | SessionLost | ConnectionDown, None, None]:
    """Run the queue, yielding each change and pause until it ends or pauses.

    The events are frozen, so they are safe to hand to the GUI thread.
    """
    for event in queue.run(conn):
        if isinstance(event, EntryChanged | SessionLost | ConnectionDown):
            yield event


def summary(states: Sequence[FileState], stopped: bool = False) -> str:
    """One sentence on how a run ended (``stopped`` after Cancel)."""
    counts = dict.fromkeys(Status, 0)
    for state in states:
        counts[state.status] += 1
    ended = "Stopped" if stopped else "Done"
    return (
        f"{ended}: {counts[Status.UPLOADED]} uploaded, {counts[Status.DUPLICATE]} already on "
        f"the server, {counts[Status.ERROR]} with errors, {counts[Status.PENDING]} not started."
    )
