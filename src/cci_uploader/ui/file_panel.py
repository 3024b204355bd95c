"""The file tree with Add files, Add folder and Clear."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.pipeline import Status
from cci_uploader.ui.file_model import (
    IMAGE_ID_ROLE,
    MICROSCOPE,
    NAME,
    PROGRESS,
    STATUS,
    STATUS_ROLE,
    TARGET,
    FileModel,
    status_text,
)
from cci_uploader.ui.progress_delegate import RowDelegate

FilePicker = Callable[[QWidget], list[Path]]
# Widest a column grows on its own, so that the Status column keeps room.
CAPS = {NAME: 260, MICROSCOPE: 240, TARGET: 400}


def pick_files(parent: QWidget) -> list[Path]:
    """Ask for files with the system dialog."""
    names, _ = QFileDialog.getOpenFileNames(parent, "Add files")
    return [Path(n) for n in names]


def pick_folder(parent: QWidget) -> list[Path]:
    """Ask for one folder with the system dialog."""
    name = QFileDialog.getExistingDirectory(parent, "Add folder")
    return [Path(name)] if name else []


class FilePanel(QWidget):
    """The list of files to upload, as a tree (companions under their main file).

    Parameters
    ----------
    model : FileModel
        The rows to show.
    choose_files, choose_folder : callable
        Return the paths the user picked; the system dialogs by default.
    """

    paths_chosen = Signal(list)
    clear_requested = Signal()
    image_opened = Signal(int)

    def __init__(
        self,
        model: FileModel,
        choose_files: FilePicker = pick_files,
        choose_folder: FilePicker = pick_folder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._choose_files = choose_files
        self._choose_folder = choose_folder
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add folder…")
        self.clear_button = QPushButton("Clear")
        self.view = QTreeView()
        self.view.setModel(model)
        self.view.setAlternatingRowColors(False)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setItemDelegate(RowDelegate(self.view))
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(PROGRESS, 96)
        header.setMinimumSectionSize(60)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view.setWordWrap(False)
        self.view.setToolTip(
            "Drop files or folders here. Double-click a green row to open it in OMERO.web."
        )

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)

        self.add_files_button.clicked.connect(self._on_add_files_clicked)
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.clear_button.clicked.connect(self._on_clear_clicked)
        self.view.doubleClicked.connect(self._on_double_clicked)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self._on_model_reset)
        selection = self.view.selectionModel()
        selection.currentChanged.connect(self._on_current_changed)
        self._on_model_reset()
        self._fit_columns()

    def set_editable(self, editable: bool) -> None:
        """Adding and clearing wait while the queue runs."""
        for button in (self.add_files_button, self.add_folder_button, self.clear_button):
            button.setEnabled(editable)

    def _on_add_files_clicked(self) -> None:
        if paths := self._choose_files(self):
            self.paths_chosen.emit(paths)

    def _on_add_folder_clicked(self) -> None:
        if paths := self._choose_folder(self):
            self.paths_chosen.emit(paths)

    def _on_clear_clicked(self) -> None:
        self.clear_requested.emit()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        top = index.siblingAtColumn(NAME) if not index.parent().isValid() else index.parent()
        # Through QVariant the StrEnum arrives as its plain string value.
        if top.data(STATUS_ROLE) == Status.UPLOADED:
            image_id = top.data(IMAGE_ID_ROLE)
            if image_id is not None:
                self.image_opened.emit(int(image_id))

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Fit each column before Status to its title and text, up to its cap."""
        header = self.view.header()
        for column in range(STATUS):
            width = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
            header.resizeSection(column, min(width + 8, CAPS.get(column, width + 8)))

    def _show_details(self, index: QModelIndex) -> None:
        row = self.model.row_at(index)
        if row is None:
            self._on_model_reset()
            return
        self.details.setText(
            f"<b>{html.escape(row.scan.path.name)}</b>: {html.escape(status_text(row))}"
        )

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._show_details(current)

    def _on_data_changed(self, top_left: QModelIndex, *_: object) -> None:
        current = self.view.currentIndex()
        if current.isValid() and self.model.row_at(current) is self.model.row_at(top_left):
            self._show_details(current)

    def _on_model_reset(self) -> None:
        self.details.setText("Select a row to read its full status here.")
