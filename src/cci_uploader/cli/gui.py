"""``cci-uploader gui [--sandbox]``.

The CLI's one import of the UI (listed as such in pyproject's import-linter
contracts): this module imports no Qt itself, Qt is imported only when ``gui``
runs.  With ``--sandbox`` the stand-in is started here (:mod:`.sandbox`), not
by the window, which only gets a :class:`~cci_uploader.training.Training`.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


def register(sub: Any) -> None:
    """Add the ``gui`` subcommand."""
    p = sub.add_parser("gui", help="open the upload window")
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="start the local training sandbox and connect to it (nothing leaves this computer)",
    )
    p.set_defaults(func=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    """Open the window (Qt is imported here, not when the CLI starts)."""
    started = time.perf_counter()
    try:
        from cci_uploader.ui.app import run
    except ImportError as exc:
        sys.stderr.write(
            f"The window needs the 'gui' extra ({exc.name} is missing): "
            "pip install 'cci-omero-uploader[gui]'\n"
        )
        return 1
    from cci_uploader.cli.sandbox import training
    from cci_uploader.logsetup import log_dir

    return run(training if args.sandbox else None, log_dir() / "cci-uploader.log", started)
