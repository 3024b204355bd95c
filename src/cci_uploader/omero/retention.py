"""The 4-week rule on the OMERO side: the user's old images, and deleting whole filesets."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import omero
import omero.cmd
import omero.sys

from cci_uploader.omero import hql
from cci_uploader.omero._query import project
from cci_uploader.omero.errors import OmeroError
from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cci_uploader.omero.connection import Connection

FILE_DELETE_FAIL = "file-delete-fail"


class DeleteFailed(OmeroError):
    """OMERO refused or failed a delete; the message carries its reason."""


@dataclass(frozen=True)
class OldImage:
    """One of the user's images, with where it is and when it was imported."""

    image_id: int
    name: str
    fileset_id: int
    imported: dt.datetime
    group_id: int
    group_name: str
    dataset_id: int | None
    dataset: str | None
    project_id: int | None
    project: str | None
    fileset_bytes: int


@dataclass(frozen=True)
class DeleteResult:
    """What OMERO's delete command removed."""

    fileset_ids: tuple[int, ...]
    image_ids: tuple[int, ...]
    deleted: dict[str, int]
    # Set when OMERO deleted the rows but could not free the disk space.
    note: str = ""


def old_images(conn: Connection, days: int, now: dt.datetime | None = None) -> list[OldImage]:
    """The user's images, in all their groups, imported more than ``days`` days before ``now``."""
    now = now or dt.datetime.now(dt.UTC)
    before = now - dt.timedelta(days=days)
    groups = {g.id: g.name for g in conn.list_groups()}
    rows = project(
        conn,
        hql.OLD_IMAGES,
        "looking for old images",
        all_groups=True,
        owner=conn.user_id,
        groups=sorted(groups),
        before=before,
    )
    first: dict[int, list[Any]] = {}
    for row in rows:  # an image in two Datasets is listed under the first
        first.setdefault(int(row[0]), row)
    sizes = _fileset_sizes(conn, {int(r[2]) for r in first.values()})
    return [
        OldImage(
            image_id=image_id,
            name=str(name),
            fileset_id=int(fs),
            imported=dt.datetime.fromtimestamp(int(t) / 1000, dt.UTC),
            group_id=int(gid),
            group_name=groups.get(int(gid), str(gid)),
            dataset_id=None if ds_id is None else int(ds_id),
            dataset=ds,
            project_id=None if pr_id is None else int(pr_id),
            project=pr,
            fileset_bytes=sizes.get(int(fs), 0),
        )
        for image_id, (_, name, fs, t, gid, ds_id, ds, pr_id, pr) in first.items()
    ]


def _fileset_sizes(conn: Connection, fileset_ids: set[int]) -> dict[int, int]:
    if not fileset_ids:
        return {}
    rows = project(
        conn, hql.FILESET_SIZES, "adding up sizes", all_groups=True, filesets=sorted(fileset_ids)
    )
    return {int(fs): int(size or 0) for fs, size in rows}


def delete_filesets(
    conn: Connection,
    filesets: Mapping[int, Iterable[int]],
    *,
    timeout_s: float = 600.0,
    poll_s: float = 0.05,
) -> DeleteResult:
    """Delete whole filesets (group id -> fileset ids) with OMERO's delete command.

    OMERO cannot delete part of a fileset, so whole filesets go, with their
    images.  Each group's filesets are deleted in that group's context.

    Raises
    ------
    DeleteFailed
        OMERO answered with an error; nothing of that group's request was deleted.
    """
    deleted: dict[str, list[int]] = {}
    done: list[int] = []
    kept_files: list[int] = []
    for group_id, ids in sorted(filesets.items()):
        ids = sorted(set(ids))
        if not ids:
            continue
        request = omero.cmd.Delete2(targetObjects={"Fileset": ids})
        response = _run(conn, request, group_id, timeout_s, poll_s)
        if isinstance(response, omero.cmd.ERR) and response.name == FILE_DELETE_FAIL:
            # Delete2I.buildResponse: the files are removed after the database
            # transaction; this ERR comes when that failed, the rows being gone.
            done.extend(ids)
            kept_files.extend(ids)
            continue
        if isinstance(response, omero.cmd.ERR):
            detail = (response.parameters or {}).get("message") or response.name
            raise DeleteFailed(
                f"OMERO did not delete filesets {', '.join(map(str, ids))}: {detail}. "
                + (
                    f"Filesets {', '.join(map(str, done))} were deleted before this. "
                    if done
                    else ""
                )
                + "Nothing else was changed."
            )
        for model, removed in (response.deletedObjects or {}).items():
            deleted.setdefault(model.rsplit(".", 1)[-1], []).extend(int(i) for i in removed)
        done.extend(ids)
    note = ""
    if kept_files:
        note = (
            f"Filesets {', '.join(map(str, kept_files))} were deleted from OMERO, but the "
            "server could not free their disk space. Tell the facility staff."
        )
    return DeleteResult(
        tuple(done),
        tuple(sorted(deleted.get("Image", []))),
        {model: len(ids) for model, ids in sorted(deleted.items())},
        note,
    )


def _run(conn: Connection, request: Any, group_id: int, timeout_s: float, poll_s: float) -> Any:
    """Submit ``request`` in the group and wait for its response (ERR included).

    omero-py's ``client.submit`` waits with a ``CmdCallbackI``: the server
    calls back when the command has finished (omero-blitz
    ``HandleI.notifyCallbacks``), so nothing is polled.  At the time-out it
    closes the callback and the handle, and raises ``LockTimeout``.
    """
    ms = max(1, int(poll_s * 1000))
    loops = max(1, math.ceil(timeout_s / (ms / 1000)))
    with translate_errors("deleting from OMERO"):
        try:
            callback = conn.gateway.c.submit(
                request,
                loops=loops,
                ms=ms,
                failonerror=False,  # an ERR is answered, and read, below
                ctx={"omero.group": str(group_id)},
                failontimeout=True,
            )
        except omero.LockTimeout as exc:
            raise DeleteFailed(
                f"OMERO did not finish deleting within {timeout_s:.0f} s; it may "
                "still finish. Check OMERO.web before trying again."
            ) from exc
        try:
            return callback.getResponse()
        finally:
            with contextlib.suppress(Exception):  # closing a finished handle: best effort
                callback.close(True)
