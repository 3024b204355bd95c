"""The ``cci-uploader`` command line."""

from __future__ import annotations

import argparse
import io
import logging
import sys
from typing import TYPE_CHECKING

from cci_uploader import __version__
from cci_uploader.cli.selftest import SelfTestAction
from cci_uploader.logsetup import setup_logging

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType


def _command_modules() -> tuple[ModuleType, ...]:
    """The modules that add subcommands, each with ``register(subparsers)``."""
    from cci_uploader.cli import cleanup, convert, gui, importing, sandbox, stewardship

    return (importing, sandbox, convert, stewardship, cleanup, gui)


log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cci-uploader",
        description="Move microscopy data into the facility's OMERO server.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument(
        "--self-test",
        action=SelfTestAction,
        help="check this installation (formats, OMERO, the sandbox) and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def utf8_streams() -> None:
    """Read and write UTF-8 on the standard streams, whatever the console's code page.

    Windows gives a pipe the ANSI code page (cp1252), which cannot write an emoji
    and reads a UTF-8 file as mojibake. Standard input is ``utf-8-sig``: a token
    file saved by Notepad starts with a byte-order mark, which is not part of
    the token. Output that UTF-8 cannot encode (a Linux file name that is not
    UTF-8) is escaped rather than crashing the command.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(encoding="utf-8-sig")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for usage errors)."""
    utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    log_path = setup_logging(args.verbose)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except Exception:
        log.exception("unexpected error in %s", args.command)
        print(
            f"Something went wrong unexpectedly. Details are in the log file: {log_path}",
            file=sys.stderr,
        )
        return 1
    return code
