"""One file, one failure: the boundary around every per-file step.

Scanning, converting and importing one file can fail in ways no reader
foresaw (a library bug, ``RecursionError``, ``MemoryError``). Each per-file
step catches what escapes its own expected errors here: the traceback goes
to the log file and the file's row gets one plain line, so the rest of the
batch goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cci_uploader.logsetup import log_file

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)


def unexpected(path: Path, step: str, exc: BaseException) -> str:
    """Log ``exc`` with its traceback and return the one-line reason for ``path``'s row.

    Parameters
    ----------
    path : Path
        The file whose step failed.
    step : str
        What was being done, as a verb phrase: ``"read"``, ``"converted"``.
    exc : BaseException
        What escaped the step.
    """
    log.error("%s could not be %s", path, step, exc_info=exc)
    # The cause leads: the row and the detail line show the start of the message.
    if isinstance(exc, RecursionError):
        cause = "Its contents are nested too deeply to follow (probably damaged)"
    elif isinstance(exc, MemoryError):
        cause = "It needs more memory than this computer has (probably damaged)"
    else:
        cause = f"An unexpected error ({type(exc).__name__})"
    return f"{cause}: {path.name} could not be {step}. Details are in the log file: {log_file()}"
