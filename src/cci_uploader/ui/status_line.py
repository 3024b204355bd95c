"""Overall progress in the status bar: bytes, throughput, time left."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from cci_uploader.ui.progress import ProgressMeter


class StatusLine(QWidget):
    """A bar and a line of text fed from a :class:`ProgressMeter`."""

    def __init__(self, meter: ProgressMeter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meter = meter
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(220)
        self.label = QLabel("Nothing uploading.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)

    def refresh(self) -> None:
        """Show the meter's current figures."""
        total = self.meter.total
        self.bar.setValue(self.meter.done * 1000 // total if total else 0)
        self.label.setText(self.meter.describe())

    def show_text(self, text: str) -> None:
        """Replace the figures with a sentence (the run's outcome)."""
        self.label.setText(text)
