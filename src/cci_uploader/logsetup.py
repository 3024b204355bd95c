"""The app's log file: rotating, in the user's log folder, with secrets redacted."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from cci_uploader.config import APP

_secrets: set[str] = set()
REDACTED = "[redacted]"


def register_secret(secret: str) -> None:
    """Register a value (a session token) that must never reach a log."""
    if secret:
        _secrets.add(secret)


class RedactSecrets(logging.Filter):
    """Replace registered secrets in every record before it is written.

    The message, the traceback (an exception's text or a local variable
    shown in it can hold the token) and any stack information are redacted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        if not _secrets:
            return True
        message = record.getMessage()
        if any(s in message for s in _secrets):
            record.msg, record.args = _redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text)
        if record.stack_info:
            record.stack_info = _redact(record.stack_info)
        return True


def _redact(text: str) -> str:
    # Longest first, so a secret containing another is redacted whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def log_dir() -> Path:
    """The folder of the log file (``CCI_UPLOADER_LOG_DIR`` overrides it)."""
    override = os.environ.get("CCI_UPLOADER_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP, appauthor=False))


def log_file() -> Path:
    """The log file's path."""
    return log_dir() / "cci-uploader.log"


def setup_logging(verbose: bool = False) -> Path:
    """Send the app's logs to a rotating file and return its path."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_cci", False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler._cci = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # omero-py logs the session uuid (our token) at debug level when joining.
    for noisy in ("omero", "omero.gateway", "omero.client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
