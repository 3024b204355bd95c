"""The next file that converts is converted in one background thread while this one uploads.

Converting (EMD, EMI+SER, MRC+XML, SmartSEM and Fibics TIFF to OME-TIFF) costs
CPU and disk, uploading costs the link: done one after the other, the link
sits idle during every conversion.  So while a file uploads, the next queued
file that converts is hashed and converted ahead, and its upload can start
as soon as its turn comes.

- **One file ahead, one thread.**  At most one conversion runs ahead, and it
  starts only once no file of the queue converts in the caller's thread: one
  conversion and one streaming upload at a time, so each format's memory
  limits (:mod:`cci_uploader.formats.limits`) hold as before.
- **No Ice call from the thread.**  It only hashes the sources and calls the
  format's ``convert(path, out_dir)`` into its own folder of the cache (a
  :class:`~cci_uploader.cache.Lease`).  Whether the sources are already on
  OMERO is asked by the queue's own thread, between two chunks of the upload
  going on (:meth:`LookAhead.step`), and the conversion starts only if not.
- **Nothing is trusted at the file's turn that was not checked again.**  The
  turn asks OMERO again (an earlier file of the batch may have put the same
  sources there), and the sources must still have the size and modification
  time they were hashed and converted with, or the file ends red.
- **A conversion cannot be interrupted half-way** (a format writes its
  OME-TIFF in one call).  A cancel, a pause that drops it or an abandoned
  queue does not wait for it: the work is dropped and the thread deletes its
  folder the moment the conversion returns.  The row never says it is
  uploading while it converts ahead: it stays *queued*, saying
  :data:`CONVERTING` only while it really converts.
"""

from __future__ import annotations

import enum
import logging
import threading
from typing import TYPE_CHECKING

from cci_uploader import cache, formats
from cci_uploader import omero as om
from cci_uploader.converted import Source, find_on_server
from cci_uploader.hashing import file_sha1

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from cci_uploader.pipeline.state import QueueEvent
    from cci_uploader.pipeline.steps import FileJob
    from cci_uploader.plan import PlannedFile
    from cci_uploader.stewardship.history import History

log = logging.getLogger(__name__)

CONVERTING = "converting"
CONVERTED = "converted, waiting for its turn"
POLL_S = 0.1  # how often a wait for the thread looks whether the run was cancelled


def stamp(path: Path) -> tuple[int, int]:
    """Size and modification time: what says a file changed."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def source_paths(file: PlannedFile) -> tuple[Path, ...]:
    """The main file and its companions, links resolved (the names OMERO stores)."""
    scan = file.scan
    return (scan.path.resolve(), *(c.resolve() for c in scan.companions))


def changed_while_converted(name: str) -> om.SourceChanged:
    """The error of a file whose sources changed during its conversion."""
    return om.SourceChanged(
        f"{name} changed while it was being converted, so it was not uploaded. Wait until "
        "the microscope has finished writing it, then press Retry."
    )


class Phase(enum.Enum):
    """Where one file's work ahead is."""

    HASHING = enum.auto()
    ASKING = enum.auto()  # hashed: the queue's thread asks OMERO whether to convert
    CONVERTING = enum.auto()
    DONE = enum.auto()  # converted, or failed (``error``)
    SKIPPED = enum.auto()  # on OMERO already, changed while hashed, or dropped


class Ahead:
    """One file's work ahead, shared by the thread and the queue (under one lock)."""

    def __init__(self, index: int, file: PlannedFile, lease: cache.Lease) -> None:
        self.index = index
        self.paths = source_paths(file)
        self.format = file.scan.format
        self.lease = lease
        self.phase = Phase.HASHING
        self.said: str | None = None  # what the row was told last
        self.sources: list[Source] = []
        self.stamps: list[tuple[int, int]] = []  # of the sources, hashed and converted
        self.filesets: list[list[Path]] = []
        self.error: BaseException | None = None
        self._go: bool | None = None  # the queue's answer: convert, or not
        self._dropped = False
        self._ended = False  # the thread is done with it
        self._lock = threading.Condition()

    def answer(self, convert: bool) -> None:
        """Say whether to convert now that the sources are hashed (once)."""
        with self._lock:
            if self._go is None:
                self._go = convert
                self._lock.notify_all()

    def wait(self, until: Callable[[], bool], cancelled: Callable[[], bool]) -> bool:
        """Wait until ``until()`` (read under the lock); False if cancelled first."""
        with self._lock:
            while not until():
                if cancelled():
                    return False
                self._lock.wait(POLL_S)
        return True

    def hashed(self) -> bool:
        """The thread is past hashing (it may have skipped the file)."""
        return self.phase is not Phase.HASHING

    def ended(self) -> bool:
        """The thread is done with this file."""
        return self._ended

    def drop(self) -> None:
        """Give the work up: its folder goes now, or when the conversion returns."""
        with self._lock:
            self._dropped = True
            if self._go is None:
                self._go = False
            self._lock.notify_all()
            ended = self._ended
        if ended:
            self.lease.release()

    def unchanged(self) -> bool:
        """The sources still have the size and modification time they were hashed with."""
        try:
            return [stamp(p) for p in self.paths] == self.stamps
        except OSError:
            return False

    # -- the thread ------------------------------------------------------

    def work(self, work_dir: Path, cache_cap: int) -> None:
        """Hash, wait for the answer, convert; any failure is kept for the file's turn."""
        try:
            before = [stamp(p) for p in self.paths]
            sizes = [size for size, _ in before]
            sources = [Source(p, n, file_sha1(p)) for p, n in zip(self.paths, sizes, strict=True)]
            with self._lock:
                if [stamp(p) for p in self.paths] != before:  # being written: its turn says so
                    self.phase = Phase.SKIPPED
                    return
                self.sources, self.stamps, self.phase = sources, before, Phase.ASKING
                self._lock.notify_all()
                while self._go is None:
                    self._lock.wait()
                if not self._go:
                    self.phase = Phase.SKIPPED
                    return
                self.phase = Phase.CONVERTING
            convert = formats.get_format(self.format).convert
            assert convert is not None  # only files that convert are worked on ahead
            # As the file's own turn would: the OME-TIFF is about the pixels plus a third.
            cache.make_room(work_dir, sum(s[0] for s in before) * 4 // 3, cache_cap)
            filesets = [[out] for out in convert(self.paths[0], self.lease.path)]
            if [stamp(p) for p in self.paths] != before:
                raise changed_while_converted(self.paths[0].name)
            with self._lock:
                self.filesets, self.phase = filesets, Phase.DONE
        except BaseException as exc:  # said at the file's turn, by its own boundary
            log.debug("converting %s ahead failed", self.paths[0], exc_info=True)
            with self._lock:
                self.error, self.phase = exc, Phase.DONE
        finally:
            with self._lock:
                self._ended = True
                self._lock.notify_all()
                dropped = self._dropped
            if dropped:
                self.lease.release()


class LookAhead:
    """The queue's one file converted ahead, and the thread converting it."""

    def __init__(self) -> None:
        self.current: Ahead | None = None  # started, not yet taken by its file's turn
        self._thread: threading.Thread | None = None

    def busy(self) -> bool:
        """A file is held ahead, or the thread still works on a dropped one."""
        return self.current is not None or self.running()

    def running(self) -> bool:
        """The thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, index: int, file: PlannedFile, work_dir: Path, cache_cap: int) -> Ahead:
        """Begin hashing and converting ``file`` in the thread (only when not :meth:`busy`)."""
        assert not self.busy()
        ahead = Ahead(index, file, cache.Lease(work_dir))
        self.current = ahead
        self._thread = threading.Thread(
            target=ahead.work, args=(work_dir, cache_cap), name="cci-look-ahead"
        )
        self._thread.start()
        return ahead

    def take(self, index: int, file: PlannedFile) -> Ahead | None:
        """The work ahead of this file, now the file's own; None if there is none."""
        ahead = self.current
        if ahead is None or ahead.index > index:
            return None  # for a later file
        self.current = None
        if (
            ahead.index != index
            or ahead.paths != source_paths(file)
            or ahead.phase is Phase.SKIPPED
        ):
            ahead.drop()
            return None
        return ahead

    def drop(self) -> None:
        """Give up the file held ahead (its folder goes when the thread is done)."""
        if self.current is not None:
            self.current.drop()
            self.current = None

    def pause(self) -> None:
        """The queue pauses: a conversion under way or done is kept for the next run."""
        if self.current is not None and self.current.phase in (Phase.HASHING, Phase.ASKING):
            self.drop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; say whether it has (for tests and benchmarks)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running()

    def wait_idle(self, cancelled: Callable[[], bool]) -> bool:
        """Wait until the thread ends (a dropped conversion); False if cancelled first."""
        while self.running():
            if cancelled():
                return False
            if self._thread is not None:
                self._thread.join(POLL_S)
        return True

    def step(self, conn: om.Connection, history: History | None) -> None:
        """Between two events in the queue's thread: answer a hashed file's question."""
        ahead = self.current
        if ahead is None or ahead.phase is not Phase.ASKING:
            return
        try:
            found = find_on_server(conn, ahead.sources, history)
        except om.OmeroError:
            # Its turn asks again (and a lost connection pauses the queue there).
            log.info("could not ask whether %s is on OMERO ahead", ahead.paths[0], exc_info=True)
            found = None
        ahead.answer(found is None)
        if found is not None:
            self.drop()  # nothing converted; its turn finds it, as without the look-ahead

    def said(self) -> tuple[int, str] | None:
        """The row's new message, if what the thread does changed since it was last said."""
        ahead = self.current
        if ahead is None:
            return None
        words = {Phase.CONVERTING: CONVERTING, Phase.DONE: CONVERTED}.get(ahead.phase, "waiting")
        if ahead.phase is Phase.DONE and ahead.error is not None:
            words = "waiting"  # the failure is said at its turn, as without the look-ahead
        if words == (ahead.said or "waiting"):
            return None
        ahead.said = words
        return ahead.index, words


# -- at the file's turn (steps of FileJob) --------------------------------


def hashed_sources(job: FileJob) -> Iterator[QueueEvent]:
    """The sources as hashed ahead, if they have not changed since (else none)."""
    ahead = job.ahead
    if ahead is None:
        return
    if not ahead.wait(ahead.hashed, job.cancelled):
        yield job.cancel_before_upload()
        return
    unchanged = ahead.unchanged()
    if ahead.phase in (Phase.CONVERTING, Phase.DONE) and not unchanged:
        _raise_changed(ahead)
    if ahead.phase is Phase.SKIPPED or not unchanged:  # only hashed: hashed again now
        job.ahead = None
        ahead.drop()
        return
    job.sources = list(ahead.sources)
    yield job.change()


def converted(job: FileJob, look_ahead: LookAhead | None) -> Iterator[QueueEvent]:
    """Take this file's conversion ahead (waiting for it), or make room for converting now.

    Sets ``job.filesets`` from the work ahead; leaves them empty for the
    job to convert in this thread.  A cancel meanwhile ends the job.
    """
    ahead = job.ahead
    if ahead is None:
        if look_ahead is not None and look_ahead.running():
            # A dropped conversion is still running: never two conversions at once.
            yield job.change(message=CONVERTING)
            if not look_ahead.wait_idle(job.cancelled):
                yield job.cancel_before_upload()
        return
    ahead.answer(True)  # asked at this turn: not on OMERO
    if ahead.phase is not Phase.DONE:
        yield job.change(message=CONVERTING)
    if not ahead.wait(ahead.ended, job.cancelled):
        yield job.cancel_before_upload()
        return
    if ahead.error is not None:
        if isinstance(ahead.error, cache.CacheFull):
            # The file before it still held its own conversion: try again at its turn.
            job.ahead = None
            ahead.drop()
            return
        raise ahead.error
    if ahead.phase is not Phase.DONE:  # given up while hashed: converted now
        job.ahead = None
        ahead.drop()
        return
    if not ahead.unchanged():
        _raise_changed(ahead)
    job.filesets = [list(fs) for fs in ahead.filesets]


def _raise_changed(ahead: Ahead) -> None:
    """The sources changed since they were hashed ahead: the file ends red, never green.

    What was hashed (and maybe converted) is not what is there now, so
    the microscope may still be writing it.
    """
    name = ahead.paths[0].name
    if ahead.phase is not Phase.DONE:
        raise changed_while_converted(name)
    raise om.SourceChanged(
        f"{name} changed after it was converted, so it was not uploaded. Wait until the "
        "microscope has finished writing it, then press Retry."
    )
