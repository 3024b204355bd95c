"""The log file never holds a registered secret: not in messages, tracebacks or stacks."""

from __future__ import annotations

import logging
from pathlib import Path

from cci_uploader.logsetup import REDACTED, register_secret, setup_logging

TOKEN = "3f1c7a2e-9b4d-4e55-8c1a-6d2f0b9e7a11"


def _fail_with_token() -> None:
    raise RuntimeError(f"joining session {TOKEN} failed")


def test_traceback_and_stack_are_redacted(_isolated_dirs: Path) -> None:
    path = setup_logging()
    register_secret(TOKEN)
    log = logging.getLogger("cci_uploader.test")
    try:
        _fail_with_token()
    except RuntimeError:
        log.exception("could not connect")
    log.error("token was %s", TOKEN, stack_info=True)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert f"RuntimeError: joining session {REDACTED} failed" in text
    assert "Traceback (most recent call last)" in text
    assert f"token was {REDACTED}" in text
    assert "Stack (most recent call last)" in text
