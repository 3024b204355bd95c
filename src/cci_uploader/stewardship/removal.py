"""Verified removal of local copies: nothing goes unless OMERO holds the same bytes.

For each upload in the history:

1. every source file (the main file and its companions) is hashed again;
2. OMERO is asked for the SHA-1 it stores for the upload's fileset(s);
3. the sources are removed, together, only when both match.

For a converted upload the server's fileset holds an OME-TIFF, not the
source: the source must still hash as it did when it was converted, the
server's OME-TIFF must hash as the one the app wrote and uploaded, and
(:func:`originals_verdict`) the server must hold each source's own bytes,
attached to the upload's images, with the same SHA-1: the OME-TIFF keeps the
images only, so without the originals the spectra and vendor metadata would
be lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import send2trash

from cci_uploader.hashing import file_sha1
from cci_uploader.omero.client_paths import stored_name
from cci_uploader.omero.originals import attached_originals
from cci_uploader.omero.provenance import stored_files
from cci_uploader.omero.transfer import HASHER
from cci_uploader.stewardship.origin import origin_problem
from cci_uploader.stewardship.root import inside, is_link
from cci_uploader.stewardship.stability import Snapshot, changed_since, snapshot

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable
    from pathlib import Path

    from cci_uploader.omero.connection import Connection
    from cci_uploader.stewardship.history import History, Upload

log = logging.getLogger(__name__)


class Action(StrEnum):
    """What happened, or would happen, to a group of local files."""

    REMOVED = "removed"
    WOULD_REMOVE = "would remove"
    KEPT = "kept"


@dataclass(frozen=True)
class Verdict:
    """Whether an upload's local sources may go, and why.

    ``snapshot`` holds each path's size and time when it was verified and
    ``root`` the clean-up folder; both are checked again right before removal.
    """

    paths: tuple[Path, ...]
    verified: bool
    reason: str
    upload_id: int | None = None
    snapshot: Snapshot = ()
    root: Path | None = None


@dataclass(frozen=True)
class Outcome:
    """What was done with a group of local files (a main file and its companions)."""

    paths: tuple[Path, ...]
    action: Action
    reason: str
    upload_id: int | None = None


def _names(paths: Iterable[Path]) -> str:
    return ", ".join(p.name for p in paths)


def check_upload(conn: Connection, upload: Upload) -> Verdict:
    """Decide whether ``upload``'s local sources match a verified copy on OMERO."""
    paths = tuple(s.path for s in upload.sources)
    local = _local_sha1s(upload)
    problem = local if isinstance(local, str) else _server_problem(conn, upload, local)
    if problem is not None:
        return Verdict(paths, False, problem, upload.id)
    how = "the converted OME-TIFF and each original" if upload.converted else "the file"
    filesets = ", ".join(map(str, upload.fileset_ids))
    reason = f"verified: OMERO holds {how} with the same SHA-1 (fileset {filesets})"
    return Verdict(paths, True, reason, upload.id)


def _local_sha1s(upload: Upload) -> dict[str, str] | str:
    """The name OMERO stores for each local source -> its SHA-1 now, or why it must stay."""
    paths = tuple(s.path for s in upload.sources)
    missing = [p for p in paths if not p.is_file()]
    if missing:
        if len(missing) == len(paths):
            return "no longer on this computer"
        return f"{_names(missing)} is missing, so the files that belong with it are kept"
    local: dict[str, str] = {}
    for source in upload.sources:
        local[stored_name(source.path)] = file_sha1(source.path)
        if local[stored_name(source.path)] != source.sha1:
            return f"{source.path.name} changed after it was uploaded (its SHA-1 differs)"
    return local


def _server_problem(conn: Connection, upload: Upload, local: dict[str, str]) -> str | None:
    """Why OMERO's copy does not prove ``upload`` (``local``: name -> SHA-1 now), or None."""
    if not upload.stored:
        return "the history records no fileset on OMERO for it"
    for fileset in upload.fileset_ids:
        on_server = stored_files(conn, fileset)
        if not on_server:
            return f"its images are no longer on OMERO (fileset {fileset} was deleted)"
        by_name = {f.name: f for f in on_server if f.hasher == HASHER}
        for recorded in (f for f in upload.stored if f.fileset_id == fileset):
            server = by_name.get(recorded.name)
            # Not converted: the server must hold exactly the bytes on disk now.
            expected = recorded.sha1 if upload.converted else local.get(recorded.name)
            if server is None or server.sha1 != expected or server.size != recorded.size:
                return (
                    f"OMERO's copy of {recorded.name} (fileset {fileset}) does not match "
                    "what was uploaded"
                )
    return originals_verdict(conn, upload, local) if upload.converted else None


def originals_verdict(conn: Connection, upload: Upload, local: dict[str, str]) -> str | None:
    """Say why a converted upload's sources must stay, or ``None`` when OMERO holds each.

    Each source must be attached, as an original file, to one of the upload's
    images (still on the server), with the SHA-1 the server computed equal to
    the file's SHA-1 now (``local``: name to SHA-1) and the same size.
    """
    attached = attached_originals(conn, upload.image_ids)
    for source in upload.sources:
        name, size = source.path.name, source.path.stat().st_size
        match = any(
            o.name == name and o.size == size and o.hasher == HASHER and o.sha1 == local[name]
            for o in attached
        )
        if not match:
            return (
                f"OMERO holds only the converted OME-TIFF, not the original {name}, "
                "so it is kept; import it again to attach the original"
            )
    return None


def verify_upload(conn: Connection, upload: Upload) -> Verdict:
    """:func:`check_upload`, on the server the record was made on, of files that held still."""
    paths = tuple(s.path for s in upload.sources)
    problem = origin_problem(conn, upload)
    if problem is not None:
        return Verdict(paths, False, problem, upload.id)
    return held_still(snapshot(paths), check_upload(conn, upload))


def held_still(before: Snapshot, verdict: Verdict) -> Verdict:
    """``verdict``, kept if any file changed size or time while it was checked."""
    if not verdict.verified:
        return verdict
    moved = changed_since(before)
    if moved:
        return Verdict(
            verdict.paths,
            False,
            f"{_names(moved)} changed while it was being checked, so it is kept",
            verdict.upload_id,
        )
    return dataclasses.replace(verdict, snapshot=before)


def _last_look(verdict: Verdict) -> str | None:
    """Why a verified group may not go after all, looked at right before removing it."""
    if verdict.root is not None:
        for path in verdict.paths:
            if is_link(path) or not inside(path, verdict.root):
                return f"{path.name} is a link or is outside {verdict.root}, so it is kept"
    moved = changed_since(verdict.snapshot)
    if moved:
        return f"{_names(moved)} changed after it was checked, so it is kept"
    return None


def remove_files(paths: Iterable[Path], mode: str) -> None:
    """Send files to the recycle bin (``mode="recycle"``) or delete them (``"delete"``)."""
    for path in paths:
        if mode == "delete":
            path.unlink()
        else:
            send2trash.send2trash(path)


def apply(verdict: Verdict, *, dry_run: bool, mode: str) -> Outcome:
    """Remove a verified group of files (or say it would); keep anything else."""
    if not verdict.verified:
        return Outcome(verdict.paths, Action.KEPT, verdict.reason, verdict.upload_id)
    if not verdict.snapshot:
        return Outcome(
            verdict.paths,
            Action.KEPT,
            "it was not checked for changes, so it is kept",
            verdict.upload_id,
        )
    last = _last_look(verdict)
    if last is not None:
        return Outcome(verdict.paths, Action.KEPT, last, verdict.upload_id)
    if dry_run:
        return Outcome(verdict.paths, Action.WOULD_REMOVE, verdict.reason, verdict.upload_id)
    try:
        remove_files(verdict.paths, mode)
    except OSError as exc:
        log.exception("removing %s failed", _names(verdict.paths))
        left = [p for p in verdict.paths if p.exists()]
        return Outcome(
            verdict.paths,
            Action.KEPT,
            f"could not be removed ({exc}); still here: {_names(left) or 'none'}",
            verdict.upload_id,
        )
    return Outcome(verdict.paths, Action.REMOVED, verdict.reason, verdict.upload_id)


def remove_local_copies(
    conn: Connection,
    history: History,
    uploads: Iterable[Upload],
    *,
    mode: str = "recycle",
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> Generator[Outcome, None, None]:
    """Check each upload and remove its verified local sources, yielding an outcome each.

    Closing the generator between yields stops before the next upload.
    """
    for upload in uploads:
        if upload.removed is not None:
            continue
        outcome = apply(verify_upload(conn, upload), dry_run=dry_run, mode=mode)
        if outcome.action is Action.REMOVED and upload.id is not None:
            history.mark_removed([upload.id], now or dt.datetime.now(dt.UTC))
        yield outcome
