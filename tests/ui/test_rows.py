"""The file list: removing rows, readable status, following the queue, honest progress."""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from cci_uploader.pipeline import Status
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import NAME, STATUS, TARGET
from cci_uploader.ui.widgets.file_panel import STATUS_MIN
from tests.ui.uihelpers import (
    CZI,
    WAIT_MS,
    Copies,
    Outside,
    Ready,
    add,
    connect,
    press,
    run_to_end,
    statuses,
)


def _names(window: MainWindow) -> list[str]:
    return [r.scan.path.name for r in window.model.rows()]


def test_rows_are_removed_with_delete_the_context_menu_and_the_button(
    qtbot: QtBot,
    window: MainWindow,
    outside: Outside,
    czi_copies: Copies,
) -> None:
    add(qtbot, window, outside, *czi_copies(5), rows=5)
    panel = window.file_panel
    view = panel.view
    assert not panel.remove_button.isEnabled()  # nothing selected yet

    view.setFocus()
    view.setCurrentIndex(window.model.index(1, NAME))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert _names(window) == ["copy00.czi", "copy02.czi", "copy03.czi", "copy04.czi"]

    rect = view.visualRect(window.model.index(2, NAME))
    panel._on_context_menu_requested(rect.center())  # what a right-click opens
    menu = panel.menu
    assert isinstance(menu, QMenu)
    [remove] = menu.actions()
    assert remove.text() == "Remove from the list"
    remove.trigger()
    menu.close()
    assert _names(window) == ["copy00.czi", "copy02.czi", "copy04.czi"]

    view.setCurrentIndex(window.model.index(0, NAME))
    assert panel.remove_button.isEnabled()
    press(qtbot, panel.remove_button)
    assert _names(window) == ["copy02.czi", "copy04.czi"]
    assert "1 file(s) removed" in window.status_line.label.text()
    press(qtbot, panel.clear_button)  # Clear stays
    assert window.model.rowCount() == 0


def test_removed_rows_are_not_uploaded_and_rows_cannot_go_while_uploading(
    qtbot: QtBot,
    window: MainWindow,
    sandbox: SandboxServer,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    ready(window, *czi_copies(3, pad=8 * 1024 * 1024), rows=3)
    window.file_panel.view.setCurrentIndex(window.model.index(1, NAME))
    press(qtbot, window.file_panel.remove_button)
    press(qtbot, window.action_bar.import_button)
    assert not window.file_panel.remove_button.isEnabled()  # not while uploading
    window.file_panel.view.setCurrentIndex(window.model.index(0, NAME))
    qtbot.keyClick(window.file_panel.view, Qt.Key.Key_Delete)
    assert window.model.rowCount() == 2
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["copy00.czi", "copy02.czi"]


def test_status_leads_with_the_cause_and_keeps_its_room_at_1366(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    window.showNormal()
    window.resize(1366, 700)
    readme = tmp_path / "README.md"
    readme.write_text("not microscopy")
    add(qtbot, window, outside, samples / "czi", rows=5)
    add(qtbot, window, outside, readme, rows=6)
    qtbot.waitUntil(lambda: window.file_panel.view.viewport().width() > 1200)
    view = window.file_panel.view
    header = view.header()
    index = window.model.index(5, STATUS)
    text = index.data()
    assert text.startswith("Error: not a supported microscope file")  # no "README.md is …"
    room = view.viewport().width() - header.sectionViewportPosition(STATUS)
    assert room >= STATUS_MIN
    shown = view.fontMetrics().horizontalAdvance("Error: not a supported microscope file")
    assert room > shown  # the cause is readable without hovering
    assert "not a supported microscope file" in index.data(Qt.ItemDataRole.ToolTipRole)
    view.setCurrentIndex(window.model.index(5, NAME))
    assert "so it is not uploaded" in window.file_panel.details.text()  # the full message
    # Narrower: Target gives way first, and Status keeps its room.
    natural = window.file_panel._natural[TARGET]
    window.resize(1180, 700)
    qtbot.waitUntil(lambda: view.viewport().width() < 1180)
    assert header.sectionSize(TARGET) < natural
    assert view.viewport().width() - header.sectionViewportPosition(STATUS) >= STATUS_MIN
    # What the user sets by hand stays.
    before = header.sectionSize(NAME)
    header.resizeSection(NAME, before + 50)
    window.resize(1200, 700)
    QApplication.processEvents()
    assert header.sectionSize(NAME) == before + 50  # what the user set stays


def test_progress_says_file_n_of_m_follows_the_active_row_and_stop_says_stopped(
    qtbot: QtBot,
    window: MainWindow,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    window.showNormal()
    window.resize(900, 560)  # a short list: later rows start below the fold
    paths = czi_copies(24, pad=2 * 1024 * 1024)
    ready(window, *paths, rows=24)
    view = window.file_panel.view
    last = window.model.index(23, NAME)
    assert not view.viewport().rect().intersects(view.visualRect(last))
    totals: list[int] = []
    lines: list[str] = []
    window.model.dataChanged.connect(
        lambda *_: (
            totals.append(window.meter.total),
            lines.append(window.status_line.label.text()),
        )
    )
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: window.model.rows()[20].status is Status.UPLOADING, timeout=WAIT_MS)
    row = window.model.index(20, NAME)
    assert view.viewport().rect().intersects(view.visualRect(row))  # it scrolled along
    # The user scrolls to the top: the list stops following.
    view.verticalScrollBar().triggerAction(view.verticalScrollBar().SliderAction.SliderToMinimum)
    qtbot.waitUntil(lambda: view.verticalScrollBar().value() == 0)
    qtbot.waitUntil(lambda: window.model.rows()[21].status is Status.UPLOADING, timeout=WAIT_MS)
    assert view.verticalScrollBar().value() == 0
    press(qtbot, window.action_bar.cancel_button)
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    assert all(b >= a for a, b in itertools.pairwise(totals))  # never shrinks
    assert any("File 21 of 24" in line for line in lines)
    assert not any("0 s left" in line for line in lines)  # stopped before the end
    assert window.status_line.label.text().startswith("Stopped: ")


def test_a_finished_run_says_done_and_reaches_the_total(
    qtbot: QtBot,
    window: MainWindow,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    ready(window, *czi_copies(2), rows=2)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED] * 2
    assert window.meter.done == window.meter.total
    assert window.status_line.bar.value() == 1000
    assert window.status_line.label.text().startswith("Done: 2 uploaded")


def test_rows_appear_as_each_folder_is_read_with_a_count(
    qtbot: QtBot, window: MainWindow, samples: Path
) -> None:
    seen: list[tuple[int, str]] = []
    window.model.rowsInserted.connect(
        lambda *_: seen.append((window.model.rowCount(), window.status_line.label.text()))
    )
    window.session.add_paths([samples / "czi", samples / "emd", samples / "tia"])
    qtbot.waitUntil(lambda: not window.session.scanning)
    counts = [count for count, _ in seen]
    assert len(counts) == 3 and counts == sorted(counts)  # three batches, growing
    files = counts[-1] + 2  # the two .ser companions of tia/ are files too
    assert window.status_line.label.text() == (
        f"{files} files added, as {counts[-1]} rows (companions under their file)."
    )
    # While reading, the status bar counts the files found so far.
    assert [text for _, text in seen[1:]] == [
        f"Reading… {n} file(s) found so far." for n in counts[:2]
    ]


def test_existing_values_are_refreshed_after_an_upload(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, token: str
) -> None:
    connect(qtbot, window, token)
    editor = window.pairs_editor
    qtbot.waitUntil(lambda: "No values used for Sample" in editor.values_note.text())
    add(qtbot, window, outside, samples / CZI, rows=1)
    editor.value_combo.setEditText("Mouse 99")
    press(qtbot, editor.add_button)
    run_to_end(qtbot, window, window.action_bar.import_button)
    qtbot.waitUntil(lambda: "1 value(s) already used for Sample" in editor.values_note.text())
    assert editor.value_combo.findText("Mouse 99") >= 0


def test_the_summary_counts_files_not_rows(qtbot: QtBot, window: MainWindow, samples: Path) -> None:
    window.session.add_paths([samples / "tia"])  # two EMI+SER pairs: four files, two rows
    qtbot.waitUntil(lambda: not window.session.scanning)
    assert window.model.rowCount() == 2
    assert window.status_line.label.text() == (
        "4 files added, as 2 rows (companions under their file)."
    )
