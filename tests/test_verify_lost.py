"""The answer to ``verifyUpload`` is lost: the file is neither imported twice nor left out.

Once ``verifyUpload`` is sent, the server may import the file whether or not its
answer arrives. So the queue notes the upload just before sending it (see
``pipeline/inflight.py``), and a later run waits for OMERO before sending it
again; a note whose call never reached the server is sent after that wait.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status, inflight, steps
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.state import ImportTime
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.killing import kill_at_verify
from tests.test_overlap import _copies


def _run_again(sandbox: SandboxServer, paths: list[Path]) -> ImportQueue:
    conn = om.connect(sandbox.address, sandbox.new_token())
    try:
        queue = ImportQueue(
            plan(scan_paths(paths, Config()), Config(), [("S", "1")]), history=History()
        )
        list(queue.run(conn))
    finally:
        conn.close()
    return queue


def test_killed_after_the_server_got_verify_upload_imports_it_once(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = _copies(samples, tmp_path / "data", 1)
    sandbox.state.import_time = ImportTime(per_fileset_s=3.0)  # still importing after the kill
    kill_at_verify(monkeypatch, sandbox, token, paths, received=True)
    assert sandbox.objects("Image") == []
    queue = _run_again(sandbox, paths)
    assert [s.status for s in queue.states] == [Status.DUPLICATE], queue.states
    assert [i.getName().getValue() for i in sandbox.objects("Image")] == [paths[0].name]
    assert inflight.store_path().read_text() == "[]"


def test_killed_before_verify_upload_arrived_sends_it_after_a_wait(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = _copies(samples, tmp_path / "data", 1)
    kill_at_verify(monkeypatch, sandbox, token, paths, received=False)
    assert sandbox.objects("Image") == []
    monkeypatch.setattr(steps, "RESUME_WAIT_S", 3.0)  # instead of two minutes
    queue = _run_again(sandbox, paths)
    assert [s.status for s in queue.states] == [Status.UPLOADED], queue.states
    assert [i.getName().getValue() for i in sandbox.objects("Image")] == [paths[0].name]
    assert inflight.store_path().read_text() == "[]"
