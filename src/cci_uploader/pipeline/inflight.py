"""Uploads OMERO is still importing, remembered on disk until their images are recorded.

After ``verifyUpload`` the server imports on its own: if the app dies (or
the queue pauses) meanwhile, the images appear later.  Until they do, the
duplicate query (which asks for images) cannot find them, so the file
would be sent again and imported twice.  Each upload is written here just
before its ``verifyUpload`` is sent (its server, user, group, the name
OMERO stores, size, SHA-1 and first OriginalFile id; no token), marked
once the call is answered, and removed once its images are recorded or the
server said the import failed.  A later run that finds the same content
here but not yet on the server waits for OMERO instead of sending it again;
for a note whose call was never answered it first asks the server whether
the call arrived (:func:`import_began`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path

import platformdirs

from cci_uploader import omero as om
from cci_uploader.config import APP
from cci_uploader.entries import load_entries, save_entries
from cci_uploader.omero.client_paths import stored_name

log = logging.getLogger(__name__)

# After this long an import not finished is not waited for any more: the
# import's own time-out (omero.import_file) has long passed.
FORGET_AFTER_S = 2 * 3600.0
_lock = threading.Lock()


def store_path() -> Path:
    """Where uploads still being imported are remembered (no token, only names and ids)."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "importing.json"


def _key(conn: om.Connection, path: Path, size: int, sha1: str) -> dict[str, object]:
    return {
        "server": conn.server,
        "user_id": conn.user_id,
        "group_id": conn.group_id,
        "name": stored_name(path),
        "size": size,
        "sha1": sha1,
    }


def _matches(entry: dict[str, object], key: dict[str, object]) -> bool:
    return all(entry.get(k) == v for k, v in key.items())


def _age(entry: dict[str, object]) -> float:
    try:
        return time.time() - float(str(entry.get("since")))
    except ValueError:
        return FORGET_AFTER_S


def remember(
    conn: om.Connection,
    path: Path,
    size: int,
    sha1: str,
    *,
    verified: bool = True,
    file_id: int | None = None,
) -> None:
    """The upload of ``path`` is verified: OMERO imports it now.

    ``verified=False``: ``verifyUpload`` is about to be sent. If its answer
    never comes, OMERO may or may not be importing the file: a later run
    asks the server by ``file_id``, the upload's first OriginalFile
    (:func:`import_began`).
    """
    key = _key(conn, path, size, sha1)
    with _lock:
        store = store_path()
        entries = [
            e for e in load_entries(store) if not _matches(e, key) and _age(e) < FORGET_AFTER_S
        ]
        entries.append({**key, "since": time.time(), "verified": verified, "file_id": file_id})
        save_entries(store, entries)


def _notes(conn: om.Connection, path: Path, size: int, sha1: str) -> list[dict[str, object]]:
    key = _key(conn, path, size, sha1)
    with _lock:
        return [e for e in load_entries(store_path()) if _matches(e, key)]


def _file_ids(notes: list[dict[str, object]]) -> list[int]:
    return [int(i) for n in notes if isinstance(i := n.get("file_id"), int)]


def import_began(conn: om.Connection, path: Path, size: int, sha1: str) -> bool | None:
    """Whether OMERO began importing this content, as far as can be told.

    True for a note made after ``verifyUpload`` answered, or whose upload the
    server says was verified; False if the server says it never was (the
    call never arrived); None if it cannot say (no note, an old note, or the
    question failed).

    Raises
    ------
    om.ConnectionLost, om.SessionExpired
        Asking needs the server; the queue pauses as for any other request.
    """
    notes = _notes(conn, path, size, sha1)
    if any(n.get("verified", True) is not False for n in notes):
        return True
    ids = _file_ids(notes)
    if not ids:
        return None
    try:
        return any(om.upload_verified(conn, file_id) for file_id in ids)
    except (om.ConnectionLost, om.SessionExpired):
        raise
    except om.OmeroError:
        log.warning("could not ask whether the upload of %s was verified", path, exc_info=True)
        return None


def drop_unverified(conn: om.Connection, path: Path, size: int, sha1: str) -> None:
    """Forget a note whose ``verifyUpload`` never arrived, and delete its empty fileset."""
    notes = _notes(conn, path, size, sha1)
    forget(conn, path, size, sha1)
    for file_id in _file_ids(notes):
        om.discard_upload(conn, file_id)  # only an image-less, unverified one is deleted


def forget(conn: om.Connection, path: Path, size: int, sha1: str) -> None:
    """Its images are recorded, or the server said the import failed."""
    key = _key(conn, path, size, sha1)
    with _lock:
        store = store_path()
        entries = load_entries(store)
        left = [e for e in entries if not _matches(e, key)]
        if len(left) != len(entries):
            with contextlib.suppress(OSError):
                save_entries(store, left)


def importing_since(conn: om.Connection, path: Path, size: int, sha1: str) -> float | None:
    """Seconds since this content's verified upload, if OMERO may still be importing it."""
    key = _key(conn, path, size, sha1)
    with _lock:
        ages = [_age(e) for e in load_entries(store_path()) if _matches(e, key)]
    ages = [a for a in ages if a < FORGET_AFTER_S]
    return min(ages) if ages else None
