"""The import queue: one file at a time, in order, as a generator of events.

Each entry moves ``pending -> queued -> uploading -> uploaded | duplicate |
error``.  The CLI iterates :meth:`ImportQueue.run` and prints; the GUI runs
the same generator in a worker.  ``cancel()`` takes effect between chunks and
leaves no half-imported image; ``retry_failed()`` queues failed entries again.
A lost connection pauses the whole queue once (:class:`ConnectionDown`) instead
of failing every file left; the caller reconnects and runs it again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import platformdirs

from cci_uploader import cache, formats
from cci_uploader import omero as om
from cci_uploader.acquisition import acquisition_pairs
from cci_uploader.config import APP
from cci_uploader.converted import Source, attach_sources, find_on_server
from cci_uploader.formats.base import FormatError
from cci_uploader.hashing import file_sha1
from cci_uploader.isolation import unexpected
from cci_uploader.names import clean_name
from cci_uploader.omero.acquisition import annotate_acquisition
from cci_uploader.omero.transfer import CHUNK_SIZE
from cci_uploader.scan import ScanEntry
from cci_uploader.stewardship.history import History, HistoryError
from cci_uploader.stewardship.recording import FilesetUpload, record_upload

log = logging.getLogger(__name__)


class Status(StrEnum):
    """Where an entry is in the queue; the GUI colours rows by it."""

    PENDING = "pending"
    QUEUED = "queued"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    DUPLICATE = "duplicate"
    ERROR = "error"


FINISHED = frozenset({Status.UPLOADED, Status.DUPLICATE})


@dataclass
class QueueEntry:
    """A scanned file and what has happened to it so far."""

    scan: ScanEntry
    pairs: tuple[tuple[str, str], ...]
    status: Status = Status.PENDING
    message: str = ""
    image_ids: tuple[int, ...] = ()
    done_bytes: int = 0
    total_bytes: int = 0
    uploaded_paths: tuple[Path, ...] = ()
    sha1: str | None = None
    # SHA-1 of a converted file's sources, hashed once before converting.
    source_sha1s: dict[Path, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # names cleaned before they reached OMERO

    @property
    def refused(self) -> bool:
        """Unsupported or unreadable: retrying cannot help."""
        return not self.scan.ok


@dataclass(frozen=True)
class EntryChanged:
    """An entry's status, message or progress changed."""

    index: int
    entry: QueueEntry


@dataclass(frozen=True)
class SessionLost:
    """The session expired: the queue paused; give it a new connection to go on."""

    message: str


@dataclass(frozen=True)
class QueueDone:
    """The run ended; how many entries ended in each status."""

    counts: dict[Status, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionDown:
    """The server went away: the queue paused once; reconnect, then run it again.

    The file that was being sent is queued again (nothing of it was imported),
    so running the queue after a reconnect loses nothing and sends nothing twice.
    """

    message: str


QueueEvent = EntryChanged | SessionLost | ConnectionDown | QueueDone

PAUSED_OFFLINE = "paused: the connection to OMERO was lost"


def _stamp(path: Path) -> tuple[int, int]:
    """Size and modification time: what says a file changed."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


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


def batch_pairs(scan: ScanEntry, pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The pairs for one file: the batch's, plus ``Folder`` when it came from a chosen folder."""
    return _clean_pairs(scan, pairs)[0]


def _clean_pairs(
    scan: ScanEntry, pairs: Sequence[tuple[str, str]]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The pairs for one file, each key and value cleaned, and notes on what was cleaned."""
    raw = list(pairs)
    if scan.folder is not None:
        raw.append(("Folder", scan.folder.name))
    result: list[tuple[str, str]] = []
    notes: list[str] = []
    for key, value in raw:
        key, key_note = clean_name(key, f"the key {key[:40]!r} was")
        value, value_note = clean_name(value, f"the value of {key[:40]!r} was")
        notes.extend(n for n in (key_note, value_note) if n)
        if key and value:
            result.append((key, value))
    return tuple(dict.fromkeys(result)), tuple(dict.fromkeys(notes))


class ImportQueue:
    """Imports scanned files into OMERO, one at a time.

    Parameters
    ----------
    scans : sequence of ScanEntry
        The plan, in order.
    pairs : sequence of (key, value)
        Key-value pairs applied to every image of the batch.
    history : History or None
        Where each upload is recorded the moment it is verified and imported;
        None records nothing.  Always given: the training sandbox has its own.
    work_dir : Path, optional
        Where converted files are written: by default the app's cache folder,
        never next to the source.  They are deleted once the entry is done.
    """

    def __init__(
        self,
        scans: Sequence[ScanEntry],
        pairs: Sequence[tuple[str, str]],
        *,
        history: History | None,
        work_dir: Path | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.entries: list[QueueEntry] = []
        self.add(scans, pairs)
        self._work_dir = (
            work_dir or Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "converted"
        )
        self.cache_cap = cache.DEFAULT_CAP_BYTES
        self._chunk_size = chunk_size
        self._history = history
        self._cancelled = False

    def add(self, scans: Sequence[ScanEntry], pairs: Sequence[tuple[str, str]]) -> list[int]:
        """Append more files (not while :meth:`run` is iterating); return their indexes."""
        start = len(self.entries)
        for scan in scans:
            clean, notes = _clean_pairs(scan, pairs)
            entry = QueueEntry(scan, clean, notes=(*scan.name_notes, *notes))
            if entry.refused:
                entry.status, entry.message = Status.ERROR, scan.reason or ""
            self.entries.append(entry)
        return list(range(start, len(self.entries)))

    def remove(self, paths: set[Path]) -> None:
        """Drop the entries of ``paths`` (not while :meth:`run` is iterating)."""
        self.entries = [e for e in self.entries if e.scan.path not in paths]

    # -- control (safe to call from another thread) -----------------------

    def cancel(self) -> None:
        """Stop after the current chunk; the current file is left un-imported."""
        self._cancelled = True

    def retry_failed(self) -> list[int]:
        """Queue failed entries again (not refused ones); return their indexes."""
        again = []
        for index, entry in enumerate(self.entries):
            if entry.status is Status.ERROR and not entry.refused:
                entry.status, entry.message = Status.PENDING, "will retry"
                entry.done_bytes = 0
                again.append(index)
        return again

    # -- the work ---------------------------------------------------------

    def run(self, conn: om.Connection) -> Iterator[QueueEvent]:
        """Import every pending entry, yielding an event at each change."""
        self._cancelled = False
        cache.sweep(self._work_dir)  # what an interrupted run left behind
        om.clean_unfinished_uploads(conn)  # filesets of earlier cancelled uploads
        for index, entry in enumerate(self.entries):
            if entry.status is Status.PENDING:
                self._set(entry, Status.QUEUED, "waiting")
                yield EntryChanged(index, entry)
        for index, entry in enumerate(self.entries):
            if entry.status is not Status.QUEUED:
                continue
            if self._cancelled:
                break
            try:
                yield from self._process(index, entry, conn)
            except om.SessionExpired as exc:
                self._set(entry, Status.QUEUED, "paused: waiting for a new token")
                yield EntryChanged(index, entry)
                yield SessionLost(str(exc))
                return
            except om.ConnectionLost:
                log.warning("connection lost at %s; the queue pauses", entry.scan.path)
                self._set(entry, Status.QUEUED, PAUSED_OFFLINE)
                entry.done_bytes = 0
                yield EntryChanged(index, entry)
                yield ConnectionDown(
                    f"The connection to OMERO was lost while sending {entry.scan.path.name}. "
                    "The queue is paused: nothing partial was kept, and it continues with "
                    "this file once OMERO answers again."
                )
                return
        for index, entry in enumerate(self.entries):
            if entry.status is Status.QUEUED:
                self._set(entry, Status.PENDING, "cancelled before upload")
                yield EntryChanged(index, entry)
        counts: dict[Status, int] = {}
        for entry in self.entries:
            counts[entry.status] = counts.get(entry.status, 0) + 1
        yield QueueDone(counts)

    @staticmethod
    def _set(entry: QueueEntry, status: Status, message: str) -> None:
        entry.status, entry.message = status, message

    def _process(self, index: int, entry: QueueEntry, conn: om.Connection) -> Iterator[QueueEvent]:
        lease: cache.Lease | None = None
        try:
            lease = cache.Lease(self._work_dir)
            yield from self._import(index, entry, conn, lease.path)
        except (om.SessionExpired, om.ConnectionLost):
            raise  # the whole queue pauses (see run)
        except (om.OmeroError, FormatError) as exc:
            self._set(entry, Status.ERROR, str(exc))
            yield EntryChanged(index, entry)
        except OSError as exc:
            if _in_cache(exc, self._work_dir):
                log.exception("writing %s into the cache failed", entry.scan.path)
                message = cache.full_message(self._work_dir, exc)
            else:
                log.exception("reading %s failed", entry.scan.path)
                message = (
                    f"{entry.scan.path.name} could not be read ({exc.strerror}); "
                    "check the file is still there and press Retry."
                )
            self._set(entry, Status.ERROR, message)
            yield EntryChanged(index, entry)
        except Exception as exc:  # the per-file boundary: one file, one failure
            step = "converted" if formats.get_format(entry.scan.format).converts else "uploaded"
            self._set(entry, Status.ERROR, unexpected(entry.scan.path, step, exc))
            yield EntryChanged(index, entry)
        finally:
            if lease is not None:
                lease.release()

    def _files_to_upload(self, entry: QueueEntry, work: Path) -> list[list[Path]]:
        scan = entry.scan
        module = formats.get_format(scan.format)
        # Links resolved once here: the duplicate check, the upload and the history
        # then all use the name of the file itself, which is what OMERO stores.
        main = scan.path.resolve()
        if module.convert is None:
            return [[main, *(c.resolve() for c in scan.companions)]]
        sources = (main, *(c.resolve() for c in scan.companions))
        before = [_stamp(p) for p in sources]
        # The OME-TIFF is about the size of the pixels, plus a third for the pyramid.
        cache.make_room(self._work_dir, sum(s[0] for s in before) * 4 // 3, self.cache_cap)
        outputs = [[out] for out in module.convert(main, work)]
        if [_stamp(p) for p in sources] != before:
            raise om.SourceChanged(
                f"{scan.path.name} changed while it was being converted, so it was not "
                "uploaded. Wait until the microscope has finished writing it, then press Retry."
            )
        return outputs

    def _sources(self, entry: QueueEntry) -> list[Source]:
        """The converted file's sources, hashed once (the history records the same hashes)."""
        paths = (entry.scan.path.resolve(), *(c.resolve() for c in entry.scan.companions))
        sources = [Source(p, p.stat().st_size, file_sha1(p)) for p in paths]
        entry.sha1 = sources[0].sha1
        entry.source_sha1s = {s.path: s.sha1 for s in sources}
        return sources

    def _converted_duplicate(
        self, index: int, entry: QueueEntry, conn: om.Connection, sources: list[Source]
    ) -> Iterator[QueueEvent]:
        """Yield events; set the entry DUPLICATE if its sources are already on OMERO."""
        found = find_on_server(conn, sources, self._history)
        if found is None:
            return
        if not found.attached:
            # Converted by an older version of the app: attach the originals now.
            self._set(entry, Status.UPLOADING, "attaching the original files")
            yield EntryChanged(index, entry)
            entry.total_bytes = sum(s.size for s in sources)
            for done in attach_sources(conn, found.image_ids, sources):
                entry.done_bytes = done
                yield EntryChanged(index, entry)
        entry.image_ids = found.image_ids
        ids = ", ".join(str(i) for i in found.image_ids)
        self._set(entry, Status.DUPLICATE, f"already on the server (image {ids})")
        try:  # a duplicate gets the batch pairs it lacks, as in _import
            om.annotate(conn, list(found.image_ids), entry.pairs)
        except (om.SessionExpired, om.ConnectionLost):
            raise
        except om.OmeroError as exc:
            log.warning("annotating %s failed", entry.scan.path, exc_info=True)
            self._set(entry, Status.ERROR, f"already on the server, but {exc}")
        if self._history is not None:
            verified = [FilesetUpload((), sources[0].sha1, found.image_ids, True, found.stored)]
            try:
                record_upload(self._history, conn, entry, verified)
            except (HistoryError, om.OmeroError, OSError) as exc:
                log.exception("recording %s in the history failed", entry.scan.path)
                entry.message += f"; not added to the upload history: {exc}"
        yield EntryChanged(index, entry)

    def _import(
        self, index: int, entry: QueueEntry, conn: om.Connection, work: Path
    ) -> Iterator[QueueEvent]:
        scan = entry.scan
        assert scan.project is not None and scan.dataset is not None  # scan.ok guarantees
        self._set(entry, Status.UPLOADING, "preparing")
        yield EntryChanged(index, entry)
        sources: list[Source] = []
        if formats.get_format(scan.format).converts:
            self._set(entry, Status.UPLOADING, "checking whether it is already on the server")
            yield EntryChanged(index, entry)
            sources = self._sources(entry)
            yield from self._converted_duplicate(index, entry, conn, sources)
            if entry.status is Status.DUPLICATE:
                return
        filesets = self._files_to_upload(entry, work)
        entry.total_bytes = sum(p.stat().st_size for fs in filesets for p in fs)
        entry.total_bytes += sum(s.size for s in sources)
        entry.done_bytes = 0
        image_ids: list[int] = []
        duplicates: list[int] = []
        verified: list[FilesetUpload] = []
        dataset_id: int | None = None
        for files in filesets:
            main = files[0]
            self._set(entry, Status.UPLOADING, "checking whether it is already on the server")
            yield EntryChanged(index, entry)
            stamp = _stamp(main)
            sha1 = file_sha1(main)
            if _stamp(main) != stamp:
                raise om.SourceChanged(
                    f"{main.name} changed while it was being checked, so it was not uploaded. "
                    "Wait until the microscope has finished writing it, then press Retry."
                )
            entry.sha1 = sha1
            found = om.find_duplicate(conn, main, sha1, stamp[0])
            if found:
                duplicates.extend(found)
                verified.append(
                    FilesetUpload(tuple(files), sha1, tuple(found), duplicate=True, size=stamp[0])
                )
                entry.done_bytes += sum(p.stat().st_size for p in files)
                continue
            if dataset_id is None:
                project_id = om.get_or_create_project(conn, scan.project)
                dataset_id = om.get_or_create_dataset(conn, project_id, scan.dataset)
            base = entry.done_bytes
            new_ids: list[int] = []
            importing = False  # the upload is verified: OMERO is reading the file
            upload = om.import_file(
                conn, files, dataset_id, chunk_size=self._chunk_size, expected_sha1=[sha1]
            )
            try:
                for event in upload:
                    if self._cancelled:
                        upload.close()
                        entry.done_bytes = 0
                        if importing:
                            # The import goes on without us (its handle stays open).
                            self._set(
                                entry,
                                Status.ERROR,
                                "cancelled while " + om.STILL_IMPORTING.format(name=main.name),
                            )
                        else:
                            self._set(entry, Status.PENDING, "cancelled: nothing was imported")
                        yield EntryChanged(index, entry)
                        return
                    if isinstance(event, om.Uploading):
                        entry.done_bytes = base + event.done
                        self._set(entry, Status.UPLOADING, "uploading")
                    elif isinstance(event, om.Processing):
                        importing = True
                        self._set(entry, Status.UPLOADING, "OMERO is importing")
                    else:
                        new_ids.extend(event.image_ids)
                    yield EntryChanged(index, entry)
            finally:
                upload.close()
            image_ids.extend(new_ids)
            verified.append(
                FilesetUpload(tuple(files), sha1, tuple(new_ids), duplicate=False, size=stamp[0])
            )
        # Pairs go on separately from the import: a refusal here leaves the images,
        # and Retry (finding them as duplicates) attaches what is still missing.
        not_annotated = ""
        try:
            om.annotate(conn, [*image_ids, *duplicates], entry.pairs)
            if image_ids:
                originals = [(s.path.name, s.sha1) for s in sources] or [
                    (p.name, sha1 if p == main else file_sha1(p)) for fs in filesets for p in fs
                ]
                annotate_acquisition(conn, image_ids, acquisition_pairs(scan, originals))
        except (om.SessionExpired, om.ConnectionLost):
            raise  # the queue pauses; after it goes on, the images are found and annotated
        except om.OmeroError as exc:
            log.warning("annotating %s failed", scan.path, exc_info=True)
            not_annotated = str(exc)
        entry.image_ids = tuple(image_ids or duplicates)
        entry.uploaded_paths = tuple(p for fs in filesets for p in fs)
        target = f"{scan.project} / {scan.dataset}"
        cleaned = f" ({'; '.join(entry.notes)})" if entry.notes else ""
        if not_annotated:
            what = "imported" if image_ids else "already on the server"
            self._set(entry, Status.ERROR, f"{what}, but {not_annotated}")
        elif image_ids:
            self._set(entry, Status.UPLOADED, f"uploaded to {target}{cleaned}")
        else:
            ids = ", ".join(str(i) for i in duplicates)
            self._set(entry, Status.DUPLICATE, f"already on the server (image {ids}){cleaned}")
        if self._history is not None:
            try:
                record_upload(self._history, conn, entry, verified)
            except (HistoryError, om.OmeroError, OSError) as exc:
                log.exception("recording %s in the history failed", scan.path)
                entry.message += f"; not added to the upload history: {exc}"
        if sources and (image_ids or duplicates):
            # After the history record: a retry finds the images and attaches only these.
            yield from self._attach(index, entry, conn, image_ids or duplicates, sources)
        yield EntryChanged(index, entry)

    def _attach(
        self,
        index: int,
        entry: QueueEntry,
        conn: om.Connection,
        image_ids: list[int],
        sources: list[Source],
    ) -> Iterator[QueueEvent]:
        """Attach a converted file's sources to its new images; a failure is this entry's."""
        status, message = entry.status, entry.message
        self._set(entry, Status.UPLOADING, "attaching the original files")
        base = entry.done_bytes
        try:
            for done in attach_sources(conn, image_ids, sources, chunk_size=self._chunk_size):
                entry.done_bytes = base + done
                yield EntryChanged(index, entry)
        except (om.SessionExpired, om.ConnectionLost):
            raise
        except (om.OmeroError, OSError) as exc:
            log.exception("attaching the originals of %s failed", entry.scan.path)
            self._set(
                entry,
                Status.ERROR,
                f"{message}, but its original files could not be attached ({exc}); "
                "press Retry to attach them",
            )
            return
        self._set(entry, status, message)
