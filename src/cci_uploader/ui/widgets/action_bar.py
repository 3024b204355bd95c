"""Import, Cancel and Retry failed."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

Waiting = Literal["offline", "token"]
WAITING: dict[Waiting, str] = {
    "offline": "Paused: the connection to OMERO was lost. Press Reconnect above the list.",
    "token": "Paused: the queue continues once you give a new token.",
}


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
        self.show_state(
            waiting=None,
            running=False,
            connected=False,
            scanning=False,
            has_rows=False,
            can_import=False,
            can_retry=False,
        )

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [self.retry_button, self.cancel_button, self.import_button]

    def show_state(
        self,
        *,
        waiting: Waiting | None,
        running: bool,
        connected: bool,
        scanning: bool,
        has_rows: bool,
        can_import: bool,
        can_retry: bool,
    ) -> None:
        """Enable what makes sense now, and say what to do next.

        Parameters
        ----------
        waiting : {"offline", "token"}, optional
            Why the queue waits, if it does: the lost connection or a new token.
        running : bool
            The queue runs: only Cancel is offered.
        connected, scanning, has_rows : bool
            What the hint tells the user to do next.
        can_import, can_retry : bool
            Whether there is something to import, or to try again.
        """
        busy = running or waiting is not None
        self.import_button.setEnabled(can_import and not busy)
        self.cancel_button.setEnabled(running)
        self.retry_button.setEnabled(can_retry and not busy)
        if waiting is not None:
            hint = WAITING[waiting]
        elif running:
            hint = "Uploading… you can keep working; Cancel stops after the current chunk."
        elif not connected:
            hint = "Connect first: paste your token and press Connect."
        elif scanning:
            hint = "Reading the files…"
        elif not has_rows:
            hint = "Add files or a folder, or drop them on this window."
        else:
            hint = "Press Import to upload every file listed."
        self.hint.setText(hint)

    def set_stopping(self) -> None:
        """Cancel was pressed: it is not offered again while the current chunk ends."""
        self.cancel_button.setEnabled(False)
