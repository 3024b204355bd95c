from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.duplicates import find_duplicates
from cci_uploader.sandbox import SandboxServer


def _dataset(conn: om.Connection) -> int:
    return om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "2024-01-02")


def _import(conn: om.Connection, path: Path, **kwargs: object) -> tuple[int, ...]:
    events = list(om.import_file(conn, [path], _dataset(conn), **kwargs))  # type: ignore[arg-type]
    assert isinstance(events[-1], om.Imported)
    return events[-1].image_ids


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.czi"
    path.write_bytes(bytes(range(256)) * 4096 + b"tail")  # 1 MiB + 4 bytes
    return path


def test_import_lands_in_the_dataset_with_verified_sha1(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    events = list(om.import_file(conn, [data_file], _dataset(conn), chunk_size=64 * 1024))
    uploads = [e for e in events if isinstance(e, om.Uploading)]
    assert uploads[-1].done == uploads[-1].total == data_file.stat().st_size
    assert [e.done for e in uploads] == sorted(e.done for e in uploads)
    [image] = sandbox.objects("Image")
    assert events[-1] == om.Imported((image.getId().getValue(),))
    assert image.getName().getValue() == "cells.czi"
    [ofile] = sandbox.objects("OriginalFile")
    assert ofile.getHash().getValue() == hashlib.sha1(data_file.read_bytes()).hexdigest()
    assert ofile.getHasher().getValue().getValue() == "SHA1-160"
    [link] = sandbox.objects("DatasetImageLink")
    assert link.getChild().getId().getValue() == image.getId().getValue()


def test_duplicate_found_by_content(conn: om.Connection, data_file: Path) -> None:
    size, sha1 = data_file.stat().st_size, file_sha1(data_file)
    assert om.find_duplicate(conn, data_file, sha1, size) == []
    ids = _import(conn, data_file)
    assert om.find_duplicate(conn, data_file, sha1, size) == list(ids)


def test_same_name_other_bytes_is_not_a_duplicate(
    conn: om.Connection, data_file: Path, tmp_path: Path
) -> None:
    _import(conn, data_file)
    other = tmp_path / "other" / data_file.name
    other.parent.mkdir()
    other.write_bytes(data_file.read_bytes()[:-1] + b"X")
    assert om.find_duplicate(conn, other, file_sha1(other), other.stat().st_size) == []


def test_duplicates_are_per_group(conn: om.Connection, data_file: Path) -> None:
    _import(conn, data_file)
    conn.switch_group("Imaging Core")
    assert om.find_duplicate(conn, data_file, file_sha1(data_file), data_file.stat().st_size) == []


def test_corrupted_upload_is_never_reported_imported(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    sandbox.faults.corrupt_upload = True
    with pytest.raises(om.ChecksumMismatch, match="checksums"):
        list(om.import_file(conn, [data_file], _dataset(conn)))
    assert sandbox.objects("Image") == []


def test_server_side_import_error_carries_the_servers_message(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    sandbox.faults.import_error = "Bio-Formats could not read the file"
    with pytest.raises(om.ImportFailed, match="Bio-Formats could not read the file"):
        list(om.import_file(conn, [data_file], _dataset(conn)))


def test_slow_server_import_is_waited_for(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    sandbox.faults.import_delay_s = 0.5
    events = list(om.import_file(conn, [data_file], _dataset(conn), poll_s=0.05))
    assert any(isinstance(e, om.Processing) for e in events)
    assert isinstance(events[-1], om.Imported)


def test_import_that_never_finishes_times_out_but_goes_on_on_the_server(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    # Rule: HandleI.close cancels an unfinished import, so on our time-out the
    # handle is left open (Java: cb.close(false)) and the server finishes.
    sandbox.faults.import_delay_s = 1
    with pytest.raises(om.ImportStillRunning, match=r"still importing.*appear in OMERO\.web"):
        list(om.import_file(conn, [data_file], _dataset(conn), timeout_s=0.2))
    assert sandbox.objects("Image") == []
    deadline = time.monotonic() + 30
    while not sandbox.objects("Image") and time.monotonic() < deadline:
        time.sleep(0.05)
    [image] = sandbox.objects("Image")
    assert image.getName().getValue() == data_file.name
    sha1, size = file_sha1(data_file), data_file.stat().st_size
    assert om.find_duplicate(conn, data_file, sha1, size) == [image.getId().getValue()]


def test_cancel_between_chunks_leaves_no_image(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    upload = om.import_file(conn, [data_file], _dataset(conn), chunk_size=64 * 1024)
    first = next(upload)
    assert isinstance(first, om.Uploading) and first.done < first.total
    upload.close()
    assert sandbox.objects("Image") == []
    # Every stateful service was closed: only stateless ones stay registered.
    assert not any(
        "RawFileStore" in type(s).__name__ or "ImportProcess" in type(s).__name__
        for s, _ in sandbox.registry._servants.values()
    )


def test_dropped_connection_raises_connection_lost(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    sandbox.faults.cut_after_bytes = 200_000
    with pytest.raises(om.ConnectionLost, match="connection to OMERO was lost"):
        list(om.import_file(conn, [data_file], _dataset(conn), chunk_size=64 * 1024))
    assert sandbox.objects("Image") == []


def test_find_duplicates_answers_many_files_as_find_duplicate_each(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "P"), "D")
    imported, renamed, other = (tmp_path / n for n in ("a.czi", "b.czi", "c.czi"))
    imported.write_bytes(b"same bytes")
    renamed.write_bytes(b"same bytes")  # same content, other name: not a duplicate
    other.write_bytes(b"other bytes")
    *_, done = om.import_file(conn, [imported], dataset)
    assert isinstance(done, om.Imported)
    files = [(p, file_sha1(p), p.stat().st_size) for p in (imported, renamed, other)]
    files.append((imported, file_sha1(imported), 11))  # same name and hash, other size
    before = sandbox.registry.requests()["QueryService.projection"]
    answers = find_duplicates(conn, files)
    assert sandbox.registry.requests()["QueryService.projection"] == before + 1
    assert answers == [list(done.image_ids), [], [], []]
    assert answers == [om.find_duplicate(conn, p, sha1, size) for p, sha1, size in files]
