"""The file model: Qt's model checks, O(1) row updates, colours beside status text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import EntryChanged, FileState, ImportQueue, Status
from cci_uploader.plan import with_pairs
from cci_uploader.ui.models.files import (
    COLOURS,
    COLUMNS,
    FORMAT,
    MICROSCOPE,
    NAME,
    PROGRESS,
    SIZE,
    STATUS,
    STATUS_ROLE,
    TARGET,
    FileModel,
    Row,
    status_text,
)
from cci_uploader.ui.workers import jobs


def _show(
    model: FileModel, path: Path, status: Status, message: str, done: int = 0, total: int = 0
) -> None:
    """What the queue does: one file's new state, as an event."""
    file = model.row_for(path).file
    model.apply(
        EntryChanged(0, file, FileState(status, message, done_bytes=done, total_bytes=total))
    )


def _filled(samples: Path, tmp_path: Path) -> FileModel:
    notes = tmp_path / "notes.txt"
    notes.write_text("not microscopy")
    model = FileModel()
    model.add(jobs.scan([samples, notes], Config()))
    return model


def test_qt_model_checks_pass_while_rows_are_added_updated_and_cleared(
    qtmodeltester: ModelTester, samples: Path, tmp_path: Path
) -> None:
    model = FileModel()
    qtmodeltester.check(model)
    model.add(jobs.scan([samples / "tia", tmp_path], Config()))
    qtmodeltester.check(model)
    model.add(jobs.scan([samples / "czi"], Config()))
    first = model.rows()[0].scan.path
    _show(model, first, Status.UPLOADING, "uploading", 10, 100)
    qtmodeltester.check(model)
    paths = [r.scan.path for r in model.rows()]
    model.remove([paths[1], paths[2], paths[-1]])
    qtmodeltester.check(model)
    assert [r.scan.path for r in model.rows()] == [paths[0], *paths[3:-1]]
    _show(model, paths[3], Status.UPLOADED, "uploaded")  # the path index follows the removal
    assert model.index(1, 0).data(STATUS_ROLE) == Status.UPLOADED
    model.clear()
    qtmodeltester.check(model)


def test_columns_companions_and_refused_file(samples: Path, tmp_path: Path) -> None:
    model = _filled(samples, tmp_path)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "Name",
        "Format",
        "Size",
        "Microscope",
        "Acquired",
        "Target (Project / Dataset)",
        "Progress",
        "Status",
    ]
    names = [model.index(r, NAME).data() for r in range(model.rowCount())]
    assert len(names) == 15  # 14 sample entries and the lone unsupported file
    mrc = model.index(names.index("Atlas_1.mrc"), NAME)
    assert model.index(mrc.row(), FORMAT).data() == "MRC+XML"
    assert model.rowCount(mrc) == 1
    companion = model.index(0, NAME, mrc)
    assert companion.data() == "Atlas_1.xml"
    assert companion.parent() == mrc
    assert model.index(mrc.row(), SIZE).data() == "2.1 MB"  # .mrc and .xml together
    notes = names.index("notes.txt")
    # Cause first: the Name column already says which file.
    assert model.index(notes, STATUS).data().startswith("Error: not a supported microscope file")
    tip = model.index(notes, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert str(model.rows()[notes].scan.path) in tip and "so it is not uploaded." in tip
    assert model.index(notes, TARGET).data() == ""
    assert model.index(notes, NAME).data(Qt.ItemDataRole.BackgroundRole) == COLOURS[Status.ERROR]


def test_an_update_touches_only_its_row(qtbot: QtBot, samples: Path, tmp_path: Path) -> None:
    model = _filled(samples, tmp_path)
    row = model.rows()[3]
    changed: list[tuple[int, int, int, int]] = []

    def record(top_left: QModelIndex, bottom_right: QModelIndex, *_: object) -> None:
        changed.append(
            (top_left.row(), top_left.column(), bottom_right.row(), bottom_right.column())
        )

    model.dataChanged.connect(record)
    _show(model, row.scan.path, Status.UPLOADING, "OMERO is importing", row.size // 2, row.size)
    assert changed == [(3, 0, 3, len(COLUMNS) - 1)]
    assert model.index(3, STATUS).data() == "Uploading: OMERO is importing"
    assert model.index(3, PROGRESS).data() == "50 %"
    assert model.index(3, NAME).data(Qt.ItemDataRole.BackgroundRole) == COLOURS[Status.UPLOADING]
    assert model.index(2, NAME).data(Qt.ItemDataRole.BackgroundRole) == COLOURS[Status.PENDING]


def test_every_status_has_its_own_colour_and_label() -> None:
    assert len({c.name() for c in COLOURS.values()}) == len(Status)


def test_status_text_never_repeats_the_status_word(samples: Path) -> None:
    [(file, size)] = jobs.scan([samples / "czi" / "tiles_z.czi"], Config())
    cases = [
        (Status.UPLOADING, "uploading", (), "Uploading"),
        (Status.QUEUED, "waiting", (), "Queued: waiting"),
        (Status.UPLOADED, "uploaded to A / B", (7,), "Uploaded (image 7)"),
        (Status.UPLOADED, "uploaded to A / B", (7, 9, 11), "Uploaded (3 images, 7–11)"),
        (
            Status.DUPLICATE,
            "already on the server (image 5)",
            (5,),
            "Already on the server (image 5)",
        ),
        (Status.ERROR, "the server said no", (), "Error: the server said no"),
        (Status.PENDING, "", (), "Pending"),
    ]
    for status, message, ids, expected in cases:
        row = Row(file, size, FileState(status, message, ids))
        assert status_text(row) == expected


def test_microscope_cell_says_how_the_name_was_chosen(samples: Path) -> None:
    config = Config(microscope_map={"Castor.Stand": "Celldiscoverer 7"}, default_microscope="PC1")
    model = FileModel()
    model.add(jobs.scan([samples / "czi"], config))
    rows = {model.index(r, NAME).data(): r for r in range(model.rowCount())}
    mapped = model.index(rows["CD_s_1_t_3_c_2_z_5.czi"], MICROSCOPE)
    assert mapped.data() == "Celldiscoverer 7 (mapped)"
    assert "mapped from 'Castor.Stand'" in mapped.data(Qt.ItemDataRole.ToolTipRole)
    default = model.index(rows["RGB-8bit.czi"], MICROSCOPE)
    assert default.data() == "PC1 (this PC's default)"
    assert "names no microscope" in default.data(Qt.ItemDataRole.ToolTipRole)
    stored = model.index(rows["tiles_z.czi"], MICROSCOPE)
    assert stored.data() == "LSM 880 IndiMo, AxioObserver"
    assert model.index(rows["tiles_z.czi"], TARGET).data().startswith("LSM 880 IndiMo")


def test_status_leads_with_the_cause_whatever_the_message_starts_with(
    samples: Path, tmp_path: Path
) -> None:
    model = _filled(samples, tmp_path)
    row = model.rows()[0]
    name = row.scan.path.name
    stem = name.split(".")[0]
    _show(model, row.scan.path, Status.ERROR, f"OMERO could not import {stem}.ome.tif: it ended.")
    assert model.index(0, STATUS).data() == (
        f"Error: it ended (OMERO could not import {stem}.ome.tif)"
    )
    _show(model, row.scan.path, Status.ERROR, f"{name} could not be read (gone); check it.")
    assert model.index(0, STATUS).data() == "Error: could not be read (gone); check it."


def test_apply_follows_a_real_queue_one_row_at_a_time(
    qtmodeltester: ModelTester, conn: om.Connection, samples: Path, tmp_path: Path
) -> None:
    model = _filled(samples / "czi", tmp_path)
    touched: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, *_: touched.append((tl.row(), br.row())))
    queue = ImportQueue(
        [with_pairs(r.file, [("Sample", "S1")]) for r in model.rows()], history=None
    )
    applied = 0
    for event in queue.run(conn):
        if isinstance(event, EntryChanged):
            before = len(touched)
            model.apply(event)
            number = model.number_of(event.file.path)
            assert touched[before:] == [(number, number)]
            applied += 1
    assert applied > len(model.rows())
    # The rows hold what the queue holds: its plan (with the pairs) and its latest states.
    assert [r.state for r in model.rows()] == list(queue.states)
    # (a refused file gets no event: the queue never works on it)
    assert [r.file for r in model.rows() if r.scan.ok] == [f for f in queue.files if f.ok]
    statuses = [model.index(n, STATUS).data(STATUS_ROLE) for n in range(model.rowCount())]
    assert statuses.count(Status.UPLOADED) == len(statuses) - 1  # all but notes.txt
    qtmodeltester.check(model)


def test_texts_of_a_column_are_what_its_cells_show(samples: Path, tmp_path: Path) -> None:
    model = _filled(samples, tmp_path)
    count = model.rowCount()
    assert count > 10
    for column in range(len(COLUMNS)):
        shown = [model.index(r, column).data() for r in range(count)]
        assert model.texts(column, range(count)) == shown
        assert model.texts(column, range(3, 7)) == shown[3:7]
