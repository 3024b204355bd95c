"""One file's trip to OMERO, in named steps: dedupe -> target -> upload -> annotate -> record.

A :class:`FileJob` is made by the queue for one planned file and run once.
Each step is short and, where it talks to the server for long, a generator
of the queue's events.  The job changes the file's state only through the
queue's ``update`` (the queue owns it).  What the later steps need (the new
image ids, the verified filesets, the sources) is kept on the job, so
annotate and record read nothing from the upload loop: they could run for
one file while the next one uploads.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cci_uploader import cache, formats
from cci_uploader import omero as om
from cci_uploader.acquisition import acquisition_pairs
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.acquisition import acquisition_links, annotate_acquisition
from cci_uploader.omero.provenance import begin_fileset_ids
from cci_uploader.pipeline import inflight, lookahead, sources
from cci_uploader.pipeline.lookahead import changed_while_converted, stamp
from cci_uploader.pipeline.lookups import DuplicateLookups
from cci_uploader.pipeline.state import CHECKING, EntryChanged, FileState, QueueEvent, Status
from cci_uploader.stewardship.history import History, HistoryError
from cci_uploader.stewardship.recording import FilesetUpload, record_upload

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator
    from pathlib import Path

    from cci_uploader.converted import Source
    from cci_uploader.pipeline.lookahead import Ahead, LookAhead
    from cci_uploader.plan import PlannedFile

log = logging.getLogger(__name__)

# An import an earlier run left unfinished: asked about this often, this long
# (then the file ends red, not sent again: Retry waits again).
RESUME_POLL_S = 2.0
RESUME_WAIT_S = 120.0
# How often a file waiting beside the next one looks whether OMERO has called
# back (no request: the call back is kept by the client).
POLL_ASIDE_S = 0.1


@dataclass(frozen=True)
class Settings:
    """What every job of a queue shares."""

    history: History | None
    work_dir: Path
    cache_cap: int
    chunk_size: int
    overlap: bool = False  # a file waiting on OMERO's import steps aside (see .overlap)


@dataclass
class FileJob:
    """The work for one file; see the module docstring for the order of the steps."""

    file: PlannedFile
    conn: om.Connection
    work: Path  # this file's own folder in the cache
    settings: Settings
    update: Callable[..., EntryChanged]  # the queue's: new state from changes
    cancelled: Callable[[], bool]
    state: FileState
    lookups: DuplicateLookups = field(default_factory=DuplicateLookups)
    sources: list[Source] = field(default_factory=list)  # of a converted file
    filesets: list[list[Path]] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)  # imported now
    duplicates: list[int] = field(default_factory=list)  # found on the server
    verified: list[FilesetUpload] = field(default_factory=list)
    sha1s: dict[Path, str] = field(default_factory=dict)  # of each fileset's main file
    sizes: dict[Path, int] = field(default_factory=dict)  # as hashed and verified
    dataset_id: int | None = None
    ended: bool = False  # nothing left to do (found by its sources, or cancelled)
    not_annotated: str = ""
    due_at: float | None = None  # only waiting on OMERO until then (see .overlap)
    sent_before: bool = False  # verified in this queue's run before its pause
    importing: list[tuple[Path, int, str]] = field(default_factory=list)  # remembered
    # Each new upload's image -> fileset look-up, asked right after its import.
    filesets_asked: dict[int, Callable[[], dict[int, int]]] = field(default_factory=dict)
    ahead: Ahead | None = None  # hashed and converted ahead (see .lookahead)
    look_ahead: LookAhead | None = None  # the queue's, if it converts ahead

    def change(self, **changes: Any) -> EntryChanged:
        """Change this file's state through the queue (which owns it); return the event."""
        event = self.update(**changes)
        self.state = event.state
        return event

    @property
    def converts(self) -> bool:
        """The file is converted to OME-TIFF before it is uploaded."""
        return formats.get_format(self.file.scan.format).converts

    @property
    def converted(self) -> bool:
        """Nothing of this file is left to convert (or it never converts)."""
        return bool(self.filesets) or self.ended or not self.converts

    @property
    def sent(self) -> bool:
        """Whether an upload of this file was verified (OMERO imports it, or did)."""
        return bool(self.importing or self.image_ids)

    def due(self) -> float | None:
        """When to resume this file, if all it does now is wait for OMERO; else None."""
        return self.due_at if self.steps_aside else None

    @property
    def steps_aside(self) -> bool:
        """Whether the file waits beside the next one's upload (see :mod:`.overlap`).

        Not a converted file: its duplicate check after a crash goes by its
        sources, so an import of it never waits unfinished behind another.
        """
        return self.settings.overlap and not self.converts

    def run(self) -> Iterator[QueueEvent]:
        """Every step, in order."""
        yield self.change(status=Status.UPLOADING, message="preparing")
        if self.converts:
            yield from sources.dedupe_sources(self)
            if self.ended:
                return
            yield from lookahead.converted(self, self.look_ahead)
            if self.ended:
                return
        self.convert()
        for files in self.filesets:
            if (yield from self.dedupe(files)):
                continue  # already on the server
            self.target()
            yield from self.upload(files)
            if self.ended:
                return
        self.annotate()
        self.record()
        for path, size, sha1 in self.importing:
            # Recorded (or said why not): a later run finds its images now.
            inflight.forget(self.conn, path, size, sha1)
        if self.sources and (self.image_ids or self.duplicates):
            # After the history record: a retry finds the images and attaches only these.
            yield from sources.attach_originals(self)
        yield self.change()

    # -- dedupe ------------------------------------------------------------

    def convert(self) -> None:
        """The filesets to upload: the file and its companions, or what it converts to."""
        scan = self.file.scan
        module = formats.get_format(scan.format)
        # Links resolved once here: the duplicate check, the upload and the history
        # then all use the name of the file itself, which is what OMERO stores.
        main = scan.path.resolve()
        sources = (main, *(c.resolve() for c in scan.companions))
        if module.convert is None:
            self.filesets = [list(sources)]
        elif not self.filesets:  # not converted ahead (see .lookahead)
            before = [stamp(p) for p in sources]
            # The OME-TIFF is about the size of the pixels, plus a third for the pyramid.
            needed = sum(s[0] for s in before) * 4 // 3
            cache.make_room(self.settings.work_dir, needed, self.settings.cache_cap)
            self.filesets = [[out] for out in module.convert(main, self.work)]
            if [stamp(p) for p in sources] != before:
                raise changed_while_converted(scan.path.name)
        total = sum(p.stat().st_size for fs in self.filesets for p in fs)
        self.change(total_bytes=total + sum(s.size for s in self.sources), done_bytes=0)

    def dedupe(self, files: list[Path]) -> Generator[QueueEvent, None, bool]:
        """Hash one fileset's main file; return whether OMERO already has it."""
        main = files[0]
        yield self.change(status=Status.UPLOADING, message=CHECKING)
        before = stamp(main)
        sha1 = file_sha1(main)
        if stamp(main) != before:
            raise om.SourceChanged(
                f"{main.name} changed while it was being checked, so it was not uploaded. "
                "Wait until the microscope has finished writing it, then press Retry."
            )
        self.sha1s[main], self.sizes[main] = sha1, before[0]
        self.change(sha1=sha1)
        found = self.lookups.find(self.conn, main, sha1, before[0])
        # Sent and verified before a pause or a crash: OMERO may still be importing it.
        sent = inflight.importing_since(self.conn, main, before[0], sha1) is not None
        if (sent or self.sent_before) and not found:
            found = yield from self._still_importing(main, sha1, before[0])
        if sent:
            self.importing.append((main, before[0], sha1))  # forgotten once recorded
        if found and self.sent_before:
            # This queue's own upload before its pause: not sent again, said as uploaded.
            self.image_ids.extend(found)
            self.verified.append(
                FilesetUpload(tuple(files), sha1, tuple(found), duplicate=False, size=before[0])
            )
            self.change(done_bytes=self.state.done_bytes + sum(p.stat().st_size for p in files))
            return True
        if found:
            self.duplicates.extend(found)
            self.verified.append(
                FilesetUpload(tuple(files), sha1, tuple(found), duplicate=True, size=before[0])
            )
            self.change(done_bytes=self.state.done_bytes + sum(p.stat().st_size for p in files))
        return bool(found)

    def _still_importing(self, main: Path, sha1: str, size: int) -> Generator[Any, None, list[int]]:
        """Wait (bounded) for an import of this content an earlier run left unfinished.

        Sending it again meanwhile would import it twice (see :mod:`.inflight`).
        """
        began = inflight.import_began(self.conn, main, size, sha1)
        if began is False:  # its verifyUpload never arrived: nothing is importing
            log.info("%s was noted before a verifyUpload that never arrived: sent", main)
            inflight.drop_unverified(self.conn, main, size, sha1)
            return []
        deadline = time.monotonic() + RESUME_WAIT_S
        while time.monotonic() < deadline:
            self.due_at = time.monotonic() + RESUME_POLL_S
            yield self.change(status=Status.UPLOADING, message="OMERO is importing")
            if not self.steps_aside:
                time.sleep(max(0.0, self.due_at - time.monotonic()))
            self.due_at = None
            if self.cancelled():
                break
            found = om.find_duplicate(self.conn, main, sha1, size)
            if found:
                return found
            if inflight.importing_since(self.conn, main, size, sha1) is None:
                return []  # expired meanwhile
        if began is None and not self.sent_before and not self.cancelled():
            # An earlier run's note the server could not judge, and no image came
            # in this wait: most likely its verifyUpload never arrived, so it is sent.
            log.info("%s was noted before verifyUpload and never appeared: sent", main)
            inflight.drop_unverified(self.conn, main, size, sha1)
            return []
        raise om.ImportStillRunning(
            f"OMERO is still importing {main.name}, sent by an earlier run, so it was not "
            "sent again. Press Retry once it appears in OMERO.web."
        )

    # -- target and upload ------------------------------------------------

    def target(self) -> None:
        """The Project and Dataset, found or made once per file."""
        if self.dataset_id is None:
            project, dataset = self.file.project, self.file.dataset
            assert project is not None and dataset is not None  # a planned, readable file
            project_id = om.get_or_create_project(self.conn, project)
            self.dataset_id = om.get_or_create_dataset(self.conn, project_id, dataset)

    def upload(self, files: list[Path]) -> Iterator[QueueEvent]:
        """Send one fileset and wait for OMERO's import; a cancel leaves nothing half-done."""
        assert self.dataset_id is not None
        main, sha1 = files[0], self.sha1s[files[0]]
        base = self.state.done_bytes
        new_ids: list[int] = []
        importing = False  # verifyUpload was sent: OMERO may be reading the file
        answered = False  # and it answered: OMERO is reading the file
        upload = om.import_file(
            self.conn,
            files,
            self.dataset_id,
            chunk_size=self.settings.chunk_size,
            expected_sha1=[sha1],
            block=not self.steps_aside,
            poll_s=POLL_ASIDE_S if self.steps_aside else 0.5,
        )
        try:
            for event in upload:
                self.due_at = None
                if self.cancelled():
                    upload.close()
                    yield self._cancel(main, importing)
                    return
                if isinstance(event, om.Uploading):
                    yield self.change(
                        done_bytes=base + event.done, status=Status.UPLOADING, message="uploading"
                    )
                elif isinstance(event, om.Verifying):
                    # Noted before verifyUpload goes: if its answer is lost, OMERO
                    # may import the file anyway, and a later run must wait for it.
                    self._remember(main, sha1, verified=False, file_id=event.file_id)
                    importing = True
                elif isinstance(event, om.Processing):
                    if not answered:
                        self._remember(main, sha1)
                    importing = answered = True
                    self.due_at = event.due
                    yield self.change(status=Status.UPLOADING, message="OMERO is importing")
                else:
                    new_ids.extend(event.image_ids)
                    yield self.change()
        except (om.ImportFailed, om.ChecksumMismatch):
            self._forget()  # the server ended it, or never began: nothing will appear
            raise
        finally:
            self.due_at = None
            upload.close()
        self.image_ids.extend(new_ids)
        self.lookups.imported(self.conn, main, sha1, self.sizes[main], new_ids)
        if self.settings.history is not None and new_ids:
            # Answered while the images are annotated: no round trip of its own.
            self.filesets_asked[len(self.verified)] = begin_fileset_ids(self.conn, new_ids)
        self.verified.append(
            FilesetUpload(
                tuple(files), sha1, tuple(new_ids), duplicate=False, size=self.sizes[main]
            )
        )

    def _remember(
        self, main: Path, sha1: str, *, verified: bool = True, file_id: int | None = None
    ) -> None:
        entry = (main, self.sizes[main], sha1)
        try:
            inflight.remember(self.conn, *entry, verified=verified, file_id=file_id)
        except OSError:
            log.warning("could not note that OMERO is importing %s", main, exc_info=True)
        if entry not in self.importing:
            self.importing.append(entry)

    def _forget(self) -> None:
        for entry in self.importing:
            inflight.forget(self.conn, *entry)
        self.importing.clear()

    def cancel_before_upload(self) -> EntryChanged:
        """End the job on a cancel seen before its upload began."""
        return self._cancel(self.file.path, importing=False)

    def _cancel(self, main: Path, importing: bool) -> EntryChanged:
        self.ended = True
        if importing:
            # The import goes on without us (its handle stays open).
            message = "cancelled while " + om.STILL_IMPORTING.format(name=main.name)
            return self.change(done_bytes=0, status=Status.ERROR, message=message)
        return self.change(
            done_bytes=0, status=Status.PENDING, message="cancelled: nothing was imported"
        )

    # -- annotate and record ----------------------------------------------

    def annotate(self) -> None:
        """Pairs and acquisition details on the images, then the file's final status."""
        # Pairs go on separately from the import: a refusal here leaves the images,
        # and Retry (finding them as duplicates) attaches what is still missing.
        try:
            acquired: list[tuple[str, str]] = []
            if self.image_ids:
                originals = [(s.path.name, s.sha1) for s in self.sources] or [
                    (p.name, self.sha1s.get(p) or file_sha1(p)) for fs in self.filesets for p in fs
                ]
                acquired = acquisition_pairs(self.file, originals)
            # The acquisition metadata goes in the pairs' save where it can (one round trip).
            links = acquisition_links(self.image_ids, acquired)
            ids = [*self.image_ids, *self.duplicates]
            if not om.annotate(self.conn, ids, self.file.pairs, links):
                annotate_acquisition(self.conn, self.image_ids, acquired)
        except (om.SessionExpired, om.ConnectionLost):
            raise  # the queue pauses; after it goes on, the images are found and annotated
        except om.OmeroError as exc:
            log.warning("annotating %s failed", self.file.path, exc_info=True)
            self.not_annotated = str(exc)
        self._conclude()

    def _conclude(self) -> None:
        cleaned = f" ({'; '.join(self.file.notes)})" if self.file.notes else ""
        self.change(image_ids=tuple(self.image_ids or self.duplicates))
        if self.not_annotated:
            what = "imported" if self.image_ids else "already on the server"
            self.change(status=Status.ERROR, message=f"{what}, but {self.not_annotated}")
        elif self.image_ids:
            self.change(status=Status.UPLOADED, message=f"uploaded to {self.file.target}{cleaned}")
        else:
            ids = ", ".join(str(i) for i in self.duplicates)
            message = f"already on the server (image {ids}){cleaned}"
            self.change(status=Status.DUPLICATE, message=message)

    def record(self) -> None:
        """Add the verified upload to the history; a failure is said on this file's row."""
        history = self.settings.history
        if history is None:
            return
        try:
            for at, answer in self.filesets_asked.items():
                self.verified[at] = dataclasses.replace(self.verified[at], filesets=answer())
            self.filesets_asked.clear()
            record_upload(
                history, self.conn, self.file, dict(self.state.source_sha1s), self.verified
            )
        except (HistoryError, om.OmeroError, OSError) as exc:
            log.exception("recording %s in the history failed", self.file.path)
            self.change(message=f"{self.state.message}; not added to the upload history: {exc}")
