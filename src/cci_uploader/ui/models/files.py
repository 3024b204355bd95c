"""The file tree's item model: one row per planned file, its companions as children.

An adapter over the core: a row holds the :class:`PlannedFile` and the latest
:class:`FileState` the queue reported, and nothing of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from cci_uploader.config import UNKNOWN_MICROSCOPE, Config
from cci_uploader.formats import format_label
from cci_uploader.pipeline import EntryChanged, FileState, Status
from cci_uploader.pipeline.state import initial_state
from cci_uploader.plan import MicroscopeSource, PlannedFile, remap
from cci_uploader.progress import human_bytes
from cci_uploader.scan import UNSUPPORTED, ScanEntry

if TYPE_CHECKING:
    from pathlib import Path

Index = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Name",
    "Format",
    "Size",
    "Microscope",
    "Acquired",
    "Target (Project / Dataset)",
    "Progress",
    "Status",
)
# Status is last: it takes the room left, and its text is the longest.
NAME, FORMAT, SIZE, MICROSCOPE, ACQUIRED, TARGET, PROGRESS, STATUS = range(len(COLUMNS))
UNKNOWN_SHOWN = f"{UNKNOWN_MICROSCOPE} (set this PC's microscope in Settings)"

# Light backgrounds with black text stay readable in light and dark themes.
COLOURS = {
    Status.PENDING: QColor("#e4e4e4"),
    Status.QUEUED: QColor("#fff2a8"),
    Status.UPLOADING: QColor("#bfeff7"),
    Status.UPLOADED: QColor("#c4ecc4"),
    Status.DUPLICATE: QColor("#ffd49a"),
    Status.ERROR: QColor("#f7bcbc"),
}
LABELS = {
    Status.PENDING: "Pending",
    Status.QUEUED: "Queued",
    Status.UPLOADING: "Uploading",
    Status.UPLOADED: "Uploaded",
    Status.DUPLICATE: "Already on the server",
    Status.ERROR: "Error",
}
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
# Roles for tests and the view: the row's Status and the first image id.
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_ID_ROLE = Qt.ItemDataRole.UserRole + 2
PATH_ROLE = Qt.ItemDataRole.UserRole + 3


def _cause_first(message: str, name: str) -> str:
    """Lead with the cause: the row already names the file.

    ``"a.czi is not supported"`` -> ``"not supported"``;
    ``"OMERO could not import a.ome.tif: it ended early"`` ->
    ``"it ended early (OMERO could not import a.ome.tif)"``.
    """
    if not name:
        return message
    if message.startswith(name):
        rest = message[len(name) :].lstrip(" :,")
        return rest.removeprefix("is ").removeprefix("was ") or message
    stem = name.split(".")[0]
    head, sep, cause = message.partition(": ")
    if sep and stem and stem in head and cause:
        return f"{cause.rstrip('.')} ({head})"
    return message


def status_text(row: Row) -> str:
    """The Status column: the status in words, then the cause, without repeating the name."""
    label, message = LABELS[row.status], _cause_first(row.message, row.scan.path.name)
    if row.status is Status.UPLOADED and row.image_ids:
        ids = row.image_ids
        if len(ids) == 1:
            return f"Uploaded (image {ids[0]})"
        return f"Uploaded ({len(ids)} images, {ids[0]}–{ids[-1]})"
    if not message:
        return label
    if message.lower().startswith(label.lower()):
        return message[0].upper() + message[1:]
    return f"{label}: {message}"


@dataclass
class Row:
    """A top-level row: a planned file and the latest state the queue reported."""

    file: PlannedFile
    size: int
    state: FileState

    @property
    def scan(self) -> ScanEntry:
        """The scanned file."""
        return self.file.scan

    @property
    def status(self) -> Status:
        """Where the file is in the queue."""
        return self.state.status

    @property
    def message(self) -> str:
        """What the queue last said about the file."""
        return self.state.message

    @property
    def image_ids(self) -> tuple[int, ...]:
        """The file's images on OMERO, once known."""
        return self.state.image_ids

    @property
    def progress(self) -> int:
        """Percent done, 0 to 100."""
        return self.state.progress


class FileModel(QAbstractItemModel):
    """A ``QAbstractItemModel`` over scanned entries.

    Rows are appended, removed (when not uploading) or cleared;
    ``dict[path, row]`` makes a status update O(1), and it emits
    ``dataChanged`` for that row alone.  A companion file (the ``.ser`` of an
    ``.emi``, the ``.xml`` of an ``.mrc``) is a child of its main file.
    Child indexes carry their parent's row + 1 as internal id; top-level
    indexes carry 0.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._by_path: dict[Path, int] = {}

    # -- reading --------------------------------------------------------

    def rows(self) -> list[Row]:
        """The top-level rows, in order."""
        return list(self._rows)

    def row_for(self, path: Path) -> Row:
        """The row of ``path``; raises ``KeyError`` when it is not listed."""
        return self._rows[self._by_path[path]]

    def number_of(self, path: Path) -> int | None:
        """The row number of ``path``, if listed."""
        return self._by_path.get(path)

    def texts(self, column: int, rows: range) -> list[str]:
        """The text of ``column`` in the top-level ``rows``, as the cells show it (no index)."""
        return [self._text(row, column) for row in self._rows[rows.start : rows.stop]]

    def row_at(self, index: Index) -> Row | None:
        """The top-level row that ``index`` belongs to."""
        if not index.isValid():
            return None
        parent_id = index.internalId()
        return self._rows[parent_id - 1 if parent_id else index.row()]

    # -- changing -------------------------------------------------------

    def add(self, files: list[tuple[PlannedFile, int]]) -> list[Row]:
        """Append ``(file, size)`` pairs not already listed; return the new rows."""
        fresh: list[Row] = []
        seen: set[Path] = set()
        for file, size in files:
            if file.path in self._by_path or file.path in seen:
                continue
            seen.add(file.path)
            fresh.append(Row(file, size, initial_state(file)))
        if not fresh:
            return []
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for offset, row in enumerate(fresh):
            self._rows.append(row)
            self._by_path[row.scan.path] = first + offset
        self.endInsertRows()
        return fresh

    def remove(self, paths: list[Path]) -> int:
        """Remove the rows of ``paths``; return how many went."""
        numbers = sorted({self._by_path[p] for p in paths if p in self._by_path}, reverse=True)
        # Contiguous runs, last first, so the numbers of the runs still to go do not move.
        runs: list[list[int]] = []
        for number in numbers:
            if runs and runs[-1][-1] == number + 1:
                runs[-1].append(number)
            else:
                runs.append([number])
        for run in runs:
            self.beginRemoveRows(QModelIndex(), run[-1], run[0])
            del self._rows[run[-1] : run[0] + 1]
            self.endRemoveRows()
        self._by_path = {row.scan.path: number for number, row in enumerate(self._rows)}
        return len(numbers)

    def remap_microscopes(self, config: Config) -> int:
        """Map again the rows whose file names no microscope and that are not uploaded yet."""
        changed = 0
        for number, row in enumerate(self._rows):
            if row.status not in (Status.PENDING, Status.ERROR):
                continue
            fresh = remap(row.file, config)
            if fresh == row.file:
                continue
            row.file = fresh
            changed += 1
            self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))
        return changed

    def clear(self) -> None:
        """Remove every row."""
        self.beginResetModel()
        self._rows.clear()
        self._by_path.clear()
        self.endResetModel()

    def apply(self, event: EntryChanged) -> None:
        """Show the queue's new state of one file and repaint just that row (O(1))."""
        number = self._by_path[event.file.path]
        row = self._rows[number]
        row.file, row.state = event.file, event.state
        self.dataChanged.emit(
            self.index(number, 0),
            self.index(number, len(COLUMNS) - 1),
            [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, STATUS_ROLE],
        )

    # -- QAbstractItemModel ---------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        """Return the index of ``row``/``column`` under ``parent``."""
        # As hasIndex() would say, without its calls back into rowCount and columnCount:
        # the view asks for every top-level row each time rows are added.
        if row < 0 or not 0 <= column < len(COLUMNS):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self._rows) else QModelIndex()
        if row < self.rowCount(parent):
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        """Return the main file's index for a companion, else an invalid index."""
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Top-level rows, or a main file's companions."""
        if not parent.isValid():
            return len(self._rows)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        return len(self._rows[parent.row()].scan.companions)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """Whether ``parent`` has rows under it: one call where Qt's own makes two."""
        if not parent.isValid():
            return bool(self._rows)
        if parent.internalId() != 0 or parent.column() != 0:
            return False
        return bool(self._rows[parent.row()].scan.companions)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """The same columns at every level."""
        return len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Rows are selectable, never editable."""
        return _ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, colour and tooltip for one cell."""
        row = self.row_at(index)
        if row is None:
            return None
        if index.internalId() != 0:
            return self._companion_data(row, index, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, index.column())
        if role == Qt.ItemDataRole.BackgroundRole:
            return COLOURS[row.status]
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(Qt.GlobalColor.black)
        if role == Qt.ItemDataRole.ToolTipRole:
            file = row.file
            if index.column() == MICROSCOPE and file.microscope_note:
                return f"{file.microscope}: {file.microscope_note}"
            if index.column() == ACQUIRED and file.date_note:
                return f"{file.dataset}: {file.date_note}"
            return f"{row.scan.path}\n{status_text(row)}"
        if role == STATUS_ROLE:
            return row.status
        if role == IMAGE_ID_ROLE:
            return row.image_ids[0] if row.image_ids else None
        if role == PATH_ROLE:
            return str(row.scan.path)
        return None

    @staticmethod
    def _text(row: Row, column: int) -> str:
        file, scan = row.file, row.scan
        if column == NAME:
            return scan.path.name
        if column == FORMAT:
            return format_label(scan.format) if scan.format != UNSUPPORTED else "not supported"
        if column == SIZE:
            return human_bytes(row.size)
        if column == MICROSCOPE:
            # Say when the name is not the file's own (full reason in the tooltip).
            if file.microscope_source is MicroscopeSource.MAPPED:
                return f"{file.microscope} (mapped)"
            if file.microscope_source is MicroscopeSource.PC_DEFAULT:
                return f"{file.microscope} (this PC's default)"
            if scan.ok and file.microscope == UNKNOWN_MICROSCOPE:
                return UNKNOWN_SHOWN
            return file.microscope or ""
        if column == ACQUIRED:
            # Say when the date is not the acquisition time the file stores.
            note = f" ({file.date_note})" if file.date_note else ""
            return f"{file.dataset or ''}{note}"
        if column == TARGET:
            return file.target if scan.ok else ""
        if column == STATUS:
            return status_text(row)
        if column == PROGRESS:
            return f"{row.progress} %" if scan.ok and row.status is not Status.ERROR else ""
        return ""

    @staticmethod
    def _companion_data(row: Row, index: Index, role: int) -> Any:
        companion = row.scan.companions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == NAME:
                return companion.name
            if index.column() == FORMAT:
                return "companion"
            return ""
        if role == Qt.ItemDataRole.BackgroundRole:
            return COLOURS[row.status]
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(Qt.GlobalColor.black)
        if role == PATH_ROLE:
            return str(companion)
        return None
