"""What the server stores for an upload: filesets of images, stored files and checksums.

These calls work across all of the user's groups (``omero.group = -1``), so
that an upload can be checked whichever group it went to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import omero
import omero.sys
from omero.rtypes import rlist, rlong, rstring

from cci_uploader.omero import hql
from cci_uploader.omero.connection import Connection, translate_errors

HASHER = "SHA1-160"


@dataclass(frozen=True)
class StoredFile:
    """One original file of a fileset, as the server stores it."""

    name: str
    size: int
    sha1: str | None
    hasher: str | None


def all_groups(conn: Connection) -> Any:
    """Call context that reads across every group the user belongs to."""
    opts = conn.gateway.SERVICE_OPTS.copy()
    opts.setOmeroGroup(-1)
    return opts


def projection(conn: Connection, query: str, params: Any, action: str) -> list[Any]:
    """Run one of :mod:`.hql`'s projections across all groups; rows of plain values."""
    with translate_errors(action):
        rows = conn.gateway.getQueryService().projection(query, params, all_groups(conn))
    return [[None if cell is None else cell.getValue() for cell in row] for row in rows]


def id_list(ids: Iterable[int]) -> Any:
    """An HQL list parameter of ids."""
    return rlist([rlong(i) for i in ids])


def fileset_ids(conn: Connection, image_ids: Iterable[int]) -> dict[int, int]:
    """Map each image id to the id of its fileset (images without one are left out)."""
    ids = sorted(set(image_ids))
    if not ids:
        return {}
    params = omero.sys.ParametersI()
    params.add("ids", id_list(ids))
    rows = projection(conn, hql.FILESETS_OF_IMAGES, params, "looking up filesets")
    return {int(image): int(fileset) for image, fileset in rows}


def stored_files(conn: Connection, fileset_id: int) -> list[StoredFile]:
    """The files the server holds for a fileset; empty when it or its images are gone."""
    params = omero.sys.ParametersI()
    params.add("fileset", rlong(fileset_id))
    rows = projection(conn, hql.FILESET_FILES, params, "reading stored checksums")
    return [
        StoredFile(str(name), int(size or 0), sha1, hasher) for name, size, sha1, hasher in rows
    ]


def filesets_with_content(conn: Connection, sha1: str, size: int) -> list[int]:
    """Filesets in any of the user's groups that hold a file of this size and SHA-1."""
    params = omero.sys.ParametersI()
    params.add("size", rlong(size))
    params.add("hash", rstring(sha1))
    params.add("hasher", rstring(HASHER))
    params.add("groups", id_list(g.id for g in conn.list_groups()))
    rows = projection(conn, hql.FILESETS_BY_CONTENT, params, "looking files up by checksum")
    return sorted(int(row[0]) for row in rows)
