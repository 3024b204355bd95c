"""Add folder says how many files were ignored as not microscopy data, and lists them."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from uihelpers import Outside, add

from cci_uploader.ui.main_window import MainWindow


def test_add_folder_counts_and_lists_what_it_ignored(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copyfile(samples / "czi/tiles_z.czi", folder / "tiles_z.czi")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not microscopy")
    (folder / "map.map").write_bytes(b"map")
    (folder / "other.map").write_bytes(b"map")
    add(qtbot, window, outside, folder, rows=1)

    line = window.status_line
    qtbot.waitUntil(lambda: "ignored" in line.label.text())
    assert line.label.text() == (
        "1 file(s) added; 3 ignored (not microscopy data: 2 .map, 1 .docx)."
    )
    button = line.ignored_button
    assert button.isVisible() and button.text() == "Show ignored (3)…"
    listing = button.listing().splitlines()
    assert sorted(listing) == sorted(
        [
            f"{folder / 'map.map'}  (.map)",
            f"{folder / 'other.map'}  (.map)",
            f"{folder / 'notes.docx'}  (.docx)",
        ]
    )
    button.click()
    qtbot.waitUntil(lambda: _open_box(window) is not None)
    box = _open_box(window)
    assert box is not None
    assert box.detailedText() == button.listing()
    box.close()

    # A folder with nothing to ignore hides the button again.
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copyfile(samples / "czi/RGB-8bit.czi", clean / "RGB-8bit.czi")
    add(qtbot, window, outside, clean, rows=2)
    qtbot.waitUntil(lambda: not button.isVisible())
    assert line.label.text() == "1 file(s) added."


def _open_box(window: MainWindow) -> QMessageBox | None:
    """The message box the button opened, among the window's children."""
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[0] if boxes else None
