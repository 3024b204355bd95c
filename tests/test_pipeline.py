"""The import queue against the stand-in, with fault injection."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import (
    PAUSED_OFFLINE,
    ConnectionDown,
    EntryChanged,
    ImportQueue,
    QueueDone,
    SessionLost,
    Status,
)
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from tests.netcut import NetCut

CZI = "czi/tiles_z.czi"


def _queue(paths: list[Path], **kwargs: object) -> ImportQueue:
    kwargs.setdefault("history", None)
    return ImportQueue(plan(scan_paths(paths, Config()), Config(), [("Sample", "S1")]), **kwargs)  # type: ignore[arg-type]


def _copies(samples: Path, tmp_path: Path, count: int) -> list[Path]:
    """Distinct CZI files: the sample with a different trailing byte each."""
    data = (samples / CZI).read_bytes()
    paths = []
    for n in range(count):
        path = tmp_path / f"copy{n}.czi"
        path.write_bytes(data + bytes([n]))
        paths.append(path)
    return paths


def test_statuses_move_in_order(conn: om.Connection, samples: Path) -> None:
    queue = _queue([samples / CZI])
    statuses = [e.state.status for e in queue.run(conn) if isinstance(e, EntryChanged)]
    assert statuses[0] is Status.QUEUED
    assert statuses[-1] is Status.UPLOADED
    assert set(statuses[1:-1]) == {Status.UPLOADING}


def test_same_name_different_bytes_is_uploaded(
    conn: om.Connection, samples: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    list(_queue([samples / CZI]).run(conn))
    changed = tmp_path / "tiles_z.czi"
    changed.write_bytes((samples / CZI).read_bytes() + b"\0")
    queue = _queue([changed])
    list(queue.run(conn))
    assert queue.states[0].status is Status.UPLOADED
    assert len(sandbox.objects("Image")) == 2


def test_cut_connection_pauses_once_and_reconnecting_gives_exactly_one_image(
    conn: om.Connection, samples: Path, sandbox: SandboxServer
) -> None:
    queue = _queue([samples / CZI], chunk_size=128 * 1024)
    sandbox.faults.cut_after_bytes = 300_000
    events = list(queue.run(conn))
    [entry] = queue.states
    [down] = [e for e in events if isinstance(e, ConnectionDown)]
    assert "connection to OMERO was lost" in down.message and "paused" in down.message
    assert entry.status is Status.QUEUED and entry.message == PAUSED_OFFLINE
    assert not any(isinstance(e, QueueDone) for e in events)
    assert sandbox.objects("Image") == []
    conn.reconnect()
    list(queue.run(conn))
    assert queue.states[0].status is Status.UPLOADED
    assert len(sandbox.objects("Image")) == 1


def test_server_gone_mid_queue_pauses_once_not_once_per_file(
    samples: Path, tmp_path: Path, sandbox: SandboxServer, token: str
) -> None:
    paths = _copies(samples, tmp_path, 4)
    queue = _queue(paths)
    with NetCut(sandbox.port) as net:
        conn = om.connect(net.address, token)
        events = []
        for event in queue.run(conn):
            events.append(event)
            if isinstance(event, EntryChanged) and event.state.status is Status.UPLOADED:
                net.cut()  # the server goes away after the first file
        downs = [e for e in events if isinstance(e, ConnectionDown)]
        assert len(downs) == 1
        assert [e.status for e in queue.states] == [Status.UPLOADED] + [Status.QUEUED] * 3
        assert not any(e.status is Status.ERROR for e in queue.states)
        with pytest.raises(om.ServerUnreachable):
            conn.reconnect()  # still away
        net.restore()
        conn.reconnect()
        list(queue.run(conn))
        conn.close()
        assert [e.status for e in queue.states] == [Status.UPLOADED] * 4
        names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == [p.name for p in paths]  # nothing lost, nothing twice


def test_expired_session_pauses_and_a_new_token_finishes_the_rest(
    samples: Path, tmp_path: Path, sandbox: SandboxServer, token: str
) -> None:
    paths = _copies(samples, tmp_path, 3)
    queue = _queue(paths)
    conn = om.connect(sandbox.address, token)
    events = []
    for event in queue.run(conn):
        events.append(event)
        if (
            isinstance(event, EntryChanged)
            and event.index == 1
            and event.state.status is Status.UPLOADING
        ):
            sandbox.expire(token)
    conn.close()
    [lost] = [e for e in events if isinstance(e, SessionLost)]
    assert "session has expired" in lost.message and "new token" in lost.message
    assert [e.status for e in queue.states] == [Status.UPLOADED, Status.QUEUED, Status.QUEUED]
    assert not any(isinstance(e, QueueDone) for e in events)

    fresh = om.connect(sandbox.address, sandbox.new_token())
    try:
        list(queue.run(fresh))
    finally:
        fresh.close()
    assert [e.status for e in queue.states] == [Status.UPLOADED] * 3
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["copy0.czi", "copy1.czi", "copy2.czi"]


def test_corrupted_upload_is_never_reported_uploaded(
    conn: om.Connection, samples: Path, sandbox: SandboxServer
) -> None:
    sandbox.faults.corrupt_upload = True
    queue = _queue([samples / CZI])
    list(queue.run(conn))
    assert queue.states[0].status is Status.ERROR
    assert "checksums differ" in queue.states[0].message
    assert sandbox.objects("Image") == []


def test_server_import_error_shows_the_servers_message(
    conn: om.Connection, samples: Path, sandbox: SandboxServer
) -> None:
    sandbox.faults.import_error = "Pixel data is truncated"
    queue = _queue([samples / CZI])
    list(queue.run(conn))
    assert queue.states[0].status is Status.ERROR
    assert "Pixel data is truncated" in queue.states[0].message


def test_cancel_stops_between_chunks_with_no_half_image(
    conn: om.Connection, samples: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    queue = _queue(_copies(samples, tmp_path, 2), chunk_size=64 * 1024)
    for event in queue.run(conn):
        if isinstance(event, EntryChanged) and event.state.done_bytes > 0:
            queue.cancel()
    assert [e.status for e in queue.states] == [Status.PENDING, Status.PENDING]
    assert "cancelled" in queue.states[0].message
    assert sandbox.objects("Image") == []
    list(queue.run(conn))
    assert len(sandbox.objects("Image")) == 2


def test_folder_name_becomes_a_pair(
    conn: om.Connection, samples: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    folder = tmp_path / "run-42"
    folder.mkdir()
    _copies(samples, folder, 1)
    (folder / "notes.txt").write_text("not microscopy")
    queue = _queue([folder])
    assert [f.path.name for f in queue.files] == ["copy0.czi"]
    list(queue.run(conn))
    [annotation] = [
        a for a in sandbox.objects("MapAnnotation") if a.getNs().getValue() == om.CLIENT_NS
    ]
    assert [(nv.name, nv.value) for nv in annotation.getMapValue()] == [
        ("Sample", "S1"),
        ("Folder", "run-42"),
    ]


def test_converted_files_live_in_the_cache_and_are_deduplicated(
    conn: om.Connection, samples: Path, sandbox: SandboxServer, _isolated_dirs: Path
) -> None:
    emd = samples / "emd" / "fei_example_tem_stack.emd"
    cache = _isolated_dirs / "cache" / "cci-uploader" / "converted"
    seen: list[Path] = []
    queue = _queue([emd])
    for event in queue.run(conn):
        if isinstance(event, EntryChanged) and event.state.status is Status.UPLOADING:
            seen.extend(p for p in cache.rglob("*.ome.tif"))
    [entry] = queue.states
    assert entry.status is Status.UPLOADED, entry.message
    assert {p.name for p in seen} == {"fei_example_tem_stack.ome.tif"}
    assert not any(cache.rglob("*.ome.tif")), "converted files must be removed after import"
    assert sorted(p.name for p in emd.parent.iterdir()) == sorted(
        p.name for p in (samples / "emd").iterdir()
    )  # nothing written beside the source
    [image] = sandbox.objects("Image")
    assert image.getName().getValue() == "fei_example_tem_stack.ome.tif"

    # Conversion is deterministic, so the same source is recognised on the server.
    again = _queue([emd])
    list(again.run(conn))
    assert again.states[0].status is Status.DUPLICATE
    assert again.states[0].image_ids == entry.image_ids


def test_abandon_fails_only_the_files_the_run_did_not_finish(
    conn: om.Connection, samples: Path, tmp_path: Path
) -> None:
    first, second = _copies(samples, tmp_path, 2)
    notes = tmp_path / "notes.txt"
    notes.write_text("not microscopy")
    queue = _queue([first])
    list(queue.run(conn))
    queue.add(plan(scan_paths([second, notes], Config()), Config()))
    refused = queue.states[2]
    events = queue.abandon("not uploaded: the session expired")
    assert [e.index for e in events] == [1]
    assert events[0].file.path == second and events[0].state == queue.states[1]
    assert [s.status for s in queue.states] == [Status.UPLOADED, Status.ERROR, Status.ERROR]
    assert queue.states[1].message == "not uploaded: the session expired"
    assert queue.states[2] is refused  # refused at the start: its own reason stays
    assert [e.index for e in queue.retry_failed()] == [1]  # and Retry failed can send it
    list(queue.run(conn))
    assert [s.status for s in queue.states][:2] == [Status.UPLOADED, Status.UPLOADED]
