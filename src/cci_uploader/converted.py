"""A converted file's sources on OMERO: found before converting, attached after importing.

For a format that is converted (EMD, EMI+SER, MRC+XML, SmartSEM, Fibics),
OMERO's fileset holds the OME-TIFF the app wrote, which keeps the images
only. Two steps of the import queue deal with the sources themselves:

- :func:`find_on_server`, before converting: the sources are already on
  OMERO when every one of them, by name, size and SHA-1, is attached to the
  same images as an original (see :mod:`cci_uploader.omero.originals`), or,
  for uploads by an older version of the app that attached nothing, when the
  upload history records the same sources converted into a fileset that the
  server still holds with the SHA-1 recorded. Nothing is converted again,
  and nothing depends on the converter writing the same bytes twice.
- :func:`attach_sources`, after importing: each source is uploaded as an
  original file and linked to every new image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cci_uploader.omero.originals import (
    attached_originals,
    images_with_original,
    link_originals,
    upload_original,
)
from cci_uploader.omero.provenance import fileset_ids, stored_files
from cci_uploader.omero.transfer import CHUNK_SIZE, HASHER
from cci_uploader.stewardship.history import History, HistoryError, SourceFile, StoredFile

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence

    from cci_uploader.omero.connection import Connection

log = logging.getLogger(__name__)


Source = SourceFile
"""One source file of a converted upload, hashed once: the record the history keeps."""


@dataclass(frozen=True)
class Found:
    """Where a converted file's sources already are on OMERO.

    ``stored`` is what the server holds for those images' filesets (the
    OME-TIFF), as the history records it; ``attached`` says whether every
    source is attached to them as an original.
    """

    image_ids: tuple[int, ...]
    stored: tuple[StoredFile, ...]
    attached: bool


def _stored(conn: Connection, image_ids: Sequence[int]) -> tuple[StoredFile, ...]:
    by_image = fileset_ids(conn, image_ids)
    files: list[StoredFile] = []
    for fileset in sorted(set(by_image.values())):
        files.extend(
            StoredFile(fileset, f.name, f.size, f.sha1 or "")
            for f in stored_files(conn, fileset)
            if f.hasher == HASHER and f.sha1
        )
    return tuple(files)


def _by_attachment(conn: Connection, sources: Sequence[Source]) -> list[int]:
    common: set[int] | None = None
    for source in sources:
        found = set(images_with_original(conn, source.path, source.sha1, source.size))
        common = found if common is None else common & found
        if not common:
            return []
    return sorted(common or ())


def _by_history(conn: Connection, sources: Sequence[Source], history: History) -> list[int]:
    """Images an earlier upload of these very sources made, still on the server as recorded."""
    wanted = [(s.size, s.sha1) for s in sources]
    try:
        uploads = history.uploads()
    except HistoryError:
        log.exception("reading the upload history for duplicates failed")
        return []
    for upload in reversed(uploads):  # the latest first
        if (
            not upload.converted
            or upload.server != conn.server
            or upload.user_id != conn.user_id
            or upload.group_id != conn.group_id
            or [(s.size, s.sha1) for s in upload.sources] != wanted
            or not upload.stored
        ):
            continue
        on_server = set(_stored(conn, upload.image_ids))
        if all(f in on_server for f in upload.stored):
            return sorted(upload.image_ids)
    return []


def find_on_server(
    conn: Connection, sources: Sequence[Source], history: History | None
) -> Found | None:
    """Say where these sources already are on OMERO (working group), or ``None``."""
    images = _by_attachment(conn, sources)
    attached = bool(images)
    if not images and history is not None:
        images = _by_history(conn, sources, history)
    if not images:
        return None
    return Found(tuple(images), _stored(conn, images), attached)


def attach_sources(
    conn: Connection,
    image_ids: Sequence[int],
    sources: Sequence[Source],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Generator[int, None, None]:
    """Upload each source as an original and link it to every image; yield bytes sent.

    Sources already attached to all of ``image_ids`` with the same SHA-1 are
    not sent again.
    """
    present = attached_originals(conn, image_ids)
    file_ids = []
    done = 0
    for source in sources:
        holders = {
            o.image_id
            for o in present
            if (o.name, o.size, o.sha1, o.hasher)
            == (source.path.name, source.size, source.sha1, HASHER)
        }
        if holders >= set(image_ids):
            done += source.size
            yield done
            continue
        base = done
        upload = upload_original(conn, source.path, chunk_size=chunk_size)
        try:
            while True:
                sent = next(upload)
                yield base + sent
        except StopIteration as stop:
            file_ids.append(int(stop.value))
        done = base + source.size
    link_originals(conn, image_ids, file_ids)
