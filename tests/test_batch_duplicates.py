"""The batch duplicate query: one question for many files, answers exact per file."""

from __future__ import annotations

from pathlib import Path

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import EntryChanged, ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths

CZI = "czi/tiles_z.czi"


def _queue(paths: list[Path]) -> ImportQueue:
    return ImportQueue(
        plan(scan_paths(paths, Config()), Config(), [("Sample", "S1")]), history=None
    )


def _write(path: Path, data: bytes, tail: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data + bytes([tail]))
    return path


def test_files_changed_after_the_batch_query_are_checked_again(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    data = (samples / CZI).read_bytes()
    # On the server already: x.czi and y.czi with these contents.
    list(_queue([_write(tmp_path / "old" / "x.czi", data, 1)]).run(conn))
    list(_queue([_write(tmp_path / "old" / "y.czi", data, 2)]).run(conn))
    assert len(sandbox.objects("Image")) == 2

    first = _write(tmp_path / "new" / "first.czi", data, 3)
    x = _write(tmp_path / "new" / "x.czi", data, 1)  # the batch query finds it
    y = _write(tmp_path / "new" / "y.czi", data, 4)  # the batch query does not
    again = _write(tmp_path / "copy" / "first.czi", data, 3)  # the same as first
    queue = _queue([first, x, y, again])
    changed = False
    for event in queue.run(conn):
        if (
            not changed
            and isinstance(event, EntryChanged)
            and event.index == 0
            and event.state.message == "uploading"
        ):
            # After the batch query, before their turn: x is new now, y a duplicate.
            _write(x, data, 5)
            _write(y, data, 2)
            changed = True
    assert changed
    statuses = [s.status for s in queue.states]
    assert statuses == [Status.UPLOADED, Status.UPLOADED, Status.DUPLICATE, Status.DUPLICATE], [
        s.message for s in queue.states
    ]
    first_ids, x_ids, y_ids, again_ids = (s.image_ids for s in queue.states)
    assert again_ids == first_ids  # found as what this run had just imported
    assert x_ids != () and set(x_ids).isdisjoint({*first_ids, *y_ids})
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["first.czi", "x.czi", "x.czi", "y.czi"]


def test_a_batch_asks_once_for_its_duplicates(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    data = (samples / CZI).read_bytes()
    paths = [_write(tmp_path / f"f{n}.czi", data, n) for n in range(5)]
    list(_queue(paths[:2]).run(conn))  # the first two are on the server
    before = sandbox.registry.requests()
    queue = _queue(paths)
    list(queue.run(conn))
    sent = sandbox.registry.requests() - before
    assert [s.status for s in queue.states] == [Status.DUPLICATE] * 2 + [Status.UPLOADED] * 3
    # One duplicate query for all five; each duplicate's owner, pairs and tags
    # read before its missing pairs are added; the remembered Dataset's check
    # of each upload.
    assert sent["QueryService.projection"] == 1 + 2 * 3 + 3
