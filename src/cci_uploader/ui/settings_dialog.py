"""Settings: the server, its port, the web URL and the token page URL."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

_PORT = re.compile(r"^(?P<host>.+?):(?P<port>\d+)/?$")


def split_server(server: str) -> tuple[str, int]:
    """``"tcp://host:4063"`` -> ``("tcp://host", 4063)``; no port -> 0 (the default)."""
    match = _PORT.match(server.strip())
    if match:
        return match["host"], int(match["port"])
    return server.strip(), 0


def join_server(host: str, port: int) -> str:
    """The inverse of :func:`split_server`."""
    return f"{host.strip()}:{port}" if port else host.strip()


class SettingsDialog(QDialog):
    """Edits the connection settings; the window saves them on OK."""

    def __init__(
        self, server: str, web_url: str, token_url: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        host, port = split_server(server)
        self.host_edit = QLineEdit(host)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("default (4064)")
        self.port_spin.setValue(port)
        self.web_edit = QLineEdit(web_url)
        self.token_edit = QLineEdit(token_url)
        for edit in (self.host_edit, self.web_edit, self.token_edit):
            edit.setMinimumWidth(360)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QFormLayout(self)
        layout.addRow("Server:", self.host_edit)
        layout.addRow("Port:", self.port_spin)
        layout.addRow("OMERO.web URL:", self.web_edit)
        layout.addRow("Token page URL:", self.token_edit)
        note = QLabel("Changes apply the next time you press Connect.")
        note.setStyleSheet("color: #555555;")
        layout.addRow(note)
        layout.addRow(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

    def values(self) -> tuple[str, str, str]:
        """``(server, web_url, token_url)`` as entered."""
        server = join_server(self.host_edit.text(), self.port_spin.value())
        return server, self.web_edit.text().strip(), self.token_edit.text().strip()
