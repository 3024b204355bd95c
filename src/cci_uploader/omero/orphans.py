"""Filesets left behind by cancelled or failed uploads, and their clean-up.

``importFileset`` saves the Fileset, its entries and OriginalFiles before
any byte arrives (omero-blitz ``RepositoryDaoImpl.saveFileset``); a
cancelled or failed upload leaves them, with the partial bytes, on the
server.  Java's importer leaves them too.  We delete that Fileset with
``Delete2`` at once; if that fails (often because the connection is what
failed), its first file's id is remembered in a small file of the app's and
the next connection deletes it.  Only a fileset without images, owned by
the user, whose upload was never verified, is ever deleted this way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cci_uploader.entries import load_entries, save_entries
from cci_uploader.omero import hql
from cci_uploader.omero._query import project
from cci_uploader.omero.errors import OmeroError
from cci_uploader.omero.retention import delete_filesets

if TYPE_CHECKING:
    from cci_uploader.omero.connection import Connection

log = logging.getLogger(__name__)

APP = "cci-uploader"
_lock = threading.Lock()
# An entry nobody could clean for this long (its server gone, e.g. a training
# sandbox) is dropped.
_FORGET_AFTER_S = 30 * 24 * 3600


def store_path() -> Path:
    """Where unfinished uploads are remembered (no token, only ids)."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "unfinished-uploads.json"


def _recent(entry: dict[str, object]) -> bool:
    try:
        since = float(str(entry.get("since")))
    except ValueError:
        return False
    return time.time() - since < _FORGET_AFTER_S


def _key(conn: Connection) -> dict[str, object]:
    return {"server": conn.server, "user_id": conn.user_id}


def _empty_fileset(conn: Connection, file_id: int) -> tuple[int, int] | None:
    """(fileset id, group id) of the user's image-less fileset holding ``file_id``."""
    rows = project(
        conn,
        hql.EMPTY_FILESET_OF_FILE,
        "looking up an unfinished upload",
        all_groups=True,
        file=file_id,
        owner=conn.user_id,
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else None


def _delete(conn: Connection, file_id: int) -> None:
    found = _empty_fileset(conn, file_id)
    if found is not None:
        fileset, group = found
        if upload_verified(conn, file_id):
            # verifyUpload arrived after all (its answer was lost): OMERO imports
            # it, and its images may not be there yet. Not an orphan: kept.
            log.info("fileset %s was verified; OMERO imports it, so it is kept", fileset)
            return
        delete_filesets(conn, {group: [fileset]})
        log.info("deleted fileset %s of an unfinished upload", fileset)


def upload_verified(conn: Connection, file_id: int) -> bool:
    """Whether the upload holding ``file_id`` passed ``verifyUpload`` (its import began).

    ``verifyUpload`` sets the fileset's UploadJob to "Finished" before it
    submits the import (omero-blitz ``ManagedImportProcessI.verifyUpload``);
    until then it stays "Submitted" (omero-server ``JobBean.submit``). No
    fileset at all (deleted since) began nothing either.
    """
    rows = project(
        conn,
        hql.UPLOAD_JOB_OF_FILE,
        "asking whether an upload was verified",
        all_groups=True,
        file=file_id,
        owner=conn.user_id,
    )
    return any(row[0] == "Finished" for row in rows)


def discard_upload(conn: Connection, file_id: int) -> bool:
    """Delete the fileset of an unfinished upload now, else remember it; True if deleted."""
    try:
        _delete(conn, file_id)
        return True
    except OmeroError:
        log.warning("could not delete an unfinished upload now", exc_info=True)
    with _lock:
        path = store_path()
        entries = load_entries(path)
        entry: dict[str, object] = {**_key(conn), "file_id": file_id}
        if not any(all(e.get(k) == v for k, v in entry.items()) for e in entries):
            entries.append({**entry, "since": time.time()})
            with contextlib.suppress(OSError):
                save_entries(path, entries)
    return False


def clean_remembered(conn: Connection) -> int:
    """Delete remembered unfinished uploads of this user on this server; return how many."""
    with _lock:
        path = store_path()
        entries = load_entries(path)
        mine = [e for e in entries if all(e.get(k) == v for k, v in _key(conn).items())]
        if not mine:
            return 0
        left = [e for e in entries if e not in mine and _recent(e)]
        cleaned = 0
        for entry in mine:
            try:
                _delete(conn, int(str(entry["file_id"])))
                cleaned += 1
            except (OmeroError, KeyError, ValueError):
                log.warning("unfinished upload %s not cleaned yet", entry, exc_info=True)
                left.append(entry)
        with contextlib.suppress(OSError):
            save_entries(path, left)
    return cleaned
