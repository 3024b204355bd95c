"""The files a folder scan left out, one click away from the status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.scan import Ignored


class IgnoredFilesButton(QPushButton):
    """``Show ignored (N)``: lists the files left out of the last folders added, with why.

    Hidden while nothing was ignored.  The list is the scan's own
    (:attr:`cci_uploader.scan.ScanResult.ignored`).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ignored: tuple[Ignored, ...] = ()
        self.setFlat(True)
        self.setToolTip("Files in the chosen folders that are not microscopy data")
        self.clicked.connect(self._on_clicked)
        self.setVisible(False)

    def set_ignored(self, ignored: Sequence[Ignored]) -> None:
        """Show ``ignored`` (or hide the button when there are none)."""
        self.ignored = tuple(ignored)
        self.setText(f"Show ignored ({len(self.ignored)})…")
        self.setVisible(bool(self.ignored))

    def listing(self) -> str:
        """One line per ignored file: its path and why it was left out."""
        return "\n".join(f"{i.path}  ({i.reason})" for i in self.ignored)

    def _on_clicked(self) -> None:
        box = QMessageBox(self.window())
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Files not added")
        count = len(self.ignored)
        box.setText(
            f"{count} file{'s' if count != 1 else ''} in the chosen folders "
            f"{'are' if count != 1 else 'is'} not microscopy data, so "
            f"{'they were' if count != 1 else 'it was'} not added. "
            "Nothing was changed on disk."
        )
        box.setDetailedText(self.listing())
        box.open()
