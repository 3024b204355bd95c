"""The History window: filters, CSV export and Remove local copies, against the stand-in."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.hashing import file_sha1
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from cci_uploader.ui.dialogs.history import HistoryWindow
from cci_uploader.ui.models.history import COLUMNS
from cci_uploader.ui.workers.tasks import ServerTasks

CZI = "czi/tiles_z.czi"


@pytest.fixture
def files(conn: om.Connection, samples: Path, tmp_path: Path) -> list[Path]:
    """Two uploaded CZI files, and a third upload of the first's bytes (a duplicate)."""
    paths = []
    for n, name in enumerate(("first.czi", "second.czi", "again/first.czi")):
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((samples / CZI).read_bytes() + bytes([n % 2]))
        paths.append(path)
    for path, status in zip(
        paths, (Status.UPLOADED, Status.UPLOADED, Status.DUPLICATE), strict=True
    ):
        queue = ImportQueue(plan(scan_paths([path], Config()), Config(), []), history=History())
        list(queue.run(conn))
        assert queue.states[0].status is status
    return paths


class Answers:
    def __init__(self) -> None:
        self.confirm = True
        self.asked: list[str] = []
        self.save_to: Path | None = None

    def ask(self, _parent: object, _title: str, text: str, _action: str) -> bool:
        self.asked.append(text)
        return self.confirm


@pytest.fixture
def answers() -> Answers:
    return Answers()


@pytest.fixture
def window(
    qtbot: QtBot, conn: om.Connection, files: list[Path], answers: Answers
) -> Iterator[HistoryWindow]:
    tasks = ServerTasks()
    win = HistoryWindow(
        history=History(),
        config=Config(),
        connection=lambda: conn,
        tasks=tasks,
        choose_save_path=lambda _: answers.save_to,
        confirm=answers.ask,
    )
    qtbot.addWidget(win)
    win.show()
    yield win
    qtbot.waitUntil(lambda: not tasks.busy)


def _column(win: HistoryWindow, name: str) -> list[str]:
    col = COLUMNS.index(name)
    return [win.model.index(r, col).data() for r in range(win.model.rowCount())]


def test_lists_every_upload_with_status_filter(window: HistoryWindow) -> None:
    assert sorted(_column(window, "File")) == ["first.czi", "first.czi", "second.czi"]
    window.status_combo.setCurrentText("duplicate")
    assert _column(window, "Status") == ["duplicate"]
    window.status_combo.setCurrentText("uploaded")
    assert sorted(_column(window, "File")) == ["first.czi", "second.czi"]
    assert window.count_label.text() == "2 of 3 uploads shown"


def test_date_filter(window: HistoryWindow) -> None:
    today = dt.date.today()
    window.from_edit.setDate(QDate(today.year, today.month, today.day).addDays(1))
    window.from_check.setChecked(True)
    assert window.model.rowCount() == 0
    window.from_edit.setDate(QDate(today.year, today.month, today.day))
    window.to_edit.setDate(QDate(today.year, today.month, today.day))
    window.to_check.setChecked(True)
    assert window.model.rowCount() == 3


def test_export_csv_writes_the_rows_shown(
    qtbot: QtBot, window: HistoryWindow, answers: Answers, tmp_path: Path, files: list[Path]
) -> None:
    answers.save_to = tmp_path / "exports" / "mine"
    answers.save_to.parent.mkdir()
    window.status_combo.setCurrentText("uploaded")
    qtbot.mouseClick(window.export_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "exports" / "mine.csv"
    rows = list(csv.DictReader(written.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["source_paths"] for r in rows) == sorted(str(p.resolve()) for p in files[:2])
    assert {r["source_sha1"] for r in rows} == {file_sha1(p) for p in files[:2]}


def _select(win: HistoryWindow, name: str, status: str) -> None:
    for row in range(win.model.rowCount()):
        upload = win.model.uploads()[row]
        if upload.main.name == name and upload.status == status:
            win.table.selectionModel().select(
                win.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )


def test_remove_local_copies_removes_the_verified_selection_only(
    qtbot: QtBot, window: HistoryWindow, answers: Answers, files: list[Path]
) -> None:
    _select(window, "second.czi", "uploaded")
    qtbot.mouseClick(window.remove_button, Qt.MouseButton.LeftButton)
    [question] = answers.asked
    assert str(files[1].resolve()) in question and "first.czi" not in question
    qtbot.waitUntil(lambda: "removed: second.czi" in window.results.toPlainText())
    qtbot.waitUntil(window.remove_button.isEnabled)
    assert not files[1].exists()
    assert files[0].exists() and files[2].exists()
    [local] = [
        v
        for v, f in zip(_column(window, "Local copy"), _column(window, "File"), strict=True)
        if f == "second.czi"
    ]
    assert local.startswith("removed ")


def test_no_confirmation_removes_nothing(
    qtbot: QtBot, window: HistoryWindow, answers: Answers, files: list[Path]
) -> None:
    answers.confirm = False
    qtbot.mouseClick(window.remove_button, Qt.MouseButton.LeftButton)
    assert len(answers.asked) == 1
    assert all(p.exists() for p in files)
    assert window.results.toPlainText() == ""


def test_changed_file_is_kept_with_the_reason_shown(
    qtbot: QtBot, window: HistoryWindow, files: list[Path]
) -> None:
    files[1].write_bytes(files[1].read_bytes() + b"edited")
    _select(window, "second.czi", "uploaded")
    qtbot.mouseClick(window.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "kept: second.czi" in window.results.toPlainText())
    assert "changed after it was uploaded" in window.results.toPlainText()
    assert files[1].exists()


def test_names_show_in_full_or_elided_in_the_middle_with_the_path_on_hover(
    window: HistoryWindow,
) -> None:
    table = window.table
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
    col = COLUMNS.index("File")
    metrics = table.fontMetrics()
    for row in range(window.model.rowCount()):
        index = window.model.index(row, col)
        assert table.columnWidth(col) > metrics.horizontalAdvance(index.data())  # not cut
        tip = index.data(Qt.ItemDataRole.ToolTipRole)
        assert tip.endswith(index.data()) and str(Path(tip).parent) != "."  # the full path
    target = COLUMNS.index("Project / Dataset")
    text = window.model.index(0, target).data()
    assert table.columnWidth(target) > metrics.horizontalAdvance(text)
