"""The upload history: one record per verified upload, written at once, linked to the server."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.hashing import file_sha1
from cci_uploader.pipeline import EntryChanged, ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import (
    CSV_COLUMNS,
    REMOVED,
    STILL_HERE,
    History,
    history_path,
    select,
    write_csv,
)
from tests.stewardship.stewardship_helpers import TIA, copy_samples, czi_copy, upload


class PowerCut(Exception):
    pass


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("select count(*) from uploads").fetchone()[0])


def _fileset_of(sandbox: SandboxServer, image_id: int) -> int:
    image = sandbox.state.get("Image", image_id)
    return int(image.getFileset().getId().getValue())


def test_each_upload_recorded_once_even_after_a_crash_mid_batch(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path
) -> None:
    paths = [czi_copy(samples, tmp_path / "data", n) for n in range(3)]
    db = tmp_path / "history.sqlite3"
    queue = ImportQueue(
        plan(scan_paths(paths, Config()), Config(), []), history=History(db), chunk_size=64 * 1024
    )
    conn = om.connect(sandbox.address, token)
    seen_at_crash = None
    with pytest.raises(PowerCut):
        for event in queue.run(conn):
            if isinstance(event, EntryChanged) and event.index == 1 and event.state.done_bytes:
                seen_at_crash = _rows(db)  # another process reading the file
                raise PowerCut
    conn.close()
    assert seen_at_crash == 1  # the first upload was on disk before the second finished
    assert [u.main.name for u in History(db).uploads()] == ["cells0.czi"]

    # The app starts again and the user imports the same three files.
    conn = om.connect(sandbox.address, sandbox.new_token())
    again = ImportQueue(plan(scan_paths(paths, Config()), Config(), []), history=History(db))
    list(again.run(conn))
    conn.close()
    assert [e.status for e in again.states] == [Status.DUPLICATE, Status.UPLOADED, Status.UPLOADED]

    uploads = History(db).uploads()
    assert sorted(u.main for u in uploads) == [p.resolve() for p in paths]
    images = sandbox.objects("Image")
    assert len(images) == 3
    for upload_record, path in zip(sorted(uploads, key=lambda u: u.main), paths, strict=True):
        [image_id] = upload_record.image_ids
        assert upload_record.status == "uploaded"
        assert upload_record.fileset_ids == (_fileset_of(sandbox, image_id),)
        [source] = upload_record.sources
        assert (source.size, source.sha1) == (path.stat().st_size, file_sha1(path))
        [stored] = upload_record.stored
        assert (stored.name, stored.sha1) == (path.name, source.sha1)
        assert not upload_record.converted


def test_record_holds_who_where_and_what(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    conn.switch_group("Imaging Core")
    path = czi_copy(samples, tmp_path, 7)
    upload(conn, history, path)
    [record] = history.uploads()
    assert (record.server, record.omero_user, record.omero_group) == (
        sandbox.address,
        "demo",
        "Imaging Core",
    )
    assert (record.project, record.dataset) == ("LSM 880 IndiMo, AxioObserver", "2020-12-15")
    [image] = sandbox.objects("Image")
    assert record.image_ids == (image.getId().getValue(),)
    assert record.removed is None


def test_converted_pair_links_sources_to_the_uploaded_ome_tiff(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    emi, ser = copy_samples(samples, tmp_path / "tia", *TIA)
    upload(conn, history, emi)
    [record] = history.uploads()
    assert record.converted
    assert [(s.path, s.sha1) for s in record.sources] == [
        (emi.resolve(), file_sha1(emi)),
        (ser.resolve(), file_sha1(ser)),
    ]
    [stored] = record.stored
    assert stored.name.endswith(".ome.tif")
    [ofile, *originals] = sandbox.objects("OriginalFile")  # the OME-TIFF, then the sources
    assert [o.getName().getValue() for o in originals] == [emi.name, ser.name]
    assert (stored.sha1, stored.size) == (ofile.getHash().getValue(), ofile.getSize().getValue())
    assert stored.sha1 not in {s.sha1 for s in record.sources}
    [fileset] = sandbox.objects("Fileset")
    assert record.fileset_ids == (fileset.getId().getValue(),)


def test_history_lives_in_the_user_data_folder(_isolated_dirs: Path) -> None:
    assert history_path().is_relative_to(_isolated_dirs / "data")


def test_filters_and_csv(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    first = czi_copy(samples, tmp_path, 1)
    upload(conn, history, first)
    upload(conn, history, czi_copy(samples, tmp_path / "again", 1), expect=Status.DUPLICATE)
    [uploaded] = history.uploads(status="uploaded")
    [duplicate] = history.uploads(status="duplicate")
    assert duplicate.fileset_ids == uploaded.fileset_ids
    assert history.uploads(since=uploaded.time.replace(year=uploaded.time.year + 1)) == []

    out = io.StringIO()
    write_csv(history.uploads(), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["status"] for r in rows] == ["uploaded", "duplicate"]
    assert rows[0]["source_paths"] == str(first.resolve())
    assert rows[0]["source_sha1"] == file_sha1(first)
    assert rows[0]["image_ids"] == ";".join(map(str, uploaded.image_ids)).replace(";", "; ")


def test_the_history_csv_is_never_uploaded(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    folder = tmp_path / "run"
    czi_copy(samples, folder, 3)
    out = io.StringIO()
    write_csv(history.uploads(), out)
    (folder / "history.csv").write_text(out.getvalue())
    (folder / "history.sqlite3").write_bytes(b"SQLite format 3\0")
    found = scan_paths([folder], Config())
    assert [e.path.name for e in found] == ["cells3.czi"]  # left out of a folder silently
    picked = scan_paths([folder / "history.csv", folder / "cells3.czi"], Config())
    assert not picked[0].ok
    assert "not a supported microscope file" in (picked[0].reason or "")
    queue = ImportQueue(plan(picked, Config(), []), history=history)
    list(queue.run(conn))
    assert [e.status for e in queue.states] == [Status.ERROR, Status.UPLOADED]
    names = {f.getName().getValue() for f in sandbox.objects("OriginalFile")}
    assert names == {"cells3.czi"}


def test_a_queue_records_in_the_history_it_is_given_and_nowhere_else(
    conn: om.Connection, samples: Path, tmp_path: Path
) -> None:
    with pytest.raises(TypeError):
        ImportQueue(
            plan([], Config(), []),
        )  # type: ignore[call-arg]  # no silent default
    quiet = ImportQueue(
        plan(scan_paths([czi_copy(samples, tmp_path, 1)], Config()), Config(), []), history=None
    )
    list(quiet.run(conn))
    assert not history_path().exists()
    path = czi_copy(samples, tmp_path, 2)
    own = History(tmp_path / "own.sqlite3")
    list(ImportQueue(plan(scan_paths([path], Config()), Config(), []), history=own).run(conn))
    assert [u.main for u in own.uploads()] == [path.resolve()]
    assert not history_path().exists()


def test_select_by_local_copy_and_local_date(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    upload(conn, history, czi_copy(samples, tmp_path, 1), czi_copy(samples, tmp_path, 2))
    first, second = history.uploads()
    history.mark_removed([first.id], first.time)
    uploads = history.uploads()
    assert [u.id for u in select(uploads, status=REMOVED)] == [first.id]
    assert [u.id for u in select(uploads, status=STILL_HERE)] == [second.id]
    today = first.time.astimezone().date()
    assert len(select(uploads, since=today, until=today)) == 2
    assert select(uploads, until=today - dt.timedelta(days=1)) == []
