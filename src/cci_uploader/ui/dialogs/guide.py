"""The user guide, rendered in a window of its own (not a raw Markdown file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from pathlib import Path


class GuideWindow(QDialog):
    """Shows ``docs/user-guide.md`` with its screenshots; links to the web open the browser."""

    def __init__(self, guide: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("CCI OMERO Uploader: user guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_anchor_clicked)
        self.browser.setSearchPaths([str(guide.parent)])
        self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(guide.parent) + "/"))
        try:
            self.browser.setMarkdown(guide.read_text(encoding="utf-8"))
        except OSError as exc:
            self.browser.setPlainText(
                f"The user guide could not be opened ({exc.strerror}): {guide}. "
                "Reinstalling the app puts it back."
            )
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        screen = self.screen().availableGeometry()
        self.resize(min(900, screen.width() * 9 // 10), min(1000, screen.height() * 9 // 10))

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)
        elif url.hasFragment():
            self.browser.scrollToAnchor(url.fragment())
