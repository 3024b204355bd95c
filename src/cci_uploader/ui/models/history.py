"""The upload history as a table model: one row per upload record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from cci_uploader.progress import human_bytes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.stewardship.history import Upload

COLUMNS = (
    "Uploaded",
    "Status",
    "File",
    "Size",
    "Converted",
    "Group",
    "Project / Dataset",
    "Images",
    "Local copy",
)
UPLOAD_ROLE = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


def _cell(upload: Upload, column: int) -> str:
    match COLUMNS[column]:
        case "Uploaded":
            return f"{upload.time.astimezone():%Y-%m-%d %H:%M}"
        case "Status":
            return upload.status
        case "File":
            return ", ".join(s.path.name for s in upload.sources)
        case "Size":
            return human_bytes(upload.size)
        case "Converted":
            return "yes" if upload.converted else "no"
        case "Group":
            return upload.omero_group
        case "Project / Dataset":
            return f"{upload.project} / {upload.dataset}"
        case "Images":
            return ", ".join(map(str, upload.image_ids))
        case _:
            return f"removed {upload.removed.astimezone():%Y-%m-%d}" if upload.removed else ""


class HistoryModel(QAbstractTableModel):
    """Rows of :class:`~cci_uploader.stewardship.history.Upload`, newest first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Upload] = []

    def set_uploads(self, uploads: Sequence[Upload]) -> None:
        """Show these uploads, newest first."""
        self.beginResetModel()
        self._rows = sorted(uploads, key=lambda u: (u.time, u.id), reverse=True)
        self.endResetModel()

    def uploads(self) -> list[Upload]:
        """The uploads shown, in row order."""
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Number of uploads shown (a table: no children)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text of a cell; the record itself under ``UPLOAD_ROLE``."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        upload = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(upload, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(str(s.path) for s in upload.sources)
        if role == UPLOAD_ROLE:
            return upload
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None
