"""The one message shown when the server went away mid-queue, with Reconnect."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class PauseBanner(QFrame):
    """A red strip above the file list: what happened, Reconnect, Stop the queue.

    Hidden until :meth:`show_paused`; the window hides it again once the
    queue runs or stops.
    """

    reconnect_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pauseBanner")
        self.setStyleSheet(
            "QFrame#pauseBanner { background: #fde3e3; border: 1px solid #b00020;"
            " border-radius: 4px; } QFrame#pauseBanner QLabel { color: #5a0010; }"
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reconnect_button = QPushButton("Reco&nnect")
        self.reconnect_button.setStyleSheet("font-weight: bold;")
        self.stop_button = QPushButton("Stop the queue")
        self.stop_button.setToolTip("Leave the files not yet uploaded in the list, to send later")
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.reconnect_button)
        layout.addWidget(self.stop_button)
        self.reconnect_button.clicked.connect(self._on_reconnect_clicked)
        self.stop_button.clicked.connect(self.stop_requested)
        self.hide()

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [self.reconnect_button, self.stop_button]

    def show_paused(self, message: str) -> None:
        """Say why the queue waits; Reconnect is ready."""
        self.message.setText(message)
        self.reconnect_button.setEnabled(True)
        self.reconnect_button.setText("Reco&nnect")
        self.stop_button.setEnabled(True)
        self.show()

    def show_trying(self) -> None:
        """A reconnect is under way."""
        self.reconnect_button.setEnabled(False)
        self.reconnect_button.setText("Reconnecting…")
        self.stop_button.setEnabled(False)

    def _on_reconnect_clicked(self) -> None:
        self.reconnect_requested.emit()
