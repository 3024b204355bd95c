"""One file, one failure: the boundary around every per-file step.

Scanning, converting and importing one file can fail in ways no reader
foresaw (a library bug, ``RecursionError``, ``MemoryError``). Each per-file
step catches what escapes its own expected errors here: the traceback goes
to the log file and the file's row gets one plain line, so the rest of the
batch goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cci_uploader.logsetup import log_file

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
    if isinstance(exc, RecursionError):
        cause = "its contents are nested too deeply to follow; it is probably damaged"
    elif isinstance(exc, MemoryError):
        cause = "it needs more memory than this computer has; it is probably damaged"
    else:
        cause = f"an unexpected error ({type(exc).__name__}) stopped it"
    return f"{path.name} could not be {step}: {cause}. Details are in the log file: {log_file()}"
