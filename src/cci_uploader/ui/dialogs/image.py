"""What the training sandbox holds for one image, shown where OMERO.web would be."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from cci_uploader.training import ImageRecord


class ImageDialog(QDialog):
    """Project / Dataset, files, pairs and tags of one image (no OMERO.web in the sandbox)."""

    def __init__(self, record: ImageRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Image {record.image_id} in the training sandbox")
        self.record = record

        def items(values: tuple[str, ...]) -> str:
            return "".join(f"<li>{html.escape(v)}</li>" for v in values) or "<li>none</li>"

        pairs = tuple(f"{k} = {v}" for k, v in record.pairs)
        self.text = QLabel(
            f"<p><b>{html.escape(record.name)}</b> (image {record.image_id})</p>"
            f"<p>Project / Dataset: <b>{html.escape(record.project)} / "
            f"{html.escape(record.dataset)}</b></p>"
            f"<p>Files on the server:</p><ul>{items(record.files)}</ul>"
            f"<p>Key-value pairs:</p><ul>{items(pairs)}</ul>"
            f"<p>Tags:</p><ul>{items(record.tags)}</ul>"
            "<p style='color:#555555'>Against your facility's server, double-click opens "
            "the image in OMERO.web instead.</p>"
        )
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
