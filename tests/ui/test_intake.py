"""Adding folders: rows appear as they are read, and what was ignored is counted and listed."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cci_uploader.ui.main_window import MainWindow
from tests.ui.uihelpers import Outside, add


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


def test_rows_of_a_big_folder_appear_in_batches_with_a_running_count(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    emi = (samples / "tia/64x64_TEM_images_acquire.emi").read_bytes()
    ser = (samples / "tia/64x64_TEM_images_acquire_1.ser").read_bytes()
    for n in range(120):  # EMI+SER pairs: each .ser must end up under its .emi
        (folder / f"run{n:03d}.emi").write_bytes(emi)
        (folder / f"run{n:03d}_1.ser").write_bytes(ser)
    inserts: list[int] = []
    texts: list[str] = []
    window.model.rowsInserted.connect(lambda *_: inserts.append(window.model.rowCount()))
    original = window.status_line.show_text

    def spy(text: str) -> None:
        texts.append(text)
        original(text)

    window.status_line.show_text = spy  # type: ignore[method-assign]
    add(qtbot, window, outside, folder, rows=120)

    assert len(inserts) >= 3, inserts  # batches, not one insert at the end
    assert inserts[0] < 120
    assert any(t.startswith("Reading… ") and "found so far" in t for t in texts), texts
    assert texts[-1] == "240 files added, as 120 rows (companions under their file)."
    rows = window.model.rows()
    assert all(len(r.scan.companions) == 1 for r in rows)
