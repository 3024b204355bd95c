"""Helpers for driving the window as a user would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cci_uploader.pipeline import Status
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import STATUS_ROLE

WEB_URL = "https://omero.example.org/webclient/"
CZI = "czi/tiles_z.czi"
WAIT_MS = 120_000


@dataclass
class Outside:
    """What the window asked of the world outside: URLs opened, dialogs answered."""

    urls: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    folder: list[Path] = field(default_factory=list)
    history_shown: int = 0


class Copies(Protocol):
    """The ``czi_copies`` fixture."""

    def __call__(self, count: int, pad: int = 1, folder: Path | None = None) -> list[Path]: ...


class Ready(Protocol):
    """The ``ready`` fixture."""

    def __call__(self, window: MainWindow, *paths: Path, rows: int) -> None: ...


def connect(qtbot: QtBot, window: MainWindow, token: str) -> None:
    """Type the token and press Connect; wait until connected."""
    window.connection_bar.token_edit.setText(token)
    qtbot.mouseClick(window.connection_bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected as" in window.connection_bar.state_label.text())
    qtbot.waitUntil(lambda: not window.session.tasks.busy)


def add(qtbot: QtBot, window: MainWindow, outside: Outside, *paths: Path, rows: int) -> None:
    """Add files (or one folder) with the buttons; wait for the scan."""
    if len(paths) == 1 and paths[0].is_dir():
        outside.folder[:] = paths
        qtbot.mouseClick(window.file_panel.add_folder_button, Qt.MouseButton.LeftButton)
    else:
        outside.files[:] = paths
        qtbot.mouseClick(window.file_panel.add_files_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.scanning == 0 and window.model.rowCount() == rows)


def statuses(window: MainWindow) -> list[Status]:
    model = window.model
    return [Status(model.index(r, 0).data(STATUS_ROLE)) for r in range(model.rowCount())]


def press(qtbot: QtBot, button: Any) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def run_to_end(qtbot: QtBot, window: MainWindow, button: Any, timeout: int = WAIT_MS) -> None:
    """Press Import (or Retry failed) and wait until the queue has finished."""
    press(qtbot, button)
    assert window.session.running
    qtbot.waitUntil(lambda: not window.session.running, timeout=timeout)
    qtbot.waitUntil(lambda: not window.session.tasks.busy)
