"""The file tree with Add files, Add folder and Clear."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.formats import file_dialog_filter
from cci_uploader.pipeline import Status
from cci_uploader.ui.models.files import (
    IMAGE_ID_ROLE,
    NAME,
    PATH_ROLE,
    PROGRESS,
    STATUS_ROLE,
    FileModel,
    status_text,
)
from cci_uploader.ui.widgets.column_fit import STATUS_MIN as STATUS_MIN
from cci_uploader.ui.widgets.column_fit import ColumnFitter
from cci_uploader.ui.widgets.progress_delegate import RowDelegate

FilePicker = Callable[[QWidget], list[Path]]


def pick_files(parent: QWidget) -> list[Path]:
    """Ask for files with the system dialog."""
    names, _ = QFileDialog.getOpenFileNames(parent, "Add files", "", file_dialog_filter())
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
    remove_requested = Signal(list)  # paths of the rows to take off the list
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
        self.add_files_button = QPushButton("Add &files…")
        self.add_folder_button = QPushButton("Add f&older…")
        self.remove_button = QPushButton("Re&move selected")
        self.remove_button.setToolTip("Take the selected files off the list (Delete key)")
        self.clear_button = QPushButton("C&lear")
        self.clear_button.setToolTip("Take every file off the list")
        self._editable = True
        self._follow = True  # scroll to the file being uploaded, unless the user scrolled away
        self._active: QPersistentModelIndex | None = None
        self.view = QTreeView()
        self.view.setModel(model)
        self.view.setAlternatingRowColors(False)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setItemDelegate(RowDelegate(self.view))
        header = self.view.header()
        header.setStretchLastSection(True)  # Status, the last column, takes the room left
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(PROGRESS, 96)
        header.setMinimumSectionSize(60)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view.setWordWrap(False)
        self.view.setToolTip(
            "Drop files or folders here. Double-click a green row to see it in OMERO. "
            "Right-click or press Delete to remove rows."
        )
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.delete_shortcut = QShortcut(QKeySequence.StandardKey.Delete, self.view)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_shortcut.activated.connect(self._on_remove_clicked)
        self.view.verticalScrollBar().actionTriggered.connect(self._on_user_scrolled)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.remove_button)
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
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.view.doubleClicked.connect(self._on_double_clicked)
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self._on_model_reset)
        selection = self.view.selectionModel()
        selection.currentChanged.connect(self._on_current_changed)
        selection.selectionChanged.connect(self._on_selection_changed)
        self._on_model_reset()
        self.columns = ColumnFitter(self.view, model)

    @property
    def _natural(self) -> dict[int, int]:
        """Each column's fitted width before giving way (for tests)."""
        return self.columns.natural

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [
            self.add_files_button,
            self.add_folder_button,
            self.remove_button,
            self.clear_button,
            self.view,
        ]

    def set_editable(self, editable: bool) -> None:
        """Adding, removing and clearing wait while the queue runs."""
        self._editable = editable
        for button in (self.add_files_button, self.add_folder_button, self.clear_button):
            button.setEnabled(editable)
        self._on_selection_changed()

    def selected_paths(self) -> list[Path]:
        """The main files of the selected rows (a selected companion stands for its file)."""
        paths: dict[str, None] = {}
        for index in self.view.selectionModel().selectedRows(NAME):
            top = index.parent() if index.parent().isValid() else index
            paths[str(top.data(PATH_ROLE))] = None
        return [Path(p) for p in paths]

    # -- following the queue ------------------------------------------------

    def follow_active(self, follow: bool) -> None:
        """Scroll to each file as it uploads (a new run starts following again)."""
        self._follow = follow
        self._active = None

    def show_active(self, path: Path) -> None:
        """``path`` is uploading: bring its row into view, unless the user looks elsewhere."""
        number = self.model.number_of(path)
        if number is None or (self._active is not None and self._active.row() == number):
            return  # the same file again (each chunk): nothing to move
        self._active = QPersistentModelIndex(self.model.index(number, NAME))
        if self._follow:
            hint = QAbstractItemView.ScrollHint.EnsureVisible
            self.view.scrollTo(self.model.index(number, NAME), hint)

    def _on_user_scrolled(self, action: int) -> None:
        if action == QAbstractSlider.SliderAction.SliderNoAction.value:
            return
        # The action comes before the move: look once the scroll bar has moved.
        QTimer.singleShot(0, self._on_scrolled_by_user)

    def _on_scrolled_by_user(self) -> None:
        """Scrolling back to the active row follows again; scrolling away stops following."""
        active = self._active
        if active is None or not active.isValid():
            self._follow = False
            return
        rect = self.view.visualRect(self.model.index(active.row(), NAME))
        self._follow = self.view.viewport().rect().intersects(rect)

    # -- removing -------------------------------------------------------------

    def _on_selection_changed(self, *_: object) -> None:
        self.remove_button.setEnabled(self._editable and self.view.selectionModel().hasSelection())

    def _on_remove_clicked(self) -> None:
        if self._editable and (paths := self.selected_paths()):
            self.remove_requested.emit(paths)

    def _on_context_menu_requested(self, point: QPoint) -> None:
        index = self.view.indexAt(point)
        if not index.isValid():
            return
        top = index.parent() if index.parent().isValid() else index
        if not self.view.selectionModel().isSelected(top.siblingAtColumn(NAME)):
            self.view.setCurrentIndex(top.siblingAtColumn(NAME))
        self.menu = QMenu(self.view)
        count = len(self.selected_paths())
        remove = self.menu.addAction(
            "Remove from the list" if count == 1 else f"Remove {count} files from the list"
        )
        remove.setEnabled(self._editable)
        remove.triggered.connect(self._on_remove_clicked)
        self.menu.popup(self.view.viewport().mapToGlobal(point))

    def _on_add_files_clicked(self) -> None:
        if paths := self._choose_files(self):
            self.paths_chosen.emit(paths)

    def _on_add_folder_clicked(self) -> None:
        if paths := self._choose_folder(self):
            self.paths_chosen.emit(paths)

    def _on_clear_clicked(self) -> None:
        self.clear_requested.emit()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        """A green row shows the image in OMERO (the window decides how)."""
        top = index.siblingAtColumn(NAME) if not index.parent().isValid() else index.parent()
        # Through QVariant the StrEnum arrives as its plain string value.
        if top.data(STATUS_ROLE) == Status.UPLOADED:
            image_id = top.data(IMAGE_ID_ROLE)
            if image_id is not None:
                self.image_opened.emit(int(image_id))

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
