"""What the server stores for an upload: filesets of images, stored files and checksums.

These calls work across all of the user's groups (``omero.group = -1``), so
that an upload can be checked whichever group it went to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cci_uploader.omero import hql
from cci_uploader.omero._query import begin_project, project
from cci_uploader.omero.connection import Connection
from cci_uploader.omero.transfer import HASHER

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cci_uploader.omero.connection import Connection


@dataclass(frozen=True)
class StoredFile:
    """One original file of a fileset, as the server stores it."""

    name: str
    size: int
    sha1: str | None
    hasher: str | None


def fileset_ids(conn: Connection, image_ids: Iterable[int]) -> dict[int, int]:
    """Map each image id to the id of its fileset (images without one are left out)."""
    ids = sorted(set(image_ids))
    if not ids:
        return {}
    rows = project(conn, hql.FILESETS_OF_IMAGES, "looking up filesets", all_groups=True, ids=ids)
    return {int(image): int(fileset) for image, fileset in rows}


def begin_fileset_ids(conn: Connection, image_ids: Iterable[int]) -> Callable[[], dict[int, int]]:
    """Ask for :func:`fileset_ids` of images in the working group now; the answer later.

    For the record of an upload: the question travels beside the images'
    annotation instead of costing a round trip of its own.
    """
    ids = sorted(set(image_ids))
    if not ids:
        return dict
    rows = begin_project(conn, hql.FILESETS_OF_IMAGES, "looking up filesets", ids=ids)
    return lambda: {int(image): int(fileset) for image, fileset in rows()}


def stored_files(conn: Connection, fileset_id: int) -> list[StoredFile]:
    """The files the server holds for a fileset; empty when it or its images are gone."""
    rows = project(
        conn, hql.FILESET_FILES, "reading stored checksums", all_groups=True, fileset=fileset_id
    )
    return [
        StoredFile(str(name), int(size or 0), sha1, hasher) for name, size, sha1, hasher in rows
    ]


def filesets_with_content(conn: Connection, sha1: str, size: int) -> list[int]:
    """Filesets in any of the user's groups that hold a file of this size and SHA-1."""
    rows = project(
        conn,
        hql.FILESETS_BY_CONTENT,
        "looking files up by checksum",
        all_groups=True,
        size=size,
        hash=sha1,
        hasher=HASHER,
        groups=[g.id for g in conn.list_groups()],
    )
    return sorted(int(row[0]) for row in rows)
