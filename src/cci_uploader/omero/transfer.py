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
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import omero
import omero.cmd
import omero.grid
import omero.model
from omero.rtypes import rbool, rstring

from cci_uploader.omero import hql
from cci_uploader.omero._query import project
from cci_uploader.omero.connection import Connection, translate_errors
from cci_uploader.omero.errors import ChecksumMismatch, ImportFailed, ImportTimeout

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
class Processing:
    """The upload is verified; the server is reading the file."""

    waited_s: float


@dataclass(frozen=True)
class Imported:
    """The import finished; these images exist now."""

    image_ids: tuple[int, ...]


ImportEvent = Uploading | Processing | Imported


def find_duplicate(conn: Connection, path: Path, sha1: str, size: int) -> list[int]:
    """Images in the working group whose fileset holds a file with this name, size and SHA-1.

    A file with the same name but other content is not a duplicate.
    """
    rows = project(
        conn,
        hql.DUPLICATE_IMAGES,
        "checking for duplicates",
        name=path.name,
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
        entry.setClientPath(rstring(str(path.resolve())))
        fileset.addFilesetEntry(entry)
    job = omero.model.UploadJobI()
    job.setVersionInfo([omero.model.NamedValue("omero.agent", "cci-omero-uploader")])
    fileset.linkJob(job)
    return fileset


def _upload(
    store: Any, path: Path, already: int, total: int, chunk_size: int
) -> Generator[Uploading, None, str]:
    """Send one file, hashing each chunk while earlier ones are in flight."""
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
                done += size
                yield Uploading(done, total)
    while inflight:
        result, size = inflight.popleft()
        store.end_write(result)
        done += size
        yield Uploading(done, total)
    return digest.hexdigest()


def _wait(
    conn: Connection, handle: Any, timeout_s: float, poll_s: float
) -> Generator[Processing, None, Any]:
    start = last_ping = time.monotonic()
    delay = 0.005
    while (response := handle.getResponse()) is None:
        waited = time.monotonic() - start
        if waited > timeout_s:
            raise ImportTimeout(
                f"OMERO did not finish importing within {timeout_s:.0f} s. It may still "
                "finish: check OMERO.web before retrying."
            )
        if time.monotonic() - last_ping > KEEPALIVE_EVERY_S:
            conn.gateway.c.sf.keepAlive(None)
            last_ping = time.monotonic()
        yield Processing(waited)
        time.sleep(delay)
        # Small files finish in milliseconds; big ones need not be polled often.
        delay = min(delay * 1.5, poll_s)
    return response


def import_file(
    conn: Connection,
    files: Sequence[Path],
    dataset_id: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    timeout_s: float = 3600.0,
    poll_s: float = 0.5,
) -> Generator[ImportEvent, None, None]:
    """Import ``files`` (one fileset) into the Dataset, yielding progress.

    Closing the generator between yields cancels: the uploader and import
    process are closed without ``verifyUpload``, so no image is created.
    """
    total = sum(p.stat().st_size for p in files)
    proc = handle = None
    try:
        with translate_errors("starting the import"):
            repo = conn.gateway.c.getManagedRepository()
            proc = repo.importFileset(_fileset(files), _settings(dataset_id))
        hashes = []
        done = 0
        for index, path in enumerate(files):
            with translate_errors(f"uploading {path.name}"):
                store = proc.getUploader(index)
                try:
                    hashes.append((yield from _upload(store, path, done, total, chunk_size)))
                finally:
                    with contextlib.suppress(Exception):
                        store.close()
            done += path.stat().st_size
        try:
            with translate_errors("verifying the upload"):
                handle = proc.verifyUpload(hashes)
        except omero.ChecksumValidationException as exc:
            raise ChecksumMismatch(
                "OMERO received different bytes than the file holds (the checksums "
                "differ), so nothing was imported. Press Retry failed."
            ) from exc
        with translate_errors("waiting for OMERO to import"):
            response = yield from _wait(conn, handle, timeout_s, poll_s)
        if isinstance(response, omero.cmd.ERR):
            detail = response.parameters.get("message") or f"{response.category}/{response.name}"
            raise ImportFailed(f"OMERO could not import {files[0].name}: {detail}")
        yield Imported(tuple(int(p.getImage().getId().getValue()) for p in response.pixels))
    finally:
        for service in (handle, proc):
            if service is not None:
                with contextlib.suppress(Exception):
                    service.close()
