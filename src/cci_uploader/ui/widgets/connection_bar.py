"""Server, token and Connect, with the connection state beside them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

ERROR_RED = "#b00020"


class ConnectionBar(QWidget):
    """The connection row at the top of the window.

    The token is pasted into a password field and only ever held in memory.
    """

    connect_requested = Signal(str)
    token_page_requested = Signal()

    def __init__(self, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server_label = QLabel()
        self.get_token_button = QPushButton("&Get token")
        self.get_token_button.setToolTip("Open OMERO.web's token page in your browser")
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Paste your OMERO session token here")
        self.token_edit.setMinimumWidth(260)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setDefault(True)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.server_label)
        layout.addWidget(self.get_token_button)
        token_label = QLabel("&Token:")
        token_label.setBuddy(self.token_edit)
        layout.addWidget(token_label)
        layout.addWidget(self.token_edit, 1)
        layout.addWidget(self.connect_button)
        layout.addWidget(self.state_label, 2)

        self.get_token_button.clicked.connect(self._on_get_token_clicked)
        self.connect_button.clicked.connect(self._on_connect_clicked)
        self.token_edit.returnPressed.connect(self._on_connect_clicked)
        self.set_server(server)
        self.set_disconnected()

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [self.get_token_button, self.token_edit, self.connect_button]

    def set_server(self, server: str) -> None:
        """Show which server Connect talks to."""
        self.server_label.setText(f"Server: <b>{server}</b>")

    def set_token(self, token: str) -> None:
        """Fill the token field (the sandbox's demo token)."""
        self.token_edit.setText(token)

    def set_connecting(self) -> None:
        """Connecting in the background: the button waits."""
        self.connect_button.setEnabled(False)
        self._state("Connecting…", "#555555")

    def set_connected(self, user: str, server: str) -> None:
        """Connected: say as whom and where."""
        self.connect_button.setEnabled(True)
        self.connect_button.setText("Reconnect")
        self._state(f"● Connected as {user} on {server}", "#1b7a1b")

    def set_failed_while_connected(self, message: str, user: str) -> None:
        """A Connect failed, but the earlier session still works: an error, in red."""
        self.connect_button.setEnabled(True)
        self.connect_button.setText("Reconnect")
        self._state(f"✕ {message} Still connected as {user}.", ERROR_RED)

    def set_offline(self) -> None:
        """The server stopped answering: red, until a reconnect works."""
        self._state("✕ Connection to OMERO lost", ERROR_RED)

    def set_disconnected(self, message: str = "") -> None:
        """Not connected, with the reason when there is one."""
        self.connect_button.setEnabled(True)
        self.connect_button.setText("Connect")
        self._state(f"○ Not connected. {message}".strip(), ERROR_RED if message else "#555555")

    def set_locked(self, locked: bool) -> None:
        """While the queue runs or waits, Connect waits too (the queue holds the session)."""
        self.connect_button.setEnabled(not locked)

    def _state(self, text: str, colour: str) -> None:
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"color: {colour};")

    def _on_get_token_clicked(self) -> None:
        self.token_page_requested.emit()

    def _on_connect_clicked(self) -> None:
        if self.connect_button.isEnabled():
            self.connect_requested.emit(self.token_edit.text())
