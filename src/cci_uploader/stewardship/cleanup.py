"""The scheduled clean-up of a microscope PC's data folder.

A file is removed only when all of these hold:

- it (and every file that belongs with it) is older than the limit;
- it is in this account's upload history, or OMERO holds a file with its size
  and SHA-1 (a record another OMERO user made is not used: the clean-up's
  account checks the files' own SHA-1 instead);
- it passes the same verification as "Remove local copies";
- it, and every file that belongs with it, is a real file (not a link) inside
  the root once resolved, and none changed while it was checked;
- the server is not the training sandbox.

Everything else is kept, with the reason in the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cci_uploader import formats
from cci_uploader.formats.base import FormatError
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.provenance import filesets_with_content
from cci_uploader.stewardship.origin import same_server, sandbox_problem
from cci_uploader.stewardship.removal import (
    Action,
    Outcome,
    Verdict,
    apply,
    held_still,
    verify_upload,
)
from cci_uploader.stewardship.root import app_paths, inside, is_link, walk
from cci_uploader.stewardship.stability import snapshot

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from cci_uploader.omero.connection import Connection
    from cci_uploader.stewardship.history import History, Upload

LINK = "a link: the clean-up never follows or removes links (its target is judged where it is)"
TOGETHER = "files that belong together go together or not at all"


@dataclass(frozen=True)
class Settings:
    """How a clean-up run behaves."""

    root: Path
    older_than_days: int
    dry_run: bool
    mode: str  # "recycle" or "delete"


@dataclass(frozen=True)
class Recent:
    """How many files under the root were too recent to look at."""

    count: int


@dataclass
class Summary:
    """Counts of one run, for the report's last line."""

    removed: int = 0
    kept: int = 0
    young: int = 0


def _mtime(path: Path) -> float:
    """Modification time (of a link itself); a file that vanished meanwhile counts as new."""
    try:
        return path.lstat().st_mtime
    except OSError:
        return float("inf")


def _latest_uploads(history: History) -> dict[Path, Upload]:
    """Source path -> the newest upload of it whose local copy was not removed yet."""
    latest: dict[Path, Upload] = {}
    for upload in history.uploads():
        if upload.removed is None:
            for source in upload.sources:
                latest[source.path.resolve()] = upload
    return latest


def _group_of(path: Path) -> tuple[Path, ...]:
    """The file with its companions, as the format module names them."""
    module = formats.detect(path)
    if module is None:
        return (path,)
    try:
        return (path, *module.read_metadata(path).companions)
    except (FormatError, OSError):
        return (path,)


def _on_server(conn: Connection, group: Sequence[Path], recorded_by: str | None) -> Verdict:
    for path in group:
        if not path.is_file():
            return Verdict(tuple(group), False, f"{path.name}, which belongs with it, is missing")
        size = path.stat().st_size  # before the hash: a change meanwhile shows as a change
        if not filesets_with_content(conn, file_sha1(path), size):
            where = (
                "is not in the upload history"
                if recorded_by is None
                else f"was uploaded by {recorded_by} (a record only that user checks)"
            )
            return Verdict(
                tuple(group), False, f"{path.name} {where}, and OMERO holds no file with its SHA-1"
            )
    return Verdict(tuple(group), True, "verified: OMERO holds a file with the same SHA-1")


def _strays(group: Sequence[Path], root: Path) -> list[Path]:
    """Members of a group that are links or lie outside the root once resolved."""
    return [p for p in group if is_link(p) or not inside(p, root)]


def plan(
    conn: Connection, history: History, settings: Settings, now: dt.datetime
) -> Iterator[Verdict | Recent]:
    """Yield a verdict per group of old files, and last how many files were too recent."""
    cutoff = (now - dt.timedelta(days=settings.older_than_days)).timestamp()
    root = settings.root
    files = list(walk(root, app_paths(history.path)))
    old = {p for p in files if _mtime(p) < cutoff}
    latest = _latest_uploads(history)
    handled: set[Path] = set()
    sandbox = sandbox_problem(conn)
    for path in files:
        if path in handled or path not in old:
            continue
        if is_link(path) or not inside(path, root):
            handled.add(path)
            yield Verdict((path,), False, LINK, root=root)
            continue
        resolved = path.resolve()
        if resolved in handled:
            continue
        upload = latest.get(resolved)
        recorded_by = None
        if upload is not None and _someone_elses(conn, upload):
            # Not this account's record: the files are judged by their own SHA-1 instead.
            recorded_by, upload = upload.omero_user, None
        if upload is not None:
            group = tuple(s.path for s in upload.sources)
        else:
            group = _group_of(path)
            owner = formats.companion_owner(path)
            if (
                owner is not None
                and formats.detect(path) is None
                and _main_of(path, owner) is not None
            ):
                continue  # goes with its main file, or stays with it
        handled.update(group)
        handled.update(p.resolve() for p in group)
        verdict = _verdict(conn, group, upload, old, root, sandbox, recorded_by)
        yield dataclasses.replace(verdict, root=root)
    yield Recent(len(files) - len(old))


def _verdict(
    conn: Connection,
    group: tuple[Path, ...],
    upload: Upload | None,
    old: set[Path],
    root: Path,
    sandbox: str | None,
    recorded_by: str | None,
) -> Verdict:
    upload_id = upload.id if upload else None
    if sandbox is not None:
        return Verdict(group, False, sandbox, upload_id)
    strays = _strays(group, root)
    if strays:
        names = ", ".join(p.name for p in strays)
        reason = f"{names}, which belongs with it, is a link or outside {root}; {TOGETHER}"
        return Verdict(group, False, reason, upload_id)
    younger = [p for p in group if p.exists() and p not in old and p.resolve() not in old]
    if younger:
        reason = f"{', '.join(p.name for p in younger)}, which belongs with it, is too recent"
        return Verdict(group, False, reason, upload_id)
    if upload is not None:
        return verify_upload(conn, upload)
    if formats.detect(group[0]) is None:
        return Verdict(
            group,
            False,
            "not in the upload history, and not a microscopy file that OMERO could hold",
        )
    return held_still(snapshot(group), _on_server(conn, group, recorded_by))


def _someone_elses(conn: Connection, upload: Upload) -> bool:
    """A record made on this server by another OMERO user than the clean-up's account."""
    return same_server(upload.server, conn.server) and upload.user_id != conn.user_id


def _main_of(companion: Path, owner: formats.FormatDescriptor) -> Path | None:
    main = owner.companions.main_of(companion) if owner.companions is not None else None
    return main if main is not None and main.exists() else None


def run(
    conn: Connection,
    history: History,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Iterator[Outcome | Summary]:
    """Clean up ``settings.root``, yielding an outcome per group and a summary last."""
    now = now or dt.datetime.now(dt.UTC)
    summary = Summary()
    for item in plan(conn, history, settings, now):
        if isinstance(item, Recent):
            summary.young = item.count
            continue
        outcome = apply(item, dry_run=settings.dry_run, mode=settings.mode)
        if outcome.action is Action.REMOVED and outcome.upload_id is not None:
            history.mark_removed([outcome.upload_id], now)
        if outcome.action is Action.KEPT:
            summary.kept += 1
        else:
            summary.removed += 1
        yield outcome
    yield summary


def _report_path(folder: Path, started: dt.datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = started.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = folder / f"cleanup-{stamp}.txt"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"cleanup-{stamp}-{n}.txt"
    return path


def write_report(
    folder: Path,
    settings: Settings,
    server: str,
    outcomes: Sequence[Outcome],
    summary: Summary,
    started: dt.datetime,
    stopped: str | None = None,
) -> Path:
    """Write what was removed and what was kept (and why) to a new file in ``folder``.

    ``stopped`` is why the run ended early, if it did; the lists are what it did till then.
    """
    path = _report_path(folder, started)
    removed = [o for o in outcomes if o.action is not Action.KEPT]
    kept = [o for o in outcomes if o.action is Action.KEPT]
    heading = "Would remove" if settings.dry_run else "Removed"
    where = "recycle bin" if settings.mode == "recycle" else "deleted for good"
    lines = [
        "CCI OMERO Uploader: clean-up report",
        f"started: {started.astimezone(dt.UTC).isoformat(timespec='seconds')}",
        f"root: {settings.root}",
        f"older than: {settings.older_than_days} days",
        f"mode: {'dry run, nothing was removed' if settings.dry_run else where}",
        f"server: {server}",
        "",
        f"{heading} ({sum(len(o.paths) for o in removed)} files):",
        *(f"  {p}\t{o.reason}" for o in removed for p in o.paths),
        "",
        f"Kept ({sum(len(o.paths) for o in kept)} files):",
        *(f"  {p}\t{o.reason}" for o in kept for p in o.paths),
        "",
        f"Not looked at: {summary.young} files younger than {settings.older_than_days} days.",
    ]
    if stopped is not None:
        lines.append(f"error: stopped early, the rest was not looked at: {stopped}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_failure_report(
    folder: Path, settings: Settings, server: str, message: str, started: dt.datetime
) -> Path:
    """Write a report of a run that stopped before looking at any file."""
    path = _report_path(folder, started)
    lines = [
        "CCI OMERO Uploader: clean-up report",
        f"started: {started.astimezone(dt.UTC).isoformat(timespec='seconds')}",
        f"root: {settings.root}",
        f"server: {server}",
        f"error: {message}",
        "Nothing was removed.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
