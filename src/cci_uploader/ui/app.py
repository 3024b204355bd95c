"""Start the window: the Qt application, the workspace, the first paint."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from cci_uploader.config import Config, ConfigError, load_config
from cci_uploader.ui.gc_guard import MainThreadGC
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.settings import AppSettings
from cci_uploader.workspace import Workspace, throwaway_workspace, user_workspace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from pathlib import Path

    from cci_uploader.training import Training

log = logging.getLogger(__name__)


class FirstPaint(QObject):
    """Logs how long the window took to paint for the first time."""

    def __init__(self, started: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.started = started
        self.elapsed_ms: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note the first paint event, then stop watching."""
        if event.type() == QEvent.Type.Paint and self.elapsed_ms is None:
            self.elapsed_ms = (time.perf_counter() - self.started) * 1000
            log.info("first paint %.0f ms after the gui command started", self.elapsed_ms)
            watched.removeEventFilter(self)
        return False


def build_window(
    config: Config,
    settings: AppSettings,
    log_path: Path,
    training: Training | None,
    workspace: Workspace | None = None,
) -> MainWindow:
    """The main window, pointed at the training sandbox when one runs."""
    if training is None:
        return MainWindow(settings.apply_overrides(config), settings, log_path, workspace=workspace)
    return MainWindow(
        dataclasses.replace(config, server=training.address),
        settings,
        log_path,
        sandbox_token=training.token,
        inspect_image=training.inspect,
        workspace=workspace,
    )


def qt_platform() -> str:
    """The Qt platform the window would open on (the self-test's check that Qt loads)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    return app.platformName()


def _workspace(sandbox: bool) -> contextlib.AbstractContextManager[Workspace]:
    """The training sandbox's own throwaway workspace, or the user's."""
    return throwaway_workspace() if sandbox else contextlib.nullcontext(user_workspace())


def run(
    training: Callable[[], AbstractContextManager[Training]] | None,
    log_path: Path,
    started: float,
) -> int:
    """Show the window until it is closed; return the exit code.

    ``training`` starts the training sandbox (the CLI's ``gui --sandbox`` passes
    :func:`cci_uploader.cli.sandbox.training`); None opens the window on the
    facility's server.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("CCI OMERO Uploader")
    try:
        config = load_config()
    except ConfigError as exc:
        QMessageBox.critical(None, "The facility config has an error", str(exc))
        return 1
    collector = MainThreadGC()
    try:
        sandbox = training() if training is not None else contextlib.nullcontext(None)
        with _workspace(training is not None) as workspace, sandbox as server:
            # In the sandbox: settings, history and cache of its own, gone when it ends.
            settings = AppSettings(workspace.settings_path)
            window = build_window(config, settings, log_path, server, workspace)
            probe = FirstPaint(started, window)
            window.installEventFilter(probe)
            window.show()
            return app.exec()
    finally:
        collector.stop()
