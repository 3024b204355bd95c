"""A real crash: the import process is killed mid-batch; the history keeps what was verified."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.repository import ManagedRepository
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.stewardship.stewardship_helpers import czi_copy


def test_killed_mid_batch_then_run_again_records_each_upload_once(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = [czi_copy(samples, tmp_path / "data", n) for n in range(3)]
    second_started, release = threading.Event(), threading.Event()
    original = ManagedRepository.importFileset
    calls = []

    def importing(self: Any, fileset: Any, settings: Any, current: Any = None) -> Any:
        calls.append(fileset)
        if len(calls) == 2:  # the first file is verified, imported and recorded by now
            second_started.set()
            release.wait(60)
        return original(self, fileset, settings, current)

    monkeypatch.setattr(ManagedRepository, "importFileset", importing)
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
        assert second_started.wait(120), "the second import never started"
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        assert proc.wait(30) == (1 if sys.platform == "win32" else -signal.SIGKILL)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert [u.main.name for u in History().uploads()] == ["cells0.czi"]
    assert len(sandbox.objects("Image")) == 1

    monkeypatch.setattr(ManagedRepository, "importFileset", original)
    conn = om.connect(sandbox.address, sandbox.new_token())
    try:
        queue = ImportQueue(plan(scan_paths(paths, Config()), Config(), []), history=History())
        list(queue.run(conn))
    finally:
        conn.close()
    assert [e.status for e in queue.states] == [
        Status.DUPLICATE,
        Status.UPLOADED,
        Status.UPLOADED,
    ]
    uploads = History().uploads()
    assert sorted(u.main for u in uploads) == [p.resolve() for p in paths]
    assert sorted(i for u in uploads for i in u.image_ids) == sorted(
        i.getId().getValue() for i in sandbox.objects("Image")
    )
