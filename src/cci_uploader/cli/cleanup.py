"""``cleanup``: the scheduled clean-up of a microscope PC's data folder.

It needs no token: it logs in to ``[omero] server`` as the ``[cleanup] account``
of the facility config, with the password that ``cleanup --set-password`` keeps
in the credential store of the Windows account the task runs as.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cci_uploader import omero as om
from cci_uploader.cli.stewardship import _config, _print_outcome, days
from cci_uploader.config import DELETE_MODES, Config
from cci_uploader.logsetup import log_dir
from cci_uploader.omero.password_login import login
from cci_uploader.stewardship import cleanup
from cci_uploader.stewardship.credentials import (
    CredentialError,
    store_password,
    stored_password,
    where,
)
from cci_uploader.stewardship.history import History, HistoryError
from cci_uploader.stewardship.root import RootRefused, check_root

if TYPE_CHECKING:
    from cci_uploader.stewardship.removal import Outcome

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    c = sub.add_parser(
        "cleanup",
        help="scheduled clean-up of old, verified files on this PC",
        description="Logs in to [omero] server as the [cleanup] account of the facility "
        "config, with the password stored by --set-password; no token is needed.",
    )
    c.add_argument("--root", type=Path, metavar="PATH", help="folder to clean up")
    c.add_argument(
        "--older-than",
        type=days,
        metavar="DAYS",
        help="age limit such as 30d (default: [cleanup] older_than_days, 30)",
    )
    c.add_argument(
        "--dry-run",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only report (default: [cleanup] dry_run in the facility config, true if unset)",
    )
    c.add_argument("--history", type=Path, metavar="FILE", help="upload history database")
    c.add_argument(
        "--set-password",
        action="store_true",
        help="store the [cleanup] account's OMERO password in this Windows account's "
        "credential store (asked for, or read from standard input), then exit",
    )
    c.set_defaults(func=run_cleanup, parser=c)


def run_cleanup(args: argparse.Namespace) -> int:
    config = _config()
    if config is None:
        return 1
    if args.set_password:
        return set_password(config)
    if args.root is None:
        args.parser.error("--root is required (or --set-password)")
    try:
        root = check_root(args.root)
    except RootRefused as exc:
        args.parser.error(str(exc))
    assert config.delete_mode in DELETE_MODES
    settings = cleanup.Settings(
        root=root,
        older_than_days=args.older_than or config.cleanup_older_than_days,
        dry_run=config.cleanup_dry_run if args.dry_run is None else args.dry_run,
        mode=config.delete_mode,
    )
    history = History(args.history) if args.history else History()
    started = dt.datetime.now(dt.UTC)
    try:
        conn = _cleanup_login(config)
    except _NoLogin as exc:
        return _cleanup_failed(settings, config.server, str(exc), started)
    outcomes: list[Outcome] = []
    summary = cleanup.Summary()
    stopped = None
    try:
        for item in cleanup.run(conn, history, settings, started):
            if isinstance(item, cleanup.Summary):
                summary = item
            else:
                _print_outcome(item)
                outcomes.append(item)
    except (om.OmeroError, HistoryError) as exc:
        log.error("clean-up stopped early: %s", exc)
        stopped = str(exc)
    finally:
        conn.close()
    report = cleanup.write_report(
        log_dir(), settings, conn.server, outcomes, summary, started, stopped
    )
    if stopped is not None:
        print(
            f"Error: {stopped} The clean-up stopped; the report lists what it did: {report}",
            file=sys.stderr,
        )
        return 1
    verb = "would remove" if settings.dry_run else "removed"
    print(
        f"Clean-up {'(dry run) ' if settings.dry_run else ''}{verb} {summary.removed} "
        f"group(s) of files, kept {summary.kept}. Report: {report}"
    )
    return 0


class _NoLogin(Exception):
    """The clean-up could not log in; the message is the report's one line."""


def _cleanup_login(config: Config) -> om.Connection:
    account = config.cleanup_account
    if account is None:
        raise _NoLogin(
            "No clean-up account is set: add [cleanup] account to the facility config, then "
            "store its password with: cci-uploader cleanup --set-password"
        )
    try:
        password = stored_password(account, config.server)
    except CredentialError as exc:
        raise _NoLogin(str(exc)) from exc
    if password is None:
        raise _NoLogin(
            f"No password is stored for the clean-up account {account!r} on {config.server} "
            "under this Windows account: run cci-uploader cleanup --set-password as it."
        )
    try:
        return login(config.server, account, password)
    except om.LoginFailed as exc:
        raise _NoLogin(f"{exc} Set it again with: cci-uploader cleanup --set-password") from exc
    except om.OmeroError as exc:
        raise _NoLogin(str(exc)) from exc


def _cleanup_failed(
    settings: cleanup.Settings, server: str, message: str, started: dt.datetime
) -> int:
    """One line in the report, the log and on screen; nothing was removed."""
    log.error("clean-up stopped, nothing removed: %s", message)
    report = cleanup.write_failure_report(log_dir(), settings, server, message, started)
    print(f"Error: {message} Nothing was removed. Report: {report}", file=sys.stderr)
    return 1


def _read_password() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("OMERO password of the clean-up account: ")
        if getpass.getpass("The same again: ") != first:
            raise ValueError("The two passwords differ; nothing was stored.")
        return first
    return sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""


def set_password(config: Config) -> int:
    """Check the [cleanup] account's password on the server, then store it."""
    account = config.cleanup_account
    if account is None:
        print("Error: add [cleanup] account to the facility config first.", file=sys.stderr)
        return 1
    try:
        password = _read_password()
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if not password:
        print("Error: no password was given; nothing was stored.", file=sys.stderr)
        return 1
    try:
        login(config.server, account, password).close()
    except om.OmeroError as exc:
        print(f"Error: {exc} Nothing was stored.", file=sys.stderr)
        return 1
    try:
        store_password(account, config.server, password)
    except CredentialError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(
        f"OMERO accepted the password of {account!r} on {config.server}; it is stored in "
        f"this account's credential store ({where()})."
    )
    return 0
