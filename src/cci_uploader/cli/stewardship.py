"""``history``, ``retention`` and ``remove-local``: the facility's storage rules."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

from cci_uploader import omero as om
from cci_uploader.cli.importing import read_token
from cci_uploader.config import Config, ConfigError, load_config
from cci_uploader.omero.retention import OldImage, delete_filesets, old_images
from cci_uploader.progress import human_bytes
from cci_uploader.stewardship.history import (
    DUPLICATE,
    UPLOADED,
    History,
    HistoryError,
    write_csv,
)
from cci_uploader.stewardship.reminder import (
    describe_deletion,
    filesets_by_group,
    group_images,
    total_size,
)
from cci_uploader.stewardship.removal import Action, Outcome, remove_local_copies

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CONFIRM_WORD = "delete"


def days(text: str) -> int:
    """Parse ``28d`` or ``28`` as a number of days (at least 1)."""
    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of days such as 28d, got {text!r}")
    return int(value)


def _date(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def register(sub: Any) -> None:
    h = sub.add_parser("history", help="list the uploads recorded on this computer")
    h.add_argument("--csv", action="store_true", help="write CSV to standard output")
    h.add_argument("--since", type=_date, metavar="DATE", help="only uploads from DATE on")
    h.add_argument("--status", choices=(UPLOADED, DUPLICATE), help="only uploads with this status")
    h.set_defaults(func=run_history)

    r = sub.add_parser("retention", help="your images on OMERO older than the 4-week limit")
    rsub = r.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (
        ("list", "list them, grouped by Project and Dataset"),
        ("delete", "delete their whole filesets from OMERO, after confirmation"),
    ):
        p = rsub.add_parser(name, help=helptext)
        p.add_argument("--server", help="HOST[:PORT] or tcp://HOST:PORT (default: from config)")
        p.add_argument(
            "--older-than",
            type=days,
            metavar="DAYS",
            help="age limit such as 28d (default: the facility config, 28 days)",
        )
        if name == "list":
            p.add_argument("--json", action="store_true", help="one JSON object per image")
            p.set_defaults(func=run_retention_list)
        else:
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            p.set_defaults(func=run_retention_delete)

    rm = sub.add_parser(
        "remove-local", help="remove local copies of uploads that OMERO verifiably holds"
    )
    rm.add_argument("--server", help="HOST[:PORT] or tcp://HOST:PORT (default: from config)")
    rm.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    rm.set_defaults(func=run_remove_local)


def _config() -> Config | None:
    try:
        return load_config()
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return None


def _connected(
    args: argparse.Namespace, config: Config, work: Callable[[om.Connection], int]
) -> int:
    token = read_token()
    try:
        conn = om.connect(args.server or config.server, token)
    except om.OmeroError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    try:
        return work(conn)
    except (om.OmeroError, HistoryError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()


def run_history(args: argparse.Namespace) -> int:
    try:
        uploads = History().uploads(since=args.since, status=args.status)
    except HistoryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        write_csv(uploads, sys.stdout)
        return 0
    if not uploads:
        print("No uploads recorded yet.")
    for u in uploads:
        removed = f", local copy removed {u.removed:%Y-%m-%d}" if u.removed else ""
        print(
            f"{u.time.astimezone():%Y-%m-%d %H:%M}  {u.status:<9}  {u.main}"
            f"{' (converted)' if u.converted else ''}\n"
            f"    {u.omero_user}@{u.server}, group {u.omero_group}: {u.project} / {u.dataset}, "
            f"images {', '.join(map(str, u.image_ids))}, "
            f"fileset {', '.join(map(str, u.fileset_ids))}, {human_bytes(u.size)}{removed}"
        )
    return 0


def _print_groups(images: list[OldImage], limit: int) -> None:
    if not images:
        print(f"None of your images on OMERO is older than {limit} days.")
        return
    print(
        f"{len(images)} of your images on OMERO are older than {limit} days "
        f"({human_bytes(total_size(images))}):"
    )
    for group in group_images(images):
        print(
            f"  {group.group} / {group.project} / {group.dataset}: {group.count} image(s), "
            f"{human_bytes(group.size)}, imported {group.oldest:%Y-%m-%d} or later"
        )


def run_retention_list(args: argparse.Namespace) -> int:
    config = _config()
    if config is None:
        return 1
    limit = args.older_than or config.retention_days

    def work(conn: om.Connection) -> int:
        images = old_images(conn, limit)
        if args.json:
            for i in images:
                record = {k: v for k, v in vars(i).items() if k != "imported"}
                print(json.dumps({**record, "imported": i.imported.isoformat()}))
        else:
            _print_groups(images, limit)
        return 0

    return _connected(args, config, work)


def _confirmed(prompt: str) -> bool:
    print(prompt, end="", flush=True)
    answer = input() if sys.stdin.isatty() else sys.stdin.readline()
    return answer.strip().lower() == CONFIRM_WORD


def run_retention_delete(args: argparse.Namespace) -> int:
    config = _config()
    if config is None:
        return 1
    limit = args.older_than or config.retention_days

    def work(conn: om.Connection) -> int:
        images = old_images(conn, limit)
        if not images:
            print(f"None of your images on OMERO is older than {limit} days; nothing to delete.")
            return 0
        print(describe_deletion(images))
        if not args.yes and not _confirmed(f"Type {CONFIRM_WORD!r} to delete them: "):
            print("Nothing was deleted.")
            return 1
        result = delete_filesets(conn, filesets_by_group(images))
        counts = ", ".join(f"{n} {model}" for model, n in result.deleted.items())
        print(
            f"Deleted {len(result.fileset_ids)} fileset(s) with {len(result.image_ids)} "
            f"image(s) from OMERO ({counts})."
        )
        if result.note:
            print(result.note)
        return 0

    return _connected(args, config, work)


def _print_outcome(outcome: Outcome) -> None:
    names = ", ".join(str(p) for p in outcome.paths)
    print(f"[{outcome.action.value:>12}] {names}: {outcome.reason}", flush=True)


def run_remove_local(args: argparse.Namespace) -> int:
    config = _config()
    if config is None:
        return 1
    history = History()

    def work(conn: om.Connection) -> int:
        outcomes = list(
            _each(
                remove_local_copies(
                    conn, history, history.uploads(), mode=config.delete_mode, dry_run=args.dry_run
                )
            )
        )
        kept = sum(o.action is Action.KEPT for o in outcomes)
        print(f"{len(outcomes) - kept} removed or removable, {kept} kept.")
        return 0

    return _connected(args, config, work)


def _each(outcomes: Iterator[Outcome]) -> Iterator[Outcome]:
    for outcome in outcomes:
        _print_outcome(outcome)
        yield outcome
