"""The local upload history: an SQLite database in the user's data folder.

One record per upload, written the moment OMERO has verified and imported
it (one transaction each), so a crash loses nothing already uploaded.  A
record links the *source* files on this computer (path, size, SHA-1) with
the files OMERO stores (fileset, name, size, SHA-1): for a converted file
these are the OME-TIFF written from the source.  No token is ever stored.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import platformdirs

from cci_uploader.config import APP

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

UPLOADED, DUPLICATE = "uploaded", "duplicate"

SCHEMA_VERSION = 1

_SCHEMA = f"""
pragma user_version = {SCHEMA_VERSION};
create table if not exists uploads (
    id integer primary key,
    key text not null unique,
    time text not null,
    server text not null,
    omero_user text not null,
    user_id integer not null,
    omero_group text not null,
    group_id integer not null,
    project text,
    dataset text,
    converted integer not null,
    status text not null,
    removed text
);
create table if not exists sources (
    upload_id integer not null references uploads(id),
    position integer not null,
    path text not null,
    size integer not null,
    sha1 text not null,
    primary key (upload_id, position)
);
create table if not exists stored (
    upload_id integer not null references uploads(id),
    fileset_id integer not null,
    name text not null,
    size integer not null,
    sha1 text not null
);
create table if not exists images (
    upload_id integer not null references uploads(id),
    fileset_id integer not null,
    image_id integer not null
);
"""

CSV_COLUMNS = (
    "time",
    "status",
    "server",
    "omero_user",
    "omero_group",
    "project",
    "dataset",
    "source_paths",
    "size_bytes",
    "source_sha1",
    "converted",
    "uploaded_sha1",
    "fileset_ids",
    "image_ids",
    "local_copies_removed",
)


class HistoryError(Exception):
    """The history database cannot be read or written; the message says where."""


@dataclass(frozen=True)
class SourceFile:
    """A file on this computer that was uploaded (or converted, then uploaded)."""

    path: Path
    size: int
    sha1: str


@dataclass(frozen=True)
class StoredFile:
    """A file OMERO stores for an upload, in one fileset."""

    fileset_id: int
    name: str
    size: int
    sha1: str


@dataclass(frozen=True)
class _UploadFacts:
    """What an upload record says, whether read back or about to be written."""

    time: dt.datetime
    server: str
    omero_user: str
    user_id: int
    omero_group: str
    group_id: int
    project: str | None
    dataset: str | None
    converted: bool
    status: str
    sources: tuple[SourceFile, ...]
    stored: tuple[StoredFile, ...]


@dataclass(frozen=True, kw_only=True)
class Upload(_UploadFacts):
    """One record of the history."""

    id: int
    image_ids: tuple[int, ...]
    removed: dt.datetime | None = None

    @property
    def fileset_ids(self) -> tuple[int, ...]:
        """The filesets on the server that hold this upload."""
        return tuple(sorted({f.fileset_id for f in self.stored}))

    @property
    def size(self) -> int:
        """Bytes of the source files."""
        return sum(s.size for s in self.sources)

    @property
    def main(self) -> Path:
        """The main source file (companions follow it)."""
        return self.sources[0].path


@dataclass(frozen=True, kw_only=True)
class NewUpload(_UploadFacts):
    """What the import queue knows when an upload is verified; see :meth:`History.add`."""

    images: tuple[tuple[int, int], ...]  # (fileset id, image id)

    def key(self) -> str:
        """Identity of an upload: the same sources in the same filesets are recorded once."""
        sources = ";".join(f"{s.path}={s.sha1}" for s in self.sources)
        filesets = ",".join(str(i) for i in sorted({f.fileset_id for f in self.stored}))
        return f"{self.server}|{self.user_id}|{sources}|{filesets}"


def history_path() -> Path:
    """Where the history database lives: the user's data folder."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "history.sqlite3"


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


class History:
    """The upload history database.

    Parameters
    ----------
    path : Path, optional
        The database file; :func:`history_path` by default.  Created on first use.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"The upload history {self.path} cannot be opened: {exc}") from exc
        try:
            with db:  # one transaction: committed on success, rolled back on error
                if not _has_schema(db):
                    db.executescript(_SCHEMA)
                yield db
        except sqlite3.Error as exc:
            raise HistoryError(f"The upload history {self.path} cannot be used: {exc}") from exc
        finally:
            db.close()

    def add(self, upload: NewUpload) -> int | None:
        """Record an upload and return its id; ``None`` if it was already recorded."""
        with self._db() as db:
            cursor = db.execute(
                "insert or ignore into uploads (key, time, server, omero_user, user_id,"
                " omero_group, group_id, project, dataset, converted, status)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.key(),
                    _time(upload.time),
                    upload.server,
                    upload.omero_user,
                    upload.user_id,
                    upload.omero_group,
                    upload.group_id,
                    upload.project,
                    upload.dataset,
                    int(upload.converted),
                    upload.status,
                ),
            )
            if cursor.rowcount == 0:
                return None
            upload_id = int(cursor.lastrowid or 0)
            db.executemany(
                "insert into sources values (?, ?, ?, ?, ?)",
                [(upload_id, n, str(s.path), s.size, s.sha1) for n, s in enumerate(upload.sources)],
            )
            db.executemany(
                "insert into stored values (?, ?, ?, ?, ?)",
                [(upload_id, f.fileset_id, f.name, f.size, f.sha1) for f in upload.stored],
            )
            db.executemany(
                "insert into images values (?, ?, ?)",
                [(upload_id, fs, image) for fs, image in upload.images],
            )
            return upload_id

    def mark_removed(self, upload_ids: Iterable[int], when: dt.datetime) -> None:
        """Note that the local copies of these uploads were removed."""
        with self._db() as db:
            db.executemany(
                "update uploads set removed = ? where id = ?",
                [(_time(when), i) for i in upload_ids],
            )

    def uploads(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        status: str | None = None,
    ) -> list[Upload]:
        """Records, oldest first, optionally from ``since`` up to ``until`` with one status."""
        if not self.path.exists():
            return []
        where, args = [], []
        if since is not None:
            where.append("time >= ?")
            args.append(_time(since))
        if until is not None:
            where.append("time < ?")
            args.append(_time(until))
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "select * from uploads" + (" where " + " and ".join(where) if where else "")
        with self._db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(sql + " order by time, id", args).fetchall()
            return [self._upload(db, row) for row in rows]

    @staticmethod
    def _upload(db: sqlite3.Connection, row: sqlite3.Row) -> Upload:
        uid = row["id"]
        sources = db.execute(
            "select path, size, sha1 from sources where upload_id = ? order by position", (uid,)
        ).fetchall()
        stored = db.execute(
            "select fileset_id, name, size, sha1 from stored where upload_id = ? order by rowid",
            (uid,),
        ).fetchall()
        images = db.execute(
            "select image_id from images where upload_id = ? order by rowid", (uid,)
        ).fetchall()
        return Upload(
            id=uid,
            time=dt.datetime.fromisoformat(row["time"]),
            server=row["server"],
            omero_user=row["omero_user"],
            user_id=row["user_id"],
            omero_group=row["omero_group"],
            group_id=row["group_id"],
            project=row["project"],
            dataset=row["dataset"],
            converted=bool(row["converted"]),
            status=row["status"],
            sources=tuple(SourceFile(Path(p), s, h) for p, s, h in sources),
            stored=tuple(StoredFile(f, n, s, h) for f, n, s, h in stored),
            image_ids=tuple(i for (i,) in images),
            removed=dt.datetime.fromisoformat(row["removed"]) if row["removed"] else None,
        )


def _has_schema(db: sqlite3.Connection) -> bool:
    found = db.execute(
        "select count(*) from sqlite_master where type = 'table' and name = 'images'"
    ).fetchone()
    return bool(found[0])


def csv_row(upload: Upload) -> dict[str, str]:
    """One upload as a CSV row (see :data:`CSV_COLUMNS`)."""
    return {
        "time": _time(upload.time),
        "status": upload.status,
        "server": upload.server,
        "omero_user": upload.omero_user,
        "omero_group": upload.omero_group,
        "project": upload.project or "",
        "dataset": upload.dataset or "",
        "source_paths": "; ".join(str(s.path) for s in upload.sources),
        "size_bytes": str(upload.size),
        "source_sha1": "; ".join(s.sha1 for s in upload.sources),
        "converted": "yes" if upload.converted else "no",
        "uploaded_sha1": "; ".join(f.sha1 for f in upload.stored),
        "fileset_ids": "; ".join(str(i) for i in upload.fileset_ids),
        "image_ids": "; ".join(str(i) for i in upload.image_ids),
        "local_copies_removed": _time(upload.removed) if upload.removed else "",
    }


def write_csv(uploads: Sequence[Upload], out: IO[str]) -> None:
    """Write uploads as CSV, one row each, with a header."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for upload in uploads:
        writer.writerow(csv_row(upload))


# Status filters the History window and ``history`` offer, beyond the record's own status.
REMOVED, STILL_HERE = "local copy removed", "local copy still here"
STATUS_FILTERS = (UPLOADED, DUPLICATE, REMOVED, STILL_HERE)


def select(
    uploads: Sequence[Upload],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    status: str | None = None,
) -> list[Upload]:
    """Uploads on or after ``since`` and on or before ``until`` (local dates) with ``status``.

    ``status`` is a record status or one of :data:`REMOVED` and :data:`STILL_HERE`.
    """
    chosen = []
    for upload in uploads:
        day = upload.time.astimezone().date()
        if (since and day < since) or (until and day > until):
            continue
        if status in (UPLOADED, DUPLICATE) and upload.status != status:
            continue
        if (status == REMOVED and upload.removed is None) or (
            status == STILL_HERE and upload.removed is not None
        ):
            continue
        chosen.append(upload)
    return chosen
