"""``cci-uploader --self-test``: run the self-test, one PASS/FAIL line per step."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

from cci_uploader.logsetup import setup_logging

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)


def run(gui: bool = True) -> int:
    """Print and log each step's line; return 1 if any step failed, else 0."""
    from cci_uploader.selftest import run_self_test

    log_path = setup_logging()
    failed = 0
    # A windowed Windows build has no console (sys.stdout is None): the log has it all.
    print(f"Self-test; the log is {log_path}", flush=True)
    for result in run_self_test(gui=gui):
        failed += not result.ok
        log.info("self-test: %s", result.line())
        print(result.line(), flush=True)
    summary = f"self-test {'FAILED' if failed else 'passed'}: {failed} step(s) failed"
    log.info(summary)
    print(summary, file=sys.stderr if failed else sys.stdout, flush=True)
    return 1 if failed else 0


class SelfTestAction(argparse.Action):
    """``--self-test``: like ``--version``, it runs at once and exits, needing no command."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        """Run the self-test and exit with its status."""
        parser.exit(run())
