"""The queue uploads the next file while OMERO still imports the previous ones."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ConnectionDown, EntryChanged, ImportQueue, Status, inflight
from cci_uploader.pipeline.overlap import MAX_IMPORTING, Flight, interleave
from cci_uploader.pipeline.state import FileState, QueueEvent
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.state import ImportTime
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.killing import kill_import_at

CZI = "czi/tiles_z.czi"
IMPORTING = "OMERO is importing"


def _copies(samples: Path, folder: Path, count: int) -> list[Path]:
    data = (samples / CZI).read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"copy{n}.czi"
        path.write_bytes(data + bytes([n]))
        paths.append(path)
    return paths


def _queue(paths: list[Path], history: History | None = None) -> ImportQueue:
    return ImportQueue(plan(scan_paths(paths, Config()), Config(), [("S", "1")]), history=history)


def _importing(states: tuple[FileState, ...]) -> int:
    return sum(1 for s in states if s.status is Status.UPLOADING and s.message == IMPORTING)


def test_uploads_go_on_in_order_while_omero_imports_a_few_at_once(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    sandbox.state.import_time = ImportTime(per_fileset_s=0.5)  # a real server's pace
    count = MAX_IMPORTING + 3
    queue = _queue(_copies(samples, tmp_path, count), History())
    most_importing = 0
    upload_order: list[int] = []
    overlapped = 0  # uploads started while an earlier file was still being imported
    for event in queue.run(conn):
        if not isinstance(event, EntryChanged):
            continue
        states = queue.states
        uploading = [s for s in states if s.status is Status.UPLOADING and s.message == "uploading"]
        assert len(uploading) <= 1  # one upload at a time
        most_importing = max(most_importing, _importing(states))
        if event.state.message == "uploading" and event.index not in upload_order:
            upload_order.append(event.index)
            overlapped += _importing(states) > 0
    assert [s.status for s in queue.states] == [Status.UPLOADED] * count
    assert upload_order == list(range(count))  # in queue order
    assert 1 < most_importing <= MAX_IMPORTING
    assert overlapped >= count // 2  # most uploads did not wait for the previous import
    assert sorted(i.getName().getValue() for i in sandbox.objects("Image")) == [
        f"copy{n}.czi" for n in range(count)
    ]
    # Each recorded once, with its images; nothing left marked as importing.
    assert sorted(u.main.name for u in History().uploads()) == [
        f"copy{n}.czi" for n in range(count)
    ]
    assert not inflight.store_path().exists() or inflight.store_path().read_text() == "[]"


def test_without_overlap_one_file_at_a_time(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    sandbox.state.import_time = ImportTime(per_fileset_s=0.2)
    queue = _queue(_copies(samples, tmp_path, 3))
    queue.max_importing = 0
    for event in queue.run(conn):
        if isinstance(event, EntryChanged):
            busy = [s for s in queue.states if s.status is Status.UPLOADING]
            assert len(busy) <= 1
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 3


def test_a_cut_connection_with_files_in_flight_pauses_and_sends_nothing_twice(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    sandbox.state.import_time = ImportTime(per_fileset_s=1.0)
    paths = _copies(samples, tmp_path, 4)
    queue = _queue(paths, History())
    events: list[QueueEvent] = []
    for event in queue.run(conn):
        events.append(event)
        if (
            isinstance(event, EntryChanged)
            and event.index == 2
            and event.state.message == "uploading"
        ):
            sandbox.faults.cut_after_bytes = 0  # while 0 and 1 are being imported
    assert isinstance(events[-1], ConnectionDown)
    statuses = [s.status for s in queue.states]
    assert Status.ERROR not in statuses, [s.message for s in queue.states]
    sandbox.faults.cut_after_bytes = None
    conn.reconnect()
    list(queue.run(conn))
    # Those in flight at the cut were this queue's own uploads: said as uploaded.
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 4, [
        s.message for s in queue.states
    ]
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == [p.name for p in paths]  # each imported once


def test_interleave_starts_the_next_job_while_one_waits() -> None:
    log: list[str] = []
    due: dict[int, float | None] = {}

    def job(index: int, waits: int) -> Any:
        for n in range(waits):
            log.append(f"{index}:{n}")
            due[index] = time.monotonic() + 0.01  # only waiting on the server
            yield n
        due[index] = None
        log.append(f"{index}:done")
        yield -1

    flights = iter(
        [Flight(i, job(i, 2), lambda i=i: due.get(i)) for i in range(3)]  # type: ignore[misc]
    )
    list(interleave(flights, max_waiting=2))
    assert log.index("1:0") < log.index("0:done")  # 1 started while 0 waited
    assert all(f"{i}:done" in log for i in range(3))


def test_killed_while_omero_imports_several_then_run_at_once_imports_each_once(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    sandbox.state.import_time = ImportTime(per_fileset_s=3.0)  # still importing at the kill
    kill_import_at(monkeypatch, sandbox, token, paths, 3)
    assert sandbox.objects("Image") == []  # OMERO is still importing the first two

    conn = om.connect(sandbox.address, sandbox.new_token())
    try:
        queue = _queue(paths, History())
        list(queue.run(conn))  # at once: not waiting for OMERO to finish first
    finally:
        conn.close()
    # The first two were waited for, not sent again: on the server now.
    assert [s.status for s in queue.states] == [
        Status.DUPLICATE,
        Status.DUPLICATE,
        Status.UPLOADED,
    ], [s.message for s in queue.states]
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == [p.name for p in paths]  # each imported once
    uploads = History().uploads()
    assert sorted(u.main for u in uploads) == [p.resolve() for p in paths]


def test_cancel_with_files_in_flight_then_retry_imports_each_once(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    sandbox.state.import_time = ImportTime(per_fileset_s=1.0)
    paths = _copies(samples, tmp_path, 4)
    queue = _queue(paths, History())
    for event in queue.run(conn):
        if isinstance(event, EntryChanged) and (event.index, event.state.message) == (
            2,
            "preparing",
        ):
            assert _importing(queue.states) == 2  # 0 and 1 are being imported
            queue.cancel()
    statuses = [s.status for s in queue.states]
    # What OMERO was importing goes on there; the rest was never sent.
    assert statuses[:2] == [Status.ERROR] * 2, [s.message for s in queue.states]
    assert all("still importing" in s.message for s in queue.states[:2])
    assert statuses[2:] == [Status.PENDING] * 2
    queue.retry_failed()
    list(queue.run(conn))
    # The first two are found (waited for if need be), as the cancel said.
    expected = [Status.DUPLICATE] * 2 + [Status.UPLOADED] * 2
    assert [s.status for s in queue.states] == expected, [s.message for s in queue.states]
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == [p.name for p in paths]  # each imported once
    assert sorted(u.main.name for u in History().uploads()) == [p.name for p in paths]
