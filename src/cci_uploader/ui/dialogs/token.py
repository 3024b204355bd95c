"""Asks for a fresh token when the session expires in the middle of a queue."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class TokenDialog(QDialog):
    """Explains the pause and takes a new token; the queue resumes on Continue."""

    token_page_requested = Signal()

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your OMERO session has expired")
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.get_token_button = QPushButton("Get token")
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Paste a new token here")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.continue_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.continue_button.setText("Continue the queue")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Not now")

        row = QHBoxLayout()
        row.addWidget(self.get_token_button)
        row.addWidget(self.token_edit, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

        self.get_token_button.clicked.connect(self.token_page_requested)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def token(self) -> str:
        """The pasted token."""
        return self.token_edit.text().strip()
