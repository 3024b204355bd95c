"""About: the version, and diagnostics to paste into a support request."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from cci_uploader import __version__

if TYPE_CHECKING:
    from pathlib import Path


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def diagnostics(log_path: Path, server: str) -> str:
    """Versions, the server address and the log path; never a token."""
    lines = [
        f"CCI OMERO Uploader {__version__}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        f"PySide6 {PySide6.__version__}, Qt {qVersion()}",
        f"omero-py {_version('omero-py')}, zeroc-ice {_version('zeroc-ice')}",
        f"Server: {server}",
        f"Log file: {log_path}",
    ]
    return "\n".join(lines)


class AboutDialog(QDialog):
    """Shows the version; Copy diagnostics puts :func:`diagnostics` on the clipboard."""

    def __init__(self, log_path: Path, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About CCI OMERO Uploader")
        self._text = diagnostics(log_path, server)
        title = QLabel(f"<h3>CCI OMERO Uploader {__version__}</h3>")
        body = QLabel("Moves microscopy data from this computer into the facility's OMERO server.")
        body.setWordWrap(True)
        details = QLabel(self._text)
        details.setStyleSheet("color: #444444;")
        self.copy_button = QPushButton("Copy diagnostics")
        self.copied = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        for widget in (title, body, details, self.copy_button, self.copied, buttons):
            layout.addWidget(widget)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        buttons.rejected.connect(self.reject)

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self._text)
        self.copied.setText("Copied. Paste it into your message to the facility.")
