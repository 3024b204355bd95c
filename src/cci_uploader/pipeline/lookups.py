"""The duplicate check of a batch: one query for a chunk of files, exact answers per file.

Over a network every waited request is a round trip, so the queue asks
OMERO about a chunk of files at once (:func:`omero.find_duplicates`) before
their turn.  Each file is still hashed at its own turn, as before; the
chunk's answer is used only for exactly that name, size and SHA-1.  A file
that changed since (another SHA-1 or size) is asked about on its own, so
nothing is ever found or missed on the strength of stale bytes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cci_uploader import formats
from cci_uploader import omero as om
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.client_paths import stored_name

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from cci_uploader.plan import PlannedFile

log = logging.getLogger(__name__)

CHUNK_FILES = 50
# Files hashed ahead for the chunk's query: small ones, where the round trip
# counts.  A big file is asked about at its turn (one round trip beside
# seconds of upload), so it is never read twice.
AHEAD_MAX_BYTES = 64 * 1024 * 1024
CHUNK_MAX_BYTES = 512 * 1024 * 1024

Key = tuple[int, str, int, str]  # group id, stored name, size, SHA-1


class DuplicateLookups:
    """What OMERO said about a chunk of files, and what this run imported since."""

    def __init__(self) -> None:
        self._asked: set[Key] = set()  # what the server was asked about
        self._found: dict[Key, list[int]] = {}
        self._ahead: set[Path] = set()  # files whose chunk was asked about

    def knows(self, file: PlannedFile) -> bool:
        """Whether ``file`` was in a chunk asked about already (or is not for one)."""
        return file.path in self._ahead or not _ahead_candidate(file)

    def ask_ahead(self, conn: om.Connection, files: Sequence[PlannedFile]) -> None:
        """Hash the first files of ``files`` (a chunk, bounded) and ask about them at once."""
        candidates: list[tuple[Path, str, int]] = []
        total = 0
        for file in files:
            if len(candidates) >= CHUNK_FILES:
                break
            if not _ahead_candidate(file) or file.path in self._ahead:
                continue
            main = file.scan.path.resolve()
            try:
                size = main.stat().st_size
                if total + size > CHUNK_MAX_BYTES and candidates:
                    break
                sha1 = file_sha1(main)
            except OSError:
                # Said at its own turn, where the per-file boundary turns it red.
                log.debug("%s not hashed ahead", main, exc_info=True)
                continue
            total += size
            self._ahead.add(file.path)
            candidates.append((main, sha1, size))
        if not candidates:
            return
        answers = om.find_duplicates(conn, candidates)
        group = conn.group_id
        for (path, sha1, size), found in zip(candidates, answers, strict=True):
            key = (group, stored_name(path), size, sha1)
            self._asked.add(key)
            if found:
                self._found[key] = list(found)

    def find(self, conn: om.Connection, path: Path, sha1: str, size: int) -> list[int]:
        """The images ``om.find_duplicate`` would return now, asking only if not known."""
        key = (conn.group_id, stored_name(path), size, sha1)
        if key not in self._asked:
            return om.find_duplicate(conn, path, sha1, size)
        return sorted(self._found.get(key, ()))

    def imported(
        self, conn: om.Connection, path: Path, sha1: str, size: int, image_ids: Sequence[int]
    ) -> None:
        """An upload of this run: the same content later in the batch is a duplicate."""
        key = (conn.group_id, stored_name(path), size, sha1)
        if image_ids and key in self._asked:
            self._found[key] = sorted({*self._found.get(key, ()), *image_ids})


def _ahead_candidate(file: PlannedFile) -> bool:
    """A file uploaded as it is (its name on OMERO known before converting), and small."""
    if file.refused or formats.get_format(file.scan.format).converts:
        return False
    try:
        return file.scan.path.stat().st_size <= AHEAD_MAX_BYTES
    except OSError:
        return False
