"""The answer to ``verifyUpload`` is lost: the file is neither imported twice nor left out.

Once ``verifyUpload`` is sent, the server may import the file whether or not its
answer arrives. So the queue notes the upload just before sending it (see
``pipeline/inflight.py``), and a later run waits for OMERO before sending it
again, unless the server says the call never arrived (its UploadJob is not
"Finished"): then the file is sent at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import EntryChanged, ImportQueue, Status, inflight
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.state import ImportTime
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.killing import kill_at_verify
from tests.test_overlap import _copies

IMPORTING_BEFORE = "OMERO is importing"


def _run_again(
    sandbox: SandboxServer, paths: list[Path], said: list[str] | None = None
) -> ImportQueue:
    """Import ``paths`` in a new session; ``said`` collects what the row said, in order."""
    conn = om.connect(sandbox.address, sandbox.new_token())
    try:
        queue = ImportQueue(
            plan(scan_paths(paths, Config()), Config(), [("S", "1")]), history=History()
        )
        for event in queue.run(conn):
            if said is not None and isinstance(event, EntryChanged):
                said.append(event.state.message)
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
    said: list[str] = []
    queue = _run_again(sandbox, paths, said)
    assert [s.status for s in queue.states] == [Status.DUPLICATE], queue.states
    assert IMPORTING_BEFORE in said  # waited for OMERO, did not send it again
    assert [i.getName().getValue() for i in sandbox.objects("Image")] == [paths[0].name]
    assert inflight.store_path().read_text() == "[]"


def test_killed_before_verify_upload_arrived_sends_it_at_once(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = _copies(samples, tmp_path / "data", 1)
    kill_at_verify(monkeypatch, sandbox, token, paths, received=False)
    assert sandbox.objects("Image") == []
    assert len(sandbox.objects("Fileset")) == 1  # the upload left its fileset
    said: list[str] = []
    queue = _run_again(sandbox, paths, said)
    # The server said its UploadJob never finished: sent without waiting for OMERO.
    assert [s.status for s in queue.states] == [Status.UPLOADED], queue.states
    assert IMPORTING_BEFORE not in said[: said.index("uploading")]
    assert [i.getName().getValue() for i in sandbox.objects("Image")] == [paths[0].name]
    assert len(sandbox.objects("Fileset")) == 1  # the left-over one was deleted
    assert inflight.store_path().read_text() == "[]"
