"""The bundle's entry point: the ``cci-uploader`` command line.

Started without arguments (a double-click on the .exe) it opens the window.

The windowed Windows exe has no standard streams (``sys.stderr`` is None), so
whatever the app writes there would vanish: here each line goes to the log
file instead, and when the program ends with an error after writing one (Qt
missing, a bad config, an unexpected error), a message box shows it with the
log file's path. The box is Windows' own (``MessageBoxW``), since Qt may be
what failed.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import sys
from collections.abc import Callable, Sequence

from cci_uploader.cli import main

TITLE = "CCI OMERO Uploader could not start"
KEPT_LINES = 20


class LogStream(io.TextIOBase):
    """A standard stream for a program that has none: lines go to the log, and are kept."""

    def __init__(self, name: str, level: int) -> None:
        self.logger = logging.getLogger(f"cci_uploader.{name}")
        self.level = level
        self.lines: list[str] = []
        self._partial = ""
        self._busy = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *done, self._partial = self._partial.split("\n")
        for line in done:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = ""

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        self.lines = [*self.lines, line][-KEPT_LINES:]
        if self._busy:  # logging's last-resort handler writes to sys.stderr: this stream
            return
        self._busy = True
        try:
            self.logger.log(self.level, "%s", line)
        finally:
            self._busy = False


def message_box(title: str, text: str) -> None:
    """Windows' own error box (no Qt needed)."""
    import ctypes

    mb_iconerror, mb_topmost = 0x10, 0x40000
    ctypes.windll.user32.MessageBoxW(None, text, title, mb_iconerror | mb_topmost)  # type: ignore[attr-defined]


def run(argv: Sequence[str], show: Callable[[str, str], None] = message_box) -> int:
    """Run the command line; without standard streams, log them and show a failure."""
    if sys.stderr is not None and sys.stdout is not None:
        return main(argv)
    out, err = LogStream("stdout", logging.INFO), LogStream("stderr", logging.WARNING)
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        logging.getLogger(__name__).exception("the program stopped")
        err.write("The program stopped because of an unexpected error.\n")
        code = 1
    out.flush()
    err.flush()
    if code != 0 and err.lines:
        from cci_uploader.logsetup import log_dir

        log_file = log_dir() / "cci-uploader.log"
        show(TITLE, "\n".join(err.lines) + f"\n\nDetails are in the log file:\n{log_file}")
    return code


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(run(sys.argv[1:] or ["gui"]))
