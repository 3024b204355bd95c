"""Import, Cancel and Retry failed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class ActionBar(QWidget):
    """The buttons that start, stop and repeat the queue."""

    import_requested = Signal()
    cancel_requested = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.import_button = QPushButton("&Import")
        self.import_button.setStyleSheet("font-weight: bold; padding: 4px 18px;")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setToolTip(
            "Stop after the current chunk; the file being uploaded is not imported"
        )
        self.retry_button = QPushButton("&Retry failed")
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #555555;")
        self.hint.setWordWrap(True)  # a long hint never widens the window
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.import_button)
        self.import_button.clicked.connect(self.import_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        self.set_state(running=False, can_import=False, can_retry=False, hint="")

    def set_state(self, running: bool, can_import: bool, can_retry: bool, hint: str) -> None:
        """Enable what makes sense now, and say what to do next."""
        self.import_button.setEnabled(can_import and not running)
        self.cancel_button.setEnabled(running)
        self.retry_button.setEnabled(can_retry and not running)
        self.hint.setText(hint)
