"""Turning a verified upload of a planned file into a history record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cci_uploader import formats
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.client_paths import stored_name
from cci_uploader.omero.provenance import fileset_ids
from cci_uploader.stewardship.history import (
    DUPLICATE,
    UPLOADED,
    History,
    NewUpload,
    SourceFile,
    StoredFile,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from cci_uploader.omero.connection import Connection
    from cci_uploader.plan import PlannedFile


@dataclass(frozen=True)
class FilesetUpload:
    """One fileset of a file, verified on the server (new, or found as a duplicate)."""

    files: tuple[Path, ...]
    sha1: str  # of ``files[0]``, computed once by the queue
    image_ids: tuple[int, ...]
    duplicate: bool
    # What the server holds, when the files were not written here (a converted
    # file found on OMERO by its sources, before converting).
    stored: tuple[StoredFile, ...] | None = None
    size: int | None = None  # of ``files[0]`` as hashed and verified, when known
    filesets: Mapping[int, int] | None = None  # image id -> fileset id, when already known


def _sha1(path: Path, known: dict[Path, str]) -> str:
    if path not in known:
        known[path] = file_sha1(path)
    return known[path]


def record_upload(
    history: History,
    conn: Connection,
    file: PlannedFile,
    source_sha1s: Mapping[Path, str],
    uploads: Sequence[FilesetUpload],
    now: dt.datetime | None = None,
) -> int | None:
    """Add one file's upload to the history; ``None`` if it was recorded before.

    The sources are the scanned file and its companions (``source_sha1s``:
    those already hashed).  For a converted file, what OMERO stores is the
    OME-TIFF written from them; its SHA-1 is recorded with its fileset, which
    links the source to the verified upload.
    """
    scan = file.scan
    converted = formats.get_format(scan.format).converts
    # A converted file found on OMERO by its sources carries the main source's SHA-1.
    known = {u.files[0] if u.files else scan.path: u.sha1 for u in uploads}
    known.update(source_sha1s)  # hashed once by the queue before converting
    # The size the server verified, not one read later: the file may have changed since.
    sizes = {u.files[0]: u.size for u in uploads if u.size is not None}

    def size(p: Path) -> int:
        return sizes[p] if p in sizes else p.stat().st_size

    sources = tuple(
        SourceFile(p.resolve(), size(p), _sha1(p, known)) for p in (scan.path, *scan.companions)
    )
    stored: list[StoredFile] = []
    images: list[tuple[int, int]] = []
    for upload in uploads:
        if upload.stored is not None:
            stored.extend(upload.stored)
            filesets = {f.fileset_id for f in upload.stored}
            by_image = fileset_ids(conn, upload.image_ids)
            images.extend((fs, i) for i, fs in by_image.items() if fs in filesets)
            continue
        by_image = (
            dict(upload.filesets)
            if upload.filesets is not None
            else fileset_ids(conn, upload.image_ids)
        )
        if not by_image:
            continue
        fileset = min(by_image.values())  # a duplicate may exist in several filesets
        stored.extend(
            # The name OMERO stores (cleaned by its path rules), to compare with later.
            StoredFile(fileset, stored_name(p), size(p), _sha1(p, known))
            for p in upload.files
        )
        images.extend((fileset, i) for i, fs in by_image.items() if fs == fileset)
    record = NewUpload(
        time=now or dt.datetime.now(dt.UTC),
        server=conn.server,
        omero_user=conn.user_name,
        user_id=conn.user_id,
        omero_group=conn.group_name,
        group_id=conn.group_id,
        project=file.project,
        dataset=file.dataset,
        converted=converted,
        status=DUPLICATE if all(u.duplicate for u in uploads) else UPLOADED,
        sources=sources,
        stored=tuple(stored),
        images=tuple(images),
    )
    return history.add(record)
