"""The import queue: planned files uploaded one at a time, in order, as a generator of events.

Each file moves ``pending -> queued -> uploading -> uploaded | duplicate |
error``.  The queue owns every file's :class:`FileState`; the CLI and the GUI
only read the :class:`EntryChanged` events it yields, and change states only
through its methods (``cancel``, ``retry_failed``, ``abandon``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from cci_uploader import cache, formats
from cci_uploader import omero as om
from cci_uploader.config import APP, Config
from cci_uploader.formats.base import FormatError
from cci_uploader.isolation import unexpected
from cci_uploader.omero.transfer import CHUNK_SIZE
from cci_uploader.pipeline.lookahead import Ahead, LookAhead
from cci_uploader.pipeline.lookups import DuplicateLookups
from cci_uploader.pipeline.overlap import MAX_IMPORTING, Flight, Interrupted, interleave
from cci_uploader.pipeline.state import (
    PAUSED_OFFLINE,
    ConnectionDown,
    EntryChanged,
    FileState,
    QueueDone,
    QueueEvent,
    SessionLost,
    Status,
    initial_state,
)
from cci_uploader.pipeline.steps import FileJob, Settings
from cci_uploader.plan import PlannedFile, remap

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from cci_uploader.stewardship.history import History

log = logging.getLogger(__name__)

# What a file left behind by an ended run can be: not started, or waiting.
UNFINISHED = frozenset({Status.PENDING, Status.QUEUED, Status.UPLOADING})


def _converts(file: PlannedFile) -> bool:
    return not file.refused and formats.get_format(file.scan.format).converts


def _in_cache(exc: OSError, work_dir: Path) -> bool:
    """Say whether ``exc`` came from writing into the cache rather than reading a source."""
    if isinstance(exc, cache.CacheFull) or exc.errno in cache.FULL_DISK:
        return True
    for name in (exc.filename, exc.filename2):
        if name is not None:
            try:
                if Path(os.fsdecode(name)).resolve().is_relative_to(work_dir.resolve()):
                    return True
            except (OSError, ValueError):
                continue
    return False


class ImportQueue:
    """Imports planned files into OMERO, uploading one at a time, in order.

    While OMERO imports a file, the next ones are checked and uploaded (at
    most :attr:`max_importing` waiting at once; 0 for strictly one file at a
    time, see :mod:`.overlap`).  While a file uploads, the next one that
    converts is converted in one background thread (:attr:`look_ahead`,
    see :mod:`.lookahead`).

    ``cancel()`` takes effect between chunks and leaves no half-imported
    image; ``retry_failed()`` queues failed files again.  A lost connection
    pauses the whole queue once (:class:`ConnectionDown`) instead of failing
    every file left; the caller reconnects and runs it again.

    Parameters
    ----------
    files : sequence of PlannedFile
        The plan, in order.
    history : History or None
        Where each upload is recorded the moment it is verified and imported;
        None records nothing.  Always given: the training sandbox has its own.
    work_dir : Path, optional
        Where converted files are written: by default the app's cache folder,
        never next to the source.  They are deleted once the file is done.
    chunk_size : int, optional
        Bytes per upload request.
    """

    def __init__(
        self,
        files: Sequence[PlannedFile],
        *,
        history: History | None,
        work_dir: Path | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._files: list[PlannedFile] = []
        self._states: list[FileState] = []
        self.add(files)
        self._work_dir = (
            work_dir or Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "converted"
        )
        self.cache_cap = cache.DEFAULT_CAP_BYTES
        self._chunk_size = chunk_size
        self._history = history
        self._cancelled = False
        self._lookups = DuplicateLookups()
        self._jobs: dict[int, FileJob] = {}  # the files in flight
        self._sent: set[int] = set()  # verified in flight when the queue paused
        # Files "OMERO is importing" at once beside the one uploading; 0: one at a time.
        self.max_importing = MAX_IMPORTING
        self.look_ahead = True  # convert the next file while this one uploads
        self._ahead = LookAhead()
        self._started = -1  # the last file this run started
        self._ahead_from = 0  # where the next file to convert ahead is looked for

    # -- reading ------------------------------------------------------------

    @property
    def files(self) -> tuple[PlannedFile, ...]:
        """The planned files, in order."""
        return tuple(self._files)

    @property
    def states(self) -> tuple[FileState, ...]:
        """Each file's latest state, in the order of :attr:`files`."""
        return tuple(self._states)

    @property
    def ahead(self) -> LookAhead:
        """The file converted ahead and its thread (read only)."""
        return self._ahead

    def _changed(self, index: int) -> EntryChanged:
        return EntryChanged(index, self._files[index], self._states[index])

    # -- the plan (not while :meth:`run` is iterating) -----------------------

    def add(self, files: Sequence[PlannedFile]) -> list[int]:
        """Append more planned files; return their indexes."""
        start = len(self._files)
        self._files.extend(files)
        self._states.extend(initial_state(f) for f in files)
        return list(range(start, len(self._files)))

    def remove(self, paths: set[Path]) -> None:
        """Drop the files of ``paths``."""
        self._ahead.drop()  # indexes change
        keep = [i for i, f in enumerate(self._files) if f.path not in paths]
        self._files = [self._files[i] for i in keep]
        self._states = [self._states[i] for i in keep]

    def remap_microscopes(self, config: Config) -> None:
        """Plan again the files naming no microscope that are not uploaded yet."""
        for index, state in enumerate(self._states):
            if state.status in (Status.PENDING, Status.ERROR):
                self._files[index] = remap(self._files[index], config)

    # -- control --------------------------------------------------------------

    def cancel(self) -> None:
        """Stop after the current chunk; the current file is left un-imported.

        Safe to call from another thread.
        """
        self._cancelled = True

    def retry_failed(self) -> list[EntryChanged]:
        """Queue failed files again (not refused ones); one event for each."""
        again = []
        for index, state in enumerate(self._states):
            if state.status is Status.ERROR and not self._files[index].refused:
                again.append(
                    self._set(index, status=Status.PENDING, message="will retry", done_bytes=0)
                )
        return again

    def abandon(self, reason: str) -> list[EntryChanged]:
        """Fail every file the queue did not finish, with ``reason``; one event for each.

        For a run that cannot go on (the token was not renewed, the server
        stayed away, the worker died).  Not while :meth:`run` is iterating.
        """
        self._ahead.drop()  # kept over the pause for the next run: there is none
        return [
            self._set(index, status=Status.ERROR, message=reason)
            for index, state in enumerate(self._states)
            if state.status in UNFINISHED
        ]

    def _set(self, index: int, **changes: Any) -> EntryChanged:
        """The one place a file's state changes."""
        self._states[index] = dataclasses.replace(self._states[index], **changes)
        return self._changed(index)

    # -- the work ---------------------------------------------------------

    def run(self, conn: om.Connection) -> Iterator[QueueEvent]:
        """Import every pending file, yielding an event at each change."""
        self._cancelled = False
        self._started, self._ahead_from = -1, 0
        self._lookups = DuplicateLookups()  # what the server said is asked again each run
        cache.sweep(self._work_dir)  # what an interrupted run left behind
        om.clean_unfinished_uploads(conn)  # filesets of earlier cancelled uploads
        for index, state in enumerate(self._states):
            if state.status is Status.PENDING:
                yield self._set(index, status=Status.QUEUED, message="waiting")
        flights = (
            Flight(index, self._process(index, conn), functools.partial(self._due, index))
            for index in range(len(self._files))
            if self._states[index].status is Status.QUEUED
        )
        paused = False
        try:
            for event in interleave(
                flights, max_waiting=self.max_importing, more=lambda: not self._cancelled
            ):
                yield event
                yield from self._look_ahead(conn)
        except Interrupted as stop:
            # Every file in flight is queued again; one OMERO was importing is
            # waited for on the next run, not sent twice (see .inflight).
            cause = stop.__cause__
            paused = isinstance(cause, om.SessionExpired | om.ConnectionLost)
            if isinstance(cause, om.SessionExpired):
                for index in (stop.index, *stop.stopped):
                    message = "paused: waiting for a new token"
                    yield self._set(index, status=Status.QUEUED, message=message)
                yield SessionLost(str(cause))
                return
            if isinstance(cause, om.ConnectionLost):
                path = self._files[stop.index].path
                log.warning("connection lost at %s; the queue pauses", path)
                for index in (stop.index, *stop.stopped):
                    yield self._set(
                        index, status=Status.QUEUED, message=PAUSED_OFFLINE, done_bytes=0
                    )
                yield ConnectionDown(
                    f"The connection to OMERO was lost while sending {path.name}. "
                    "The queue is paused: nothing partial was kept, and it continues with "
                    "this file once OMERO answers again."
                )
                return
            raise (cause or stop) from None  # a bug, not a file's failure: as it was
        finally:
            self._jobs.clear()
            if paused:
                self._ahead.pause()  # a conversion under way or done serves the next run
            else:  # done, cancelled, closed or a bug: its folder goes
                self._ahead.drop()
        for index, state in enumerate(self._states):
            if state.status is Status.QUEUED:
                yield self._set(index, status=Status.PENDING, message="cancelled before upload")
        yield QueueDone()

    def _process(self, index: int, conn: om.Connection) -> Iterator[QueueEvent]:
        """Run one file's steps; any failure of that file ends as its own error."""
        file = self._files[index]
        lease: cache.Lease | None = None
        self._started = max(self._started, index)
        ahead = self._ahead.take(index, file)
        try:
            if not self._lookups.knows(file):
                # One duplicate query for this file and the next ones queued.
                later = range(index, len(self._files))
                queued = [self._files[i] for i in later if self._states[i].status is Status.QUEUED]
                self._lookups.ask_ahead(conn, queued)
            lease = cache.Lease(self._work_dir)
            job = self._jobs[index] = self._job(index, conn, lease.path, ahead)
            self._sent.discard(index)
            yield from job.run()
        except (om.SessionExpired, om.ConnectionLost, GeneratorExit):
            # The whole queue pauses (see run); a file sent already is not sent again.
            if index in self._jobs and self._jobs[index].sent:
                self._sent.add(index)
            raise
        except (om.OmeroError, FormatError) as exc:
            yield self._set(index, status=Status.ERROR, message=str(exc))
        except OSError as exc:
            if _in_cache(exc, self._work_dir):
                log.exception("writing %s into the cache failed", file.path)
                message = cache.full_message(self._work_dir, exc)
            else:
                log.exception("reading %s failed", file.path)
                message = (
                    f"{file.path.name} could not be read ({exc.strerror}); "
                    "check the file is still there and press Retry."
                )
            yield self._set(index, status=Status.ERROR, message=message)
        except Exception as exc:  # the per-file boundary: one file, one failure
            step = "converted" if formats.get_format(file.scan.format).converts else "uploaded"
            yield self._set(index, status=Status.ERROR, message=unexpected(file.path, step, exc))
        finally:
            self._jobs.pop(index, None)
            if lease is not None:
                lease.release()
            if ahead is not None:
                ahead.drop()

    def _due(self, index: int) -> float | None:
        job = self._jobs.get(index)
        return None if job is None else job.due()

    def _job(self, index: int, conn: om.Connection, work: Path, ahead: Ahead | None) -> FileJob:
        settings = Settings(
            self._history,
            self._work_dir,
            self.cache_cap,
            self._chunk_size,
            overlap=self.max_importing > 0,
        )
        return FileJob(
            self._files[index],
            conn,
            work,
            settings,
            update=lambda **changes: self._set(index, **changes),
            cancelled=lambda: self._cancelled,
            state=self._states[index],
            lookups=self._lookups,
            sent_before=index in self._sent,
            ahead=ahead,
            look_ahead=self._ahead if self.look_ahead else None,
        )

    # -- converting ahead (see .lookahead) -------------------------------------

    def _look_ahead(self, conn: om.Connection) -> Iterator[EntryChanged]:
        """Between two events: tell the file converted ahead's row, start the next one."""
        if self._cancelled:
            return
        self._ahead.step(conn, self._history)  # its question to OMERO, from this thread
        said = self._ahead.said()
        if said is not None and self._states[said[0]].status is Status.QUEUED:
            yield self._set(said[0], message=said[1])
        if not self.look_ahead or self._ahead.busy() or not self._jobs:
            return
        if not all(job.converted for job in self._jobs.values()):
            return  # a file converts in this thread soon: one conversion at a time
        for index in range(max(self._ahead_from, self._started + 1), len(self._files)):
            file = self._files[index]
            if self._states[index].status is Status.QUEUED and _converts(file):
                self._ahead_from = index + 1
                self._ahead.start(index, file, self._work_dir, self.cache_cap)
                return
        self._ahead_from = len(self._files)
