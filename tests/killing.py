"""Kill a real ``cci-uploader import`` at a chosen request: its Nth import, or verifyUpload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.repository import ManagedRepository


def kill_import_at(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: SandboxServer,
    token: str,
    paths: list[Path],
    nth: int,
) -> None:
    """Run the CLI's import of ``paths``; SIGKILL it when its ``nth`` importFileset arrives.

    The stand-in holds that request until the process is dead, so nothing of
    the ``nth`` file reaches the server; the stand-in's import is restored after.
    """
    started, release = threading.Event(), threading.Event()
    original = ManagedRepository.importFileset
    calls = []

    def importing(self: Any, fileset: Any, settings: Any, current: Any = None) -> Any:
        calls.append(fileset)
        if len(calls) == nth:
            started.set()
            release.wait(60)
        return original(self, fileset, settings, current)

    monkeypatch.setattr(ManagedRepository, "importFileset", importing)
    try:
        _import_and_kill(sandbox, token, paths, started, f"import number {nth} never started")
    finally:
        release.set()
        monkeypatch.setattr(ManagedRepository, "importFileset", original)


def _import_and_kill(
    sandbox: SandboxServer, token: str, paths: list[Path], started: threading.Event, late: str
) -> None:
    """Run ``cci-uploader import`` of ``paths``; SIGKILL it once ``started`` is set."""
    exe = Path(sys.executable).with_name("cci-uploader")
    argv = [str(exe), "import", *map(str, paths), "--server", sandbox.address]
    proc = subprocess.Popen(
        [*argv, "--group", "Sandbox Lab"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
        text=True,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(token + "\n")
        proc.stdin.close()
        assert started.wait(120), late
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        assert proc.wait(30) == (1 if sys.platform == "win32" else -signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()


def kill_at_verify(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: SandboxServer,
    token: str,
    paths: list[Path],
    *,
    received: bool,
) -> None:
    """Run the CLI's import of ``paths``; SIGKILL it while its first ``verifyUpload`` waits.

    ``received``: the server has got the call and begun importing when the
    process dies (its answer is lost); otherwise the call never arrives.
    """
    from cci_uploader.sandbox.repository import ImportProcess

    started, release = threading.Event(), threading.Event()
    original = ImportProcess.verifyUpload

    def verifying(self: Any, hashes: list[str], current: Any = None) -> Any:
        handle = original(self, hashes, current) if received else None
        started.set()
        release.wait(60)
        if handle is None:
            raise RuntimeError("the client died before this call arrived")
        return handle

    monkeypatch.setattr(ImportProcess, "verifyUpload", verifying)
    try:
        _import_and_kill(sandbox, token, paths, started, "verifyUpload never came")
    finally:
        release.set()
        monkeypatch.setattr(ImportProcess, "verifyUpload", original)
