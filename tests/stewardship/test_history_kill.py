"""A real crash: the import process is killed mid-batch; the history keeps what was verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.killing import kill_import_at
from tests.stewardship.stewardship_helpers import czi_copy


def test_killed_mid_batch_then_run_again_records_each_upload_once(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = [czi_copy(samples, tmp_path / "data", n) for n in range(3)]
    kill_import_at(monkeypatch, sandbox, token, paths, 2)
    assert [u.main.name for u in History().uploads()] == ["cells0.czi"]
    assert len(sandbox.objects("Image")) == 1

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
