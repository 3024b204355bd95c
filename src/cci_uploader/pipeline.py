"""The import queue: one file at a time, in order, as a generator of events.

Each entry moves ``pending -> queued -> uploading -> uploaded | duplicate |
error``.  The CLI iterates :meth:`ImportQueue.run` and prints; the GUI runs
the same generator in a worker.  ``cancel()`` takes effect between chunks and
leaves no half-imported image; ``retry_failed()`` queues failed entries again.
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
from cci_uploader.config import APP
from cci_uploader.formats.base import FormatError
from cci_uploader.hashing import file_sha1
from cci_uploader.isolation import unexpected
from cci_uploader.names import clean_name
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


QueueEvent = EntryChanged | SessionLost | QueueDone


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
    work_dir : Path, optional
        Where converted files are written: by default the app's cache folder,
        never next to the source.  They are deleted once the entry is done.
    history : History, optional
        Where each upload is recorded the moment it is verified and imported;
        the user's upload history unless ``record_history`` is False.
    """

    def __init__(
        self,
        scans: Sequence[ScanEntry],
        pairs: Sequence[tuple[str, str]],
        work_dir: Path | None = None,
        chunk_size: int = CHUNK_SIZE,
        history: History | None = None,
        record_history: bool = True,
    ) -> None:
        self.entries: list[QueueEntry] = []
        self.add(scans, pairs)
        self._work_dir = (
            work_dir or Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "converted"
        )
        self.cache_cap = cache.DEFAULT_CAP_BYTES
        self._chunk_size = chunk_size
        self._history = history or (History() if record_history else None)
        self._cancelled = False
        self._connection_broken = False

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
        if self._connection_broken:
            try:
                conn.reconnect()
                self._connection_broken = False
            except (om.ConnectionLost, om.ServerUnreachable, om.LoginFailed) as exc:
                self._set(entry, Status.ERROR, str(exc))
                yield EntryChanged(index, entry)
                return
        lease: cache.Lease | None = None
        try:
            lease = cache.Lease(self._work_dir)
            yield from self._import(index, entry, conn, lease.path)
        except om.SessionExpired:
            raise
        except om.ConnectionLost as exc:
            self._connection_broken = True
            self._set(entry, Status.ERROR, str(exc))
            yield EntryChanged(index, entry)
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
            step = "converted" if formats.get_format(entry.scan.format).CONVERTS else "uploaded"
            self._set(entry, Status.ERROR, unexpected(entry.scan.path, step, exc))
            yield EntryChanged(index, entry)
        finally:
            if lease is not None:
                lease.release()

    def _files_to_upload(self, entry: QueueEntry, work: Path) -> list[list[Path]]:
        scan = entry.scan
        module = formats.get_format(scan.format)
        if not module.CONVERTS:
            return [[scan.path, *scan.companions]]
        sources = (scan.path, *scan.companions)
        before = [_stamp(p) for p in sources]
        # The OME-TIFF is about the size of the pixels, plus a third for the pyramid.
        cache.make_room(self._work_dir, sum(s[0] for s in before) * 4 // 3, self.cache_cap)
        outputs = [[out] for out in module.convert(scan.path, work)]
        if [_stamp(p) for p in sources] != before:
            raise om.SourceChanged(
                f"{scan.path.name} changed while it was being converted, so it was not "
                "uploaded. Wait until the microscope has finished writing it, then press Retry."
            )
        return outputs

    def _import(
        self, index: int, entry: QueueEntry, conn: om.Connection, work: Path
    ) -> Iterator[QueueEvent]:
        scan = entry.scan
        assert scan.project is not None and scan.dataset is not None  # scan.ok guarantees
        self._set(entry, Status.UPLOADING, "preparing")
        yield EntryChanged(index, entry)
        filesets = self._files_to_upload(entry, work)
        entry.total_bytes = sum(p.stat().st_size for fs in filesets for p in fs)
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
            upload = om.import_file(
                conn, files, dataset_id, chunk_size=self._chunk_size, expected_sha1=[sha1]
            )
            try:
                for event in upload:
                    if self._cancelled:
                        upload.close()
                        self._set(entry, Status.PENDING, "cancelled: nothing was imported")
                        entry.done_bytes = 0
                        yield EntryChanged(index, entry)
                        return
                    if isinstance(event, om.Uploading):
                        entry.done_bytes = base + event.done
                        self._set(entry, Status.UPLOADING, "uploading")
                    elif isinstance(event, om.Processing):
                        self._set(entry, Status.UPLOADING, "OMERO is importing")
                    else:
                        new_ids.extend(event.image_ids)
                    yield EntryChanged(index, entry)
            finally:
                upload.close()
            om.annotate(conn, new_ids, entry.pairs)
            image_ids.extend(new_ids)
            verified.append(
                FilesetUpload(tuple(files), sha1, tuple(new_ids), duplicate=False, size=stamp[0])
            )
        entry.image_ids = tuple(image_ids or duplicates)
        entry.uploaded_paths = tuple(p for fs in filesets for p in fs)
        target = f"{scan.project} / {scan.dataset}"
        cleaned = f" ({'; '.join(entry.notes)})" if entry.notes else ""
        if image_ids:
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
        yield EntryChanged(index, entry)
