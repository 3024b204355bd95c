"""Overall progress in the status bar: file N of M, bytes, throughput, time left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from cci_uploader.ui.widgets.ignored_files import IgnoredFilesButton

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.progress import ProgressMeter
    from cci_uploader.scan import Ignored


class StatusLine(QWidget):
    """A bar and a line of text fed from a :class:`ProgressMeter`, and a note beside them."""

    def __init__(self, meter: ProgressMeter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meter = meter
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(220)
        self.label = QLabel("Nothing uploading.")
        # A long sentence is cut on screen rather than widening the window; hover shows it.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(200)
        self.note = QLabel()
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.setStyleSheet("color: #8a4b00;")
        self.ignored_button = IgnoredFilesButton()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.ignored_button)
        layout.addWidget(self.bar)

    def refresh(self) -> None:
        """Show the meter's current figures."""
        total = self.meter.total
        self.bar.setValue(self.meter.done * 1000 // total if total else 0)
        self._say(self.meter.describe())

    def show_text(self, text: str) -> None:
        """Replace the figures with a sentence (the run's outcome)."""
        self._say(text)

    def set_ignored(self, ignored: Sequence[Ignored]) -> None:
        """The files the scans so far left out, behind the button beside the figures."""
        self.ignored_button.set_ignored(ignored)

    def _say(self, text: str) -> None:
        self.label.setText(text)
        self.label.setToolTip(text)

    def show_note(self, text: str) -> None:
        """A remark that stays beside the figures (a pair added on Import)."""
        self.note.setText(text)
        self.note.setToolTip(text)
