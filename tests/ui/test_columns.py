"""The file list's columns fit their text as rows come in batches, and the user's widths stay."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import NAME, STATUS, TARGET
from cci_uploader.ui.widgets.column_fit import CAPS, FITTED, SLACK
from tests.ui.uihelpers import Outside, add, press

TIA = ("64x64_TEM_images_acquire.emi", "64x64_TEM_images_acquire_1.ser")
LONG = "zz_later_batch_longer_name_01.emi"  # sorts last: read after the first batch


def _pairs(samples: Path, folder: Path, count: int, last: str | None = None) -> Path:
    """``count`` EMI+SER pairs in ``folder`` (small files; a .ser is its .emi's companion)."""
    folder.mkdir()
    for n in range(count):
        stem = f"f{n:03d}" if last is None or n < count - 1 else last.removesuffix(".emi")
        shutil.copyfile(samples / "tia" / TIA[0], folder / f"{stem}.emi")
        shutil.copyfile(samples / "tia" / TIA[1], folder / f"{stem}_1.ser")
    return folder


def _qt_fit(window: MainWindow) -> dict[int, int]:
    """What the list used to compute on every insert: Qt's own measure of every shown row."""
    view = window.file_panel.view
    header = view.header()
    fitted = {}
    for column in FITTED:
        width = max(view.sizeHintForColumn(column), header.sectionSizeHint(column)) + SLACK
        fitted[column] = min(width, CAPS.get(column, width))
    return fitted


def _fitted(window: MainWindow) -> dict[int, int]:
    """The widths the list fitted its columns to, before any gave way to Status."""
    return {c: window.file_panel.columns.natural[c] for c in FITTED}


def _needs(window: MainWindow, row: int) -> int:
    """The width the Name cell of top-level ``row`` needs, by Qt's own measure."""
    view = window.file_panel.view
    return view.sizeHintForIndex(window.model.index(row, NAME)).width() + view.indentation()


def test_columns_fit_every_sample_as_qt_measures_them_and_their_companions_when_shown(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path
) -> None:
    window.resize(1366, 700)
    add(qtbot, window, outside, samples, rows=14)  # every format, README.md left out
    panel = window.file_panel
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    view = panel.view
    for column in FITTED:  # each cell's text fits its column, up to the column's cap
        for row in range(window.model.rowCount()):
            index = window.model.index(row, column)
            need = view.sizeHintForIndex(index).width() + view.indentation() * (column == NAME)
            need += SLACK
            assert panel.columns.natural[column] >= min(need, CAPS.get(column, need))
    # A companion (a .ser under its .emi, one level deeper) counts once it is shown.
    names = [r.scan.path.name for r in window.model.rows()]
    emi = window.model.index(names.index("128x128_TEM_acquire-sum1.emi"), NAME)
    before = panel.columns.natural[NAME]
    view.expand(emi)
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    assert panel.columns.natural[NAME] > before


def test_a_long_name_in_a_later_batch_widens_name_and_a_user_width_stays(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    window.resize(1366, 700)
    inserts: list[tuple[int, int]] = []

    def record(parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            inserts.append((first, last))

    window.model.rowsInserted.connect(record)
    folder = _pairs(samples, tmp_path / "session", 56, last=LONG)
    add(qtbot, window, outside, folder, rows=56)
    names = [r.scan.path.name for r in window.model.rows()]
    long_row = names.index(LONG)
    assert len(inserts) > 1
    assert inserts[0][1] < long_row  # the long name came in a later insert than the first rows
    panel = window.file_panel
    header = panel.view.header()
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    short = max(_needs(window, r) for r in range(window.model.rowCount()) if r != long_row)
    assert _needs(window, long_row) > short + 20  # the name is much wider than the others
    assert header.sectionSize(NAME) >= _needs(window, long_row)  # and it is shown whole
    assert header.sectionSize(NAME) <= CAPS[NAME]

    # Clear, then the user narrows Name by hand: later rows, long or not, leave it be.
    press(qtbot, panel.clear_button)
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    header.resizeSection(NAME, 150)
    QApplication.processEvents()
    add(qtbot, window, outside, folder, rows=56)
    QApplication.processEvents()
    assert header.sectionSize(NAME) == 150
    assert NAME in panel.columns.user_sized
    assert header.sectionViewportPosition(STATUS) + 320 <= panel.view.viewport().width()


def test_name_narrows_again_when_the_long_row_goes(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    window.resize(1366, 700)
    folder = _pairs(samples, tmp_path / "session", 3, last=LONG)
    add(qtbot, window, outside, folder, rows=3)
    panel = window.file_panel
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    wide = panel.columns.natural[NAME]
    panel.view.setCurrentIndex(window.model.index(2, NAME))
    press(qtbot, panel.remove_button)
    assert [r.scan.path.name for r in window.model.rows()] == ["f000.emi", "f001.emi"]
    qtbot.waitUntil(lambda: panel.columns.natural[NAME] < wide)
    assert _fitted(window) == _qt_fit(window)


def test_columns_follow_a_row_whose_text_changes_and_a_bigger_font(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path
) -> None:
    window.resize(1366, 700)
    add(qtbot, window, outside, samples / "czi" / "RGB-8bit.czi", rows=1)  # names no microscope
    panel = window.file_panel
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    target = panel.columns.natural[TARGET]
    window.session.apply_microscope("Axio Observer with LSM 980 Airyscan, room 2.14")
    assert window.model.index(0, TARGET).data().startswith("Axio Observer with LSM 980")
    qtbot.waitUntil(lambda: panel.columns.natural[TARGET] > target)
    assert _fitted(window) == _qt_fit(window)

    widths = _fitted(window)
    font = panel.view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    panel.view.setFont(font)
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
    assert _fitted(window)[NAME] > widths[NAME]


def test_names_no_text_can_stand_for_are_measured_as_qt_draws_them(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    def odd(name: bytes) -> Path:
        return Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + name))

    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    # A new line, a tab, a right-to-left override, and bytes that are not UTF-8 (lone
    # surrogates in Python), last in a name too: names from files are data.
    names = (b"two\nlines, the second one longer.czi", b"tab\there.czi", b"\xe2\x80\xaert.czi")
    paths = [odd(name) for name in (*names, b"caf\xe9 latin-1.czi", b"notes\xff")]
    for path in paths:
        path.write_bytes(data if path.suffix == ".czi" else b"not microscopy")
    window.resize(1366, 700)
    add(qtbot, window, outside, *paths, rows=5)
    assert window.model.rows()[-1].scan.path.name == "notes\udcff"  # an error row, listed
    qtbot.waitUntil(lambda: _fitted(window) == _qt_fit(window))
