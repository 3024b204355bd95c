"""Read a big folder's metadata in worker processes, beside the scan's own reading.

The readers are Python over h5py, tifffile, rosettasciio and pylibCZIrw, and
hold the GIL (h5py also takes its own global lock): threads do not read two
files at once, processes do. A first scan of a folder the cache does not know
hands its files to :class:`ReadAhead`, which gives them to worker processes
from the end of the list while the scan reads from the front, in its own
process, as before: the first rows appear as soon as without workers, nothing
waits for a worker to start (about half a second each), and the two meet in
the middle. Each file is still read by its format's own ``read_metadata``, so
a worker's answer, or its error, is the one the scan would have got.

Workers are started with ``spawn`` on every platform (Windows has nothing
else; ``fork`` under the window's threads is unsafe), and the installed
app's launcher calls ``multiprocessing.freeze_support`` for them.
"""

from __future__ import annotations

import logging
import os
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TYPE_CHECKING

from cci_uploader.scan_cache import ScanCache

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from cci_uploader.formats.base import FileMetadata, FormatDescriptor
    from cci_uploader.scan_cache import Stamp

log = logging.getLogger(__name__)

WORKERS_ENV = "CCI_UPLOADER_SCAN_WORKERS"
"""Environment variable: how many worker processes a scan may start (0: none)."""

MIN_FILES = 200
"""Fewer files to read than this are read in the scan's own process: a worker takes
about a second of CPU to start (Python, h5py, tifffile, rosettasciio), the time the
scan itself needs for some 200 files."""

MAX_WORKERS = 4
"""Most workers: each holds about 100 MB (h5py, tifffile, rosettasciio, Zeiss's library)
on a PC that also runs the microscope, and a folder is read from one disk."""


def worker_count() -> int:
    """Workers for a big scan: a core each but the scan's own, or ``$CCI_UPLOADER_SCAN_WORKERS``."""
    given = os.environ.get(WORKERS_ENV, "").strip()
    if given:
        try:
            return max(0, min(int(given), MAX_WORKERS))
        except ValueError:
            log.warning("%s=%r is not a number; using the default", WORKERS_ENV, given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # Windows and macOS
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, MAX_WORKERS))


def _sendable(reader: Callable[[Path], FileMetadata]) -> bool:
    """Whether a worker can find ``reader`` by name (a module's function, not a lambda).

    pickle refuses a function whose name leads elsewhere, e.g. one a test
    replaced in its module: such a format is read in the scan's process.
    """
    try:
        pickle.dumps(reader)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _read(reader: Callable[[Path], FileMetadata], path: Path) -> FileMetadata:
    """In a worker: the format's own reading of one file."""
    return reader(path)


class ReadAhead:
    """Metadata of many files, read partly by worker processes.

    Parameters
    ----------
    files : sequence of (Path, FormatDescriptor)
        The files a scan will read, in its order, each with its format.
    workers : int, optional
        Worker processes; :func:`worker_count` by default. None are started
        for fewer than :data:`MIN_FILES` files.
    min_files : int, optional
        The fewest files worth starting workers for; :data:`MIN_FILES` by default.
    share : bool
        Whether :meth:`read` reads a file no worker has begun itself (the
        scan's way), or waits for a worker (the self-test's, to prove they run).
    """

    def __init__(
        self,
        files: Sequence[tuple[Path, FormatDescriptor]],
        workers: int | None = None,
        *,
        min_files: int | None = None,
        share: bool = True,
    ) -> None:
        self._share = share
        self._ahead: dict[Path, tuple[Future[FileMetadata], Stamp | None]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self.from_workers = 0  # files a worker read
        workers = worker_count() if workers is None else workers
        least = MIN_FILES if min_files is None else min_files
        if workers <= 0 or len(files) < least:
            return
        readers = {f.read_metadata for _, f in files}  # a few formats, many files
        can_send = {reader: _sendable(reader) for reader in readers}
        sendable = [(p, f) for p, f in files if can_send[f.read_metadata]]
        if not sendable or len(sendable) < least:
            return
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
        for path, descriptor in reversed(sendable):  # the workers start from the end
            before = ScanCache.stamp(path)  # before any reading: a change meanwhile shows
            future = self._pool.submit(_read, descriptor.read_metadata, path)
            self._ahead[path] = (future, before)

    def read(self, path: Path, descriptor: FormatDescriptor) -> tuple[FileMetadata, Stamp | None]:
        """``path``'s metadata and its stamp from before it was read; raises as the reader.

        A file no worker has begun is read here; a worker's is waited for.
        """
        ahead = self._ahead.pop(path, None)
        if ahead is not None:
            future, before = ahead
            if not (self._share and future.cancel()):
                try:
                    meta = future.result()
                except BrokenProcessPool:  # a worker died: every file is read here from now
                    log.warning("a scan worker stopped; the scan goes on without workers")
                    self.close()
                else:
                    self.from_workers += 1
                    return meta, before
        before = ScanCache.stamp(path)
        return descriptor.read_metadata(path), before

    def close(self) -> None:
        """Stop the workers; files not yet read by one are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._ahead.clear()
