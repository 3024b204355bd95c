"""``cci-uploader import`` and ``cci-uploader scan``."""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cci_uploader import omero as om
from cci_uploader.config import ConfigError, load_config
from cci_uploader.logsetup import register_secret
from cci_uploader.pipeline import (
    ConnectionDown,
    EntryChanged,
    FileState,
    ImportQueue,
    SessionLost,
    Status,
)
from cci_uploader.plan import PlannedFile, plan
from cci_uploader.progress import ProgressMeter
from cci_uploader.scan import scan
from cci_uploader.stewardship.history import History

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

TOKEN_ENV = "CCI_OMERO_TOKEN"
# After a lost connection: wait, try to join the same session again, up to three times.
RECONNECT_WAITS_S = (5.0, 20.0, 60.0)
OFFLINE_NOT_NOW = (
    "not uploaded: the connection to OMERO was lost. Check the network and run the same "
    "command again; files already uploaded are recognised and not sent twice."
)
EXPIRED_NOT_NOW = "not uploaded: the session expired; run again with a new token"
PROGRESS_EVERY_S = 5.0  # the overall progress line, at most this often while sending


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="import files or folders into OMERO")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--server", help="HOST[:PORT] or tcp://HOST:PORT (default: from config)")
    p.add_argument("--group", required=True, help="OMERO group name or id")
    p.add_argument(
        "--kv",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="key-value pair for every image (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=run_import, parser=p)

    s = sub.add_parser("scan", help="show what would be uploaded, without uploading")
    s.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    s.add_argument(
        "--json", action="store_true", help="one JSON object per file, then one summary line"
    )
    s.add_argument(
        "--ignored",
        action="store_true",
        help="also list each file in the folders that is ignored, with why",
    )
    s.set_defaults(func=run_scan)


def read_token(prompt: str = "Paste your OMERO session token: ", *, use_env: bool = True) -> str:
    """The token from ``CCI_OMERO_TOKEN`` or standard input; never from an argument."""
    token = os.environ.get(TOKEN_ENV, "") if use_env else ""
    if not token and sys.stdin is not None:  # a windowed build has no standard input
        token = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    register_secret(token)
    return token


def _parse_pairs(parser: argparse.ArgumentParser, items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            parser.error(f"--kv takes KEY=VALUE, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _json_status(file: PlannedFile, state: FileState) -> str:
    if file.refused and file.scan.format == "unsupported":
        return "skipped"
    return {Status.UPLOADED: "uploaded", Status.DUPLICATE: "duplicate"}.get(state.status, "error")


def _record(file: PlannedFile, state: FileState) -> dict[str, Any]:
    return {
        "path": str(file.path),
        "status": _json_status(file, state),
        "message": state.message,
        "image_ids": list(state.image_ids),
        "project": file.project,
        "dataset": file.dataset,
    }


def _say(text: str, as_json: bool) -> None:
    print(text, file=sys.stderr if as_json else sys.stdout, flush=True)


def run_import(args: argparse.Namespace) -> int:
    pairs = _parse_pairs(args.parser, args.kv)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        args.parser.error(f"no such file or folder: {', '.join(map(str, missing))}")
    try:
        config = load_config()
    except ConfigError as exc:
        _say(f"Error: {exc}", args.json)
        return 1
    server = args.server or config.server
    token = read_token()
    try:
        conn = om.connect(server, token)
    except om.OmeroError as exc:
        _say(f"Error: {exc}", args.json)
        return 1
    try:
        try:
            conn.switch_group(int(args.group) if args.group.isdigit() else args.group)
        except om.OmeroError as exc:
            _say(f"Error: {exc}", args.json)
            return 1
        found = scan(args.paths, config)
        _say(found.summary(), args.json)
        history = None if conn.is_sandbox else History()
        if history is None:
            _say("The training sandbox: nothing is added to your upload history.", args.json)
        queue = ImportQueue(plan(found.entries, config, pairs), history=history)
        conn = _run_queue(queue, conn, args.json)
    finally:
        conn.close()
    if args.json:
        for file, state in zip(queue.files, queue.states, strict=True):
            print(json.dumps(_record(file, state)), flush=True)
    ended = (Status.UPLOADED, Status.DUPLICATE)
    return 1 if any(s.status not in ended for s in queue.states) else 0


class _Progress:
    """The overall progress line of the human output: bytes, speed and time left."""

    def __init__(self, queue: ImportQueue, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.meter = ProgressMeter(clock)
        self.meter.reset(
            {
                i: f.scan.size
                for i, (f, s) in enumerate(zip(queue.files, queue.states, strict=True))
                if s.status in (Status.PENDING, Status.QUEUED)
            }
        )
        self._said_at: float | None = None
        self._ended: set[int] = set()

    def line(self, event: EntryChanged) -> str | None:
        """Take one change; return the line to show now, if any."""
        state = event.state
        if state.status in (Status.UPLOADED, Status.DUPLICATE, Status.ERROR):
            if event.index in self._ended:
                return None  # said when it ended
            self._ended.add(event.index)
            self.meter.finish(event.index)
        elif state.status is Status.UPLOADING:
            self.meter.update(event.index, state.done_bytes, state.total_bytes)
        else:
            return None
        now = self._clock()
        ended = state.status is not Status.UPLOADING
        if not ended and self._said_at is not None and now - self._said_at < PROGRESS_EVERY_S:
            return None
        self._said_at = now
        return f"    {self.meter.describe()}"


def _run_queue(
    queue: ImportQueue,
    conn: om.Connection,
    as_json: bool,
    clock: Callable[[], float] = time.monotonic,
) -> om.Connection:
    said: dict[int, tuple[Status, str]] = {}  # each step once, not once per chunk
    progress = _Progress(queue, clock)
    while True:
        paused: SessionLost | ConnectionDown | None = None
        for event in queue.run(conn):
            if isinstance(event, EntryChanged):
                state = event.state
                if said.get(event.index) != (state.status, state.message):
                    said[event.index] = (state.status, state.message)
                    _say(
                        f"[{state.status.value:>9}] {event.file.path.name}: {state.message}",
                        as_json,
                    )
                line = progress.line(event)
                if line is not None and not as_json:  # --json: the records only
                    _say(line, as_json)
            elif isinstance(event, SessionLost | ConnectionDown):
                paused = event
                _say(event.message, as_json)
        if paused is None:
            return conn
        if isinstance(paused, ConnectionDown):
            if _reconnect(conn, as_json):
                continue
            queue.abandon(OFFLINE_NOT_NOW)
            return conn
        fresh = _rejoin(conn, as_json) if sys.stdin is not None and sys.stdin.isatty() else None
        if fresh is None:
            queue.abandon(EXPIRED_NOT_NOW)
            return conn
        conn = fresh


def _reconnect(conn: om.Connection, as_json: bool) -> bool:
    """Join the same session again after a few waits; say each try once."""
    for attempt, wait in enumerate(RECONNECT_WAITS_S, start=1):
        _say(
            f"Trying to reconnect in {wait:.0f} s ({attempt} of {len(RECONNECT_WAITS_S)})…",
            as_json,
        )
        time.sleep(wait)
        try:
            conn.reconnect()
        except om.LoginFailed as exc:  # the session ended while the server was away
            _say(f"Error: {exc}", as_json)
            return False
        except om.OmeroError as exc:
            _say(f"Still no answer: {exc}", as_json)
            continue
        _say("Reconnected: the queue continues.", as_json)
        return True
    _say(
        "Gave up reconnecting. Nothing partial was kept; run the same command again when "
        "OMERO answers (files already uploaded are not sent twice).",
        as_json,
    )
    return False


def _rejoin(old: om.Connection, as_json: bool, tries: int = 3) -> om.Connection | None:
    """Ask for a new token (up to ``tries`` times) and join its session in the same group."""
    old.close()
    for _ in range(tries):
        token = read_token("Paste a new token to continue: ", use_env=False)
        try:
            conn = om.connect(old.server, token)
            conn.switch_group(old.group_id)
        except om.OmeroError as exc:
            _say(f"Error: {exc}", as_json)
            continue
        return conn
    return None


def _describe(entry: PlannedFile) -> str:
    if not entry.ok:
        return f"{entry.path}: {entry.scan.format}: REFUSED: {entry.scan.reason}"
    record = entry.to_json()
    pixel = record["pixel_size_um"]
    size = f"{pixel[0]:.4g} x {pixel[1]:.4g} µm" if pixel else "unknown pixel size"
    companions = ", ".join(Path(c).name for c in record["companions"]) or "none"
    date_note = f" ({entry.date_note})" if entry.date_note else ""
    return (
        f"{entry.path}: {entry.scan.format} (companions: {companions})\n"
        f"    microscope {entry.microscope} ({entry.microscope_note}), "
        f"acquired {record['acquired']}{date_note}, {size}\n"
        f"    -> {entry.project} / {entry.dataset}, {record['images']} image(s)"
    )


def run_scan(args: argparse.Namespace) -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    found = scan(args.paths, config)
    for entry in plan(found.entries, config):
        print(json.dumps(entry.to_json()) if args.json else _describe(entry), flush=True)
    if args.json:
        print(json.dumps(found.summary_json()), flush=True)
        return 0
    print(found.summary(), flush=True)
    if found.ignored and not args.ignored:
        print("    (run again with --ignored to list them)", flush=True)
    if args.ignored:
        for item in found.ignored:
            print(f"    ignored: {item.path} ({item.reason})", flush=True)
    return 0
