"""The real window against the in-process stand-in, with isolated QSettings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from cci_uploader.config import Config
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.gc_guard import MainThreadGC
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.settings import AppSettings
from tests.ui.uihelpers import CZI, WEB_URL, Copies, Outside, Ready, add, connect


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """As in the app: garbage is collected on the GUI thread only (see ui/gc_guard.py)."""
    collector = MainThreadGC()
    yield
    collector.stop()


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings(tmp_path / "qsettings" / "gui.ini")


@pytest.fixture
def outside() -> Outside:
    return Outside()


@pytest.fixture
def czi_copies(samples: Path, tmp_path: Path) -> Copies:
    """Distinct CZI files (the sample with different trailing bytes each), in ``folder``."""

    def make(count: int, pad: int = 1, folder: Path | None = None) -> list[Path]:
        folder = folder or tmp_path
        data = (samples / CZI).read_bytes()
        paths = []
        for n in range(count):
            path = folder / f"copy{n:02d}.czi"
            path.write_bytes(data + bytes([n]) * pad)
            paths.append(path)
        return paths

    return make


@pytest.fixture
def ready(qtbot: QtBot, outside: Outside, token: str) -> Ready:
    """Connect ``window`` with the test's token, then add ``paths`` and wait for ``rows`` rows."""

    def prepare(window: MainWindow, *paths: Path, rows: int) -> None:
        connect(qtbot, window, token)
        add(qtbot, window, outside, *paths, rows=rows)

    return prepare


@pytest.fixture
def make_window(
    qtbot: QtBot, sandbox: SandboxServer, settings: AppSettings, outside: Outside, tmp_path: Path
) -> Iterator[Callable[..., MainWindow]]:
    windows: list[MainWindow] = []

    def history(_: QWidget) -> None:
        outside.history_shown += 1

    def settle(window: MainWindow) -> None:
        # A queue that is still finishing (its last row green a moment before it
        # ends) would make closing ask "Stop uploading?" and wait for an answer.
        window.session.shutdown()
        with contextlib.suppress(qtbot.TimeoutError):
            qtbot.waitUntil(lambda: not window.session.running, timeout=10_000)

    def make(
        sandbox_token: str | None = None, server: str | None = None, **extra: Any
    ) -> MainWindow:
        config = Config(
            server=server or sandbox.address, web_url=WEB_URL, keys=("Sample", "Operator")
        )
        window = MainWindow(
            config,
            settings,
            tmp_path / "logs" / "cci-uploader.log",
            sandbox_token=sandbox_token,
            open_url=outside.urls.append,
            choose_files=lambda _: list(outside.files),
            choose_folder=lambda _: list(outside.folder),
            show_history=history,
            **extra,
        )
        qtbot.addWidget(window, before_close_func=settle)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:  # workers must end before the stand-in stops
        window.session.shutdown()


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()
