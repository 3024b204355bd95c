"""Files coming into the list: scanned in the background, shown as they are read."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from cci_uploader.scan import Ignored, ignored_summary
from cci_uploader.ui.workers import jobs
from cci_uploader.ui.workers.tasks import generate_in_background

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from cci_uploader.config import Config
    from cci_uploader.plan import PlannedFile
    from cci_uploader.ui.models.files import FileModel
    from cci_uploader.ui.widgets.status_line import StatusLine


class FileIntake(QObject):
    """Scans chosen files and folders off the GUI thread and adds their rows.

    Parameters
    ----------
    model : FileModel
        Where the rows go.
    status_line : StatusLine
        Counts the files found while reading.
    config : callable
        The config at the time of scanning (this PC's microscope may change).
    explain : callable
        Turns a failure into a message.
    """

    changed = Signal()  # scanning started or ended: the buttons may change

    def __init__(
        self,
        *,
        model: FileModel,
        status_line: StatusLine,
        config: Callable[[], Config],
        explain: Callable[[BaseException], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._model, self._status_line = model, status_line
        self._config, self._explain = config, explain
        self.scanning = 0
        self._found = self._files = 0
        self._ignored: list[Ignored] = []
        self._workers: set[object] = set()

    def add_paths(self, paths: list[Path]) -> None:
        """Scan ``paths`` in the background; rows appear as each item is read."""
        self.scanning += 1
        self._found = self._files = 0
        self._ignored = []
        self._status_line.show_text(f"Reading {len(paths)} item(s)…")
        self.changed.emit()
        worker = generate_in_background(
            jobs.scan_each,
            paths,
            self._config(),
            on_yield=self._on_scanned,
            on_done=self._on_scan_done,
            on_error=self._on_scan_failed,
        )
        # Held until it ends: its signals must outlive this call.
        self._workers.add(worker)
        worker.finished.connect(functools.partial(self._workers.discard, worker))

    def _on_scanned(self, found: tuple[list[tuple[PlannedFile, int]], list[Ignored]]) -> None:
        files, ignored = found
        self._ignored.extend(ignored)
        rows = self._model.add(files)
        self._found += len(rows)
        # Files, not rows: a companion (.ser, .xml) is a file of its own.
        self._files += sum(1 + len(row.scan.companions) for row in rows)
        self._status_line.show_text(f"Reading… {self._found} file(s) found so far.")

    def _on_scan_done(self, _: object) -> None:
        self.scanning -= 1
        text = f"{self._files} file(s) added."
        if self._files != self._found:
            text = (
                f"{self._files} files added, as {self._found} rows (companions under their file)."
            )
        if self._ignored:
            # The facility's rule: only microscopy data goes up; say what was left out.
            text = f"{text[:-1]}; {ignored_summary(self._ignored)}."
        self._status_line.show_text(text)
        self._status_line.set_ignored(self._ignored)
        self.changed.emit()

    def _on_scan_failed(self, exc: BaseException) -> None:
        self.scanning -= 1
        self._status_line.show_text(self._explain(exc))
        self.changed.emit()
