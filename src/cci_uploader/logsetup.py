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
    """Replace registered secrets in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        if not _secrets:
            return True
        message = record.getMessage()
        if any(s in message for s in _secrets):
            for secret in _secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
        return True


def log_dir() -> Path:
    """The folder of the log file (``CCI_UPLOADER_LOG_DIR`` overrides it)."""
    override = os.environ.get("CCI_UPLOADER_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP, appauthor=False))


def setup_logging(verbose: bool = False) -> Path:
    """Send the app's logs to a rotating file and return its path."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cci-uploader.log"
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
