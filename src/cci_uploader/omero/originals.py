"""The original files of a converted upload, attached to its images as file annotations.

A converted file (EMD, EMI+SER, MRC+XML, SmartSEM, Fibics) reaches OMERO as
an OME-TIFF holding its images only. The files the microscope wrote go with
it, as omero-py's ``createOriginalFileFromFileObj`` sends them: an
``OriginalFile`` saved through ``IUpdate`` (with ``hasher = SHA1-160``, so
that the server computes its own SHA-1 when the store saves:
``RawFileBean.save`` hashes only when a hasher is set), its bytes through a
``RawFileStore``, and a ``FileAnnotation`` in our namespace linked to each
image. The server's SHA-1 must equal the one computed while sending. (A new
``ChecksumAlgorithm`` carrying only its value is the existing enum on the
server: ``SaveEventListener``/``MergeEventListener`` look enums up by value.)

The same annotations answer two questions later: is this source already on
the server (:func:`images_with_original`, before converting), and does the
server hold each source's own bytes (:func:`attached_originals`, before a
verified removal).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import omero
import omero.model
from omero.rtypes import rlong, rstring

from cci_uploader.omero import hql
from cci_uploader.omero._query import project
from cci_uploader.omero.errors import ChecksumMismatch
from cci_uploader.omero.transfer import CHUNK_SIZE, HASHER
from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Sequence
    from pathlib import Path

    from cci_uploader.omero.connection import Connection

ORIGINALS_NS = "se.gu.cci/omero-uploader/original-file"
"""Namespace of the file annotations holding a converted image's original files."""


@dataclass(frozen=True)
class Original:
    """One original file as the server stores it, attached to an image."""

    image_id: int
    name: str
    size: int
    sha1: str | None
    hasher: str | None


def _send(store: Any, path: Path, chunk_size: int) -> Generator[int, None, str]:
    """Write ``path`` into ``store`` in order; yield bytes sent; return its SHA-1."""
    digest = hashlib.sha1()
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
            store.write(block, offset, len(block))
            offset += len(block)
            yield offset
    return digest.hexdigest()


def _original_file(path: Path) -> Any:
    ofile = omero.model.OriginalFileI()
    ofile.setName(rstring(path.name))
    ofile.setPath(rstring("cci-uploader/originals/"))
    ofile.setMimetype(rstring("application/octet-stream"))
    ofile.setSize(rlong(path.stat().st_size))
    hasher = omero.model.ChecksumAlgorithmI()
    hasher.setValue(rstring(HASHER))
    ofile.setHasher(hasher)
    return ofile


def upload_original(
    conn: Connection, path: Path, *, chunk_size: int = CHUNK_SIZE
) -> Generator[int, None, int]:
    """Upload ``path`` as an OriginalFile, yielding bytes sent; return its id.

    Raises
    ------
    ChecksumMismatch
        If the SHA-1 the server computed differs from the bytes sent.
    """
    update = conn.gateway.getUpdateService()
    opts = conn.gateway.SERVICE_OPTS
    with translate_errors(f"uploading the original {path.name}"):
        saved = update.saveAndReturnObject(_original_file(path), opts)
        file_id = int(saved.getId().getValue())
        store = conn.gateway.c.sf.createRawFileStore()
        try:
            store.setFileId(file_id, opts)
            sent = yield from _send(store, path, chunk_size)
            stored = store.save(opts)
        finally:
            with contextlib.suppress(Exception):
                store.close()
    server_hash = stored.getHash().getValue() if stored is not None and stored.getHash() else None
    if server_hash != sent:
        raise ChecksumMismatch(
            f"OMERO received different bytes than {path.name} holds (the checksums differ), "
            "so its original was not attached. Press Retry."
        )
    return file_id


def link_originals(conn: Connection, image_ids: Sequence[int], file_ids: Sequence[int]) -> None:
    """Link each uploaded original to every image, as one FileAnnotation per file."""
    if not image_ids or not file_ids:
        return
    update = conn.gateway.getUpdateService()
    opts = conn.gateway.SERVICE_OPTS
    with translate_errors("attaching the original files"):
        links = []
        for file_id in file_ids:
            annotation = omero.model.FileAnnotationI()
            annotation.setNs(rstring(ORIGINALS_NS))
            annotation.setFile(omero.model.OriginalFileI(file_id, False))
            saved = update.saveAndReturnObject(annotation, opts)
            annotation_id = int(saved.getId().getValue())
            for image_id in image_ids:
                link = omero.model.ImageAnnotationLinkI()
                link.setParent(omero.model.ImageI(image_id, False))
                link.setChild(omero.model.FileAnnotationI(annotation_id, False))
                links.append(link)
        update.saveArray(links, opts)


def images_with_original(conn: Connection, path: Path, sha1: str, size: int) -> list[int]:
    """Images in the working group with this file (name, size, SHA-1) attached as an original."""
    rows = project(
        conn,
        hql.IMAGES_WITH_ORIGINAL,
        "checking for duplicates",
        ns=ORIGINALS_NS,
        name=path.name,
        size=size,
        hash=sha1,
        hasher=HASHER,
        group=conn.group_id,
    )
    return sorted({int(row[0]) for row in rows})


def attached_originals(conn: Connection, image_ids: Iterable[int]) -> list[Original]:
    """Every file attached to these images (in any of the user's groups), as stored."""
    ids = sorted(set(image_ids))
    if not ids:
        return []
    rows = project(
        conn, hql.ATTACHED_FILES, "reading the attached originals", all_groups=True, ids=ids
    )
    return [
        Original(int(image), str(name), int(size or 0), sha1, hasher)
        for image, name, size, sha1, hasher in rows
    ]
