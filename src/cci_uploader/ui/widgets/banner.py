"""The training-sandbox banner across the top of the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

SANDBOX_TEXT = "Training sandbox: nothing leaves this computer"


class SandboxBanner(QLabel):
    """A coloured strip that says the server is the local stand-in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(SANDBOX_TEXT, parent)
        self.setObjectName("sandboxBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#sandboxBanner { background: #1f4e79; color: white; font-weight: bold;"
            " padding: 6px; }"
        )
