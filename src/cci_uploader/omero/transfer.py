"""Duplicate detection by content, and import through the managed repository.

The import follows what OMERO's own importer does, in pure Python:
``importFileset`` with SHA-1 settings, chunked upload through the uploader
``RawFileStore`` (hashing in the same read pass, with writes pipelined),
``verifyUpload``, then waiting on the server's import handle.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import omero
import omero.callbacks
import omero.cmd
import omero.grid
import omero.model
from omero.rtypes import rbool, rstring

from cci_uploader.omero import hql, orphans
from cci_uploader.omero._query import project
from cci_uploader.omero.client_paths import client_path, stored_name
from cci_uploader.omero.containers import dataset_for_import
from cci_uploader.omero.errors import (
    ChecksumMismatch,
    ImportFailed,
    ImportStillRunning,
    SourceChanged,
)
from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Generator, Sequence
    from pathlib import Path

    from cci_uploader.omero.connection import Connection

HASHER = "SHA1-160"
CHUNK_SIZE = 4 * 1024 * 1024
PIPELINE_DEPTH = 3  # writes in flight while the next chunk is read and hashed
KEEPALIVE_EVERY_S = 30.0


@dataclass(frozen=True)
class Uploading:
    """Bytes of this import acknowledged by the server so far."""

    done: int
    total: int


@dataclass(frozen=True)
class Verifying:
    """Every byte is sent and checked; ``verifyUpload``, which starts the import, goes next.

    Once it is sent the server may import the file even if its answer never
    arrives (the app dies, the connection drops): the caller notes it now.
    ``file_id`` is the first file's OriginalFile, by which a later run asks
    whether the call arrived (:func:`~cci_uploader.omero.orphans.upload_verified`).
    """

    file_id: int | None = None


@dataclass(frozen=True)
class Processing:
    """The upload is verified; the server is reading the file."""

    waited_s: float
    # When to ask again (time.monotonic): with ``block=False`` the caller may do
    # other work until then; the server's call back is kept meanwhile.
    due: float = 0.0


@dataclass(frozen=True)
class Imported:
    """The import finished; these images exist now."""

    image_ids: tuple[int, ...]


ImportEvent = Uploading | Verifying | Processing | Imported


def find_duplicate(conn: Connection, path: Path, sha1: str, size: int) -> list[int]:
    """Images in the working group whose fileset holds a file with this name, size and SHA-1.

    The name compared is the one OMERO stores (:func:`stored_name`).  A file
    with the same name but other content is not a duplicate.
    """
    rows = project(
        conn,
        hql.DUPLICATE_IMAGES,
        "checking for duplicates",
        name=stored_name(path),
        size=size,
        hash=sha1,
        hasher=HASHER,
        group=conn.group_id,
    )
    return sorted({int(row[0]) for row in rows})


def _settings(dataset_id: int) -> Any:
    settings = omero.grid.ImportSettings()
    settings.doThumbnails = rbool(True)
    settings.noStatsInfo = rbool(False)
    settings.userSpecifiedTarget = omero.model.DatasetI(dataset_id, False)
    algorithm = omero.model.ChecksumAlgorithmI()
    algorithm.setValue(rstring(HASHER))
    settings.checksumAlgorithm = algorithm
    return settings


def _fileset(files: Sequence[Path]) -> Any:
    fileset = omero.model.FilesetI()
    for path in files:
        entry = omero.model.FilesetEntryI()
        # Cleaned components joined with "/", as ImportContainer.fillData sends.
        entry.setClientPath(rstring(client_path(path.resolve())))
        fileset.addFilesetEntry(entry)
    job = omero.model.UploadJobI()
    job.setVersionInfo([omero.model.NamedValue("omero.agent", "cci-omero-uploader")])
    fileset.linkJob(job)
    return fileset


def _upload(
    store: Any,
    path: Path,
    already: int,
    total: int,
    chunk_size: int,
    acked: Callable[[], None] = lambda: None,
) -> Generator[Uploading, None, tuple[str, int]]:
    """Send one file, hashing each chunk while earlier ones are in flight.

    ``acked`` runs once the first write is answered, before the first event.
    """
    digest = hashlib.sha1()
    inflight: deque[tuple[Any, int]] = deque()
    done = already
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
            inflight.append((store.begin_write(block, offset, len(block)), len(block)))
            offset += len(block)
            if len(inflight) >= PIPELINE_DEPTH:
                result, size = inflight.popleft()
                store.end_write(result)
                acked()
                done += size
                yield Uploading(done, total)
    while inflight:
        result, size = inflight.popleft()
        store.end_write(result)
        acked()
        done += size
        yield Uploading(done, total)
    return digest.hexdigest(), offset


def _check_unchanged(
    path: Path, start: os.stat_result, sent: int, sha1: str, expected: str | None
) -> None:
    """Refuse to verify an upload whose file changed while it was read.

    The server checks the bytes it received against the hash sent with
    them, so a file cut or grown mid-way would verify: the size read, the
    size and modification time now and the hash the queue took before must
    all still agree.
    """
    now = path.stat()
    if (
        sent != start.st_size
        or now.st_size != start.st_size
        or now.st_mtime_ns != start.st_mtime_ns
        or (expected is not None and sha1 != expected)
    ):
        raise SourceChanged(
            f"{path.name} changed while it was being uploaded, so nothing was imported. "
            "Wait until the microscope has finished writing it, then press Retry."
        )


STILL_IMPORTING = (
    "OMERO is still importing {name}: the image will appear in OMERO.web when it "
    "has finished, and the next run will find it as already on the server."
)


def _wait(
    conn: Connection, handle: Any, name: str, timeout_s: float, poll_s: float, block: bool
) -> Generator[Processing, None, Any]:
    """Wait for the import's response, yielding while OMERO works.

    Asked once first: a small file is often imported by then.  Otherwise the
    server says when it has finished, to a ``CmdCallbackI`` (omero-blitz
    ``HandleI.notifyCallbacks``), as Java's ``ImportLibrary.importImage`` waits
    with its ``ImportCallback``: no polling, however long the import takes.
    """
    start = last_ping = time.monotonic()
    if (response := handle.getResponse()) is not None:
        return response
    callback = omero.callbacks.CmdCallbackI(conn.gateway.c, handle)  # polls once itself
    try:
        while True:
            waited = time.monotonic() - start
            if waited > timeout_s:
                # Stop waiting; the handle stays open (Java: cb.close(false)).
                raise ImportStillRunning(STILL_IMPORTING.format(name=name))
            if time.monotonic() - last_ping > KEEPALIVE_EVERY_S:
                conn.gateway.c.sf.keepAlive(None)  # refreshes the session; answers False
                last_ping = time.monotonic()
            yield Processing(waited, time.monotonic() + poll_s)
            # Not blocking: the caller came back when it was due; the call back
            # (or CmdCallbackI's own poll) has said by then whether it finished.
            if callback.block(max(1, int(poll_s * 1000)) if block else 1):
                return callback.getResponse()
    finally:
        callback.close(False)  # our servant goes; the handle stays open


def _abandon(conn: Connection, proc: Any) -> None:
    """Close an import process before any upload, and delete the Fileset it made."""
    with translate_errors("starting the import"):
        try:
            store = proc.getUploader(0)
            file_id = int(store.getFileId().getValue())
            store.close()
        finally:
            proc.close()
    orphans.discard_upload(conn, file_id)


def _start(conn: Connection, files: Sequence[Path], dataset_id: int) -> Any:
    """``importFileset`` into the Dataset, or the one replacing it if it was deleted."""
    with translate_errors("starting the import"):
        repo = conn.repository()
        proc = repo.importFileset(_fileset(files), _settings(dataset_id), conn.context())
    try:
        target = dataset_for_import(conn, dataset_id)  # its check was answered meanwhile
    except BaseException:
        with contextlib.suppress(Exception):
            _abandon(conn, proc)
        raise
    if target == dataset_id:
        return proc
    # Nothing was uploaded yet: this Fileset goes, and the import starts again.
    _abandon(conn, proc)
    with translate_errors("starting the import"):
        return repo.importFileset(_fileset(files), _settings(target), conn.context())


def import_file(
    conn: Connection,
    files: Sequence[Path],
    dataset_id: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    timeout_s: float = 3600.0,
    poll_s: float = 0.5,
    expected_sha1: Sequence[str | None] = (),
    block: bool = True,
) -> Generator[ImportEvent, None, None]:
    """Import ``files`` (one fileset) into the Dataset, yielding progress.

    The lifecycle is the Java importer's (omero-blitz ``ImportLibrary.importImage``):
    the import process is closed right after ``verifyUpload``, and the import
    handle is never closed while the server works on it (closing it cancels
    the import, ``HandleI.close``).  Closing the generator during the upload
    cancels, and the Fileset the server already created is deleted (or
    remembered, see :mod:`.orphans`); closing it while OMERO imports, or our
    time-out, only stops the waiting: the import goes on, and the images
    appear in OMERO.web.

    With ``block=False`` the wait for OMERO's import never blocks: each
    :class:`Processing` says when it is worth resuming (its ``due``), and the
    caller may do other work until then, in the same thread.

    ``expected_sha1`` holds the SHA-1 taken of each file before (``None`` to
    skip one); a file that changed while it was sent raises
    :class:`SourceChanged` before ``verifyUpload``, so nothing is imported.
    """
    starts = [p.stat() for p in files]
    total = sum(s.st_size for s in starts)
    proc = None
    file_id: int | None = None
    verified = False
    try:
        proc = _start(conn, files, dataset_id)
        hashes = []
        done = 0
        for index, path in enumerate(files):
            with translate_errors(f"uploading {path.name}"):
                store = proc.getUploader(index)
                # Answered beside the first write, not waited for on its own.
                asked = [store.begin_getFileId()] if file_id is None else []

                def resolve(store: Any = store, asked: list[Any] = asked) -> None:
                    nonlocal file_id
                    if asked:
                        file_id = int(store.end_getFileId(asked.pop()).getValue())

                try:
                    sha1, sent = yield from _upload(store, path, done, total, chunk_size, resolve)
                    resolve()  # an empty file has no write
                except BaseException:
                    with contextlib.suppress(Exception):
                        resolve()
                    with contextlib.suppress(Exception):
                        store.close()
                    raise
                # close() saves: its size, hash and a full repository surface
                # here, as in Java (AbstractFileTransfer.finish lets them through).
                store.close()
            expected = expected_sha1[index] if index < len(expected_sha1) else None
            _check_unchanged(path, starts[index], sent, sha1, expected)
            hashes.append(sha1)
            done += sent
        yield Verifying(file_id)
        with translate_errors("verifying the upload"):
            try:
                handle = proc.verifyUpload(hashes)
            except omero.ChecksumValidationException as exc:
                raise ChecksumMismatch(
                    "OMERO received different bytes than the file holds (the checksums "
                    "differ), so nothing was imported. Press Retry failed."
                ) from exc
            verified = True
            # An open ImportProcess blocks group switches in the session (PR #2395):
            # the close is sent now and waited for only before a switch
            # (Connection.settle), which a one-way close could not be.
            with contextlib.suppress(Exception):
                conn.closing(proc, proc.begin_close())
            proc = None
        with translate_errors("waiting for OMERO to import"):
            response = yield from _wait(conn, handle, files[0].name, timeout_s, poll_s, block)
        if isinstance(response, omero.cmd.ERR):
            detail = response.parameters.get("message") or f"{response.category}/{response.name}"
            raise ImportFailed(f"OMERO could not import {files[0].name}: {detail}")
        # The request has finished: closing its handle now only frees it
        # (HandleI.close), so nobody waits for the answer.
        with contextlib.suppress(Exception):
            handle.ice_oneway().close()
        image_ids = tuple(int(p.getImage().getId().getValue()) for p in response.pixels)
        conn.fresh_images.update(image_ids)
        yield Imported(image_ids)
    finally:
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.close()
        if not verified and file_id is not None:
            orphans.discard_upload(conn, file_id)
