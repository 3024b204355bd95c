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
    """Edits the connection settings and this PC's microscope; the window saves them on OK.

    Parameters
    ----------
    microscope : str
        This user's default microscope ("" when none is set here).
    facility_microscope : str
        The facility config's default, shown as the placeholder.
    fixed_connection : bool
        The training sandbox: the server and URLs cannot change.
    """

    def __init__(
        self,
        server: str,
        web_url: str,
        token_url: str,
        parent: QWidget | None = None,
        *,
        microscope: str = "",
        facility_microscope: str = "",
        fixed_connection: bool = False,
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
        self.microscope_edit = QLineEdit(microscope)
        self.microscope_edit.setPlaceholderText(
            f"{facility_microscope} (the facility's setting)"
            if facility_microscope
            else "e.g. LSM 980 (room 2.14)"
        )
        self.microscope_edit.setToolTip(
            "The OMERO Project for files whose metadata names no microscope. "
            "Leave empty to use the facility's setting."
        )
        for edit in (self.host_edit, self.web_edit, self.token_edit, self.microscope_edit):
            edit.setMinimumWidth(360)
        for widget in (self.host_edit, self.port_spin, self.web_edit, self.token_edit):
            widget.setEnabled(not fixed_connection)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QFormLayout(self)
        layout.addRow("Server:", self.host_edit)
        layout.addRow("Port:", self.port_spin)
        layout.addRow("OMERO.web URL:", self.web_edit)
        layout.addRow("Token page URL:", self.token_edit)
        note = QLabel(
            "The server and URLs are fixed in the training sandbox."
            if fixed_connection
            else "Server changes apply the next time you press Connect."
        )
        note.setStyleSheet("color: #555555;")
        layout.addRow(note)
        layout.addRow("This PC's &microscope:", self.microscope_edit)
        scope_note = QLabel(
            "For files whose metadata names no microscope; files listed but not yet "
            "uploaded follow the change."
        )
        scope_note.setWordWrap(True)
        scope_note.setStyleSheet("color: #555555;")
        layout.addRow(scope_note)
        layout.addRow(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

    def values(self) -> tuple[str, str, str]:
        """``(server, web_url, token_url)`` as entered."""
        server = join_server(self.host_edit.text(), self.port_spin.value())
        return server, self.web_edit.text().strip(), self.token_edit.text().strip()

    def microscope(self) -> str:
        """The default microscope as entered ("" for the facility's setting)."""
        return " ".join(self.microscope_edit.text().split())
