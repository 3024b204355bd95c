"""``cci-uploader import`` and ``cci-uploader scan``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cci_uploader import omero as om
from cci_uploader.config import ConfigError, load_config
from cci_uploader.logsetup import register_secret
from cci_uploader.pipeline import (
    ConnectionDown,
    EntryChanged,
    ImportQueue,
    QueueEntry,
    SessionLost,
    Status,
)
from cci_uploader.scan import ScanEntry, scan
from cci_uploader.stewardship.history import History

TOKEN_ENV = "CCI_OMERO_TOKEN"
# After a lost connection: wait, try to join the same session again, up to three times.
RECONNECT_WAITS_S = (5.0, 20.0, 60.0)
OFFLINE_NOT_NOW = (
    "not uploaded: the connection to OMERO was lost. Check the network and run the same "
    "command again; files already uploaded are recognised and not sent twice."
)


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


def _json_status(entry: QueueEntry) -> str:
    if entry.refused and entry.scan.format == "unsupported":
        return "skipped"
    return {Status.UPLOADED: "uploaded", Status.DUPLICATE: "duplicate"}.get(entry.status, "error")


def _record(entry: QueueEntry) -> dict[str, Any]:
    return {
        "path": str(entry.scan.path),
        "status": _json_status(entry),
        "message": entry.message,
        "image_ids": list(entry.image_ids),
        "project": entry.scan.project,
        "dataset": entry.scan.dataset,
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
        queue = ImportQueue(found.entries, pairs, history=history)
        conn = _run_queue(queue, conn, args.json)
    finally:
        conn.close()
    for entry in queue.entries:
        if args.json:
            print(json.dumps(_record(entry)), flush=True)
    failed = [e for e in queue.entries if e.status not in (Status.UPLOADED, Status.DUPLICATE)]
    return 1 if failed else 0


def _run_queue(queue: ImportQueue, conn: om.Connection, as_json: bool) -> om.Connection:
    said: dict[int, tuple[Status, str]] = {}  # each step once, not once per chunk
    while True:
        paused: SessionLost | ConnectionDown | None = None
        for event in queue.run(conn):
            if isinstance(event, EntryChanged):
                entry = event.entry
                if said.get(event.index) != (entry.status, entry.message):
                    said[event.index] = (entry.status, entry.message)
                    _say(
                        f"[{entry.status.value:>9}] {entry.scan.path.name}: {entry.message}",
                        as_json,
                    )
            elif isinstance(event, SessionLost | ConnectionDown):
                paused = event
                _say(event.message, as_json)
        if paused is None:
            return conn
        if isinstance(paused, ConnectionDown):
            if _reconnect(conn, as_json):
                continue
            _give_up(queue, OFFLINE_NOT_NOW)
            return conn
        fresh = _rejoin(conn, as_json) if sys.stdin is not None and sys.stdin.isatty() else None
        if fresh is None:
            _give_up(queue, "not uploaded: the session expired; run again with a new token")
            return conn
        conn = fresh


def _give_up(queue: ImportQueue, message: str) -> None:
    for entry in queue.entries:
        if entry.status in (Status.QUEUED, Status.PENDING):
            entry.status, entry.message = Status.ERROR, message


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


def _describe(entry: ScanEntry) -> str:
    if not entry.ok:
        return f"{entry.path}: {entry.format}: REFUSED: {entry.reason}"
    record = entry.to_json()
    pixel = record["pixel_size_um"]
    size = f"{pixel[0]:.4g} x {pixel[1]:.4g} µm" if pixel else "unknown pixel size"
    companions = ", ".join(Path(c).name for c in record["companions"]) or "none"
    date_note = f" ({entry.date_note})" if entry.date_note else ""
    return (
        f"{entry.path}: {entry.format} (companions: {companions})\n"
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
    for entry in found.entries:
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
