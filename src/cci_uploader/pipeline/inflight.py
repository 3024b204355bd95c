"""Uploads OMERO is still importing, remembered on disk until their images are recorded.

After ``verifyUpload`` the server imports on its own: if the app dies (or
the queue pauses) meanwhile, the images appear later.  Until they do, the
duplicate query (which asks for images) cannot find them, so the file
would be sent again and imported twice.  Each verified upload is written
here first (its server, user, group, the name OMERO stores, size and
SHA-1; no token) and removed once its images are recorded or the server
said the import failed.  A later run that finds the same content here but
not yet on the server waits for OMERO instead of sending it again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cci_uploader.config import APP
from cci_uploader.entries import load_entries, save_entries
from cci_uploader.omero.client_paths import stored_name

if TYPE_CHECKING:
    from cci_uploader import omero as om

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
    conn: om.Connection, path: Path, size: int, sha1: str, *, verified: bool = True
) -> None:
    """The upload of ``path`` is verified: OMERO imports it now.

    ``verified=False``: ``verifyUpload`` is about to be sent. If its answer
    never comes, OMERO may or may not be importing the file; a later run
    waits for it, and sends it only if it never appears (:func:`verified`).
    """
    key = _key(conn, path, size, sha1)
    with _lock:
        store = store_path()
        entries = [
            e for e in load_entries(store) if not _matches(e, key) and _age(e) < FORGET_AFTER_S
        ]
        entries.append({**key, "since": time.time(), "verified": verified})
        save_entries(store, entries)


def verified(conn: om.Connection, path: Path, size: int, sha1: str) -> bool:
    """Whether OMERO answered the ``verifyUpload`` of this content (it imports it, or did).

    A note made before the answer came says no: the import may never have begun.
    """
    key = _key(conn, path, size, sha1)
    with _lock:
        entries = [e for e in load_entries(store_path()) if _matches(e, key)]
    return any(e.get("verified", True) is not False for e in entries)


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
