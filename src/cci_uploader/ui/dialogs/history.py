"""The History window: past uploads, filtered by date and status.

It exports CSV, and offers "Remove local copies" (verified against OMERO
before anything goes).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.stewardship.history import (
    STATUS_FILTERS,
    History,
    HistoryError,
    Upload,
    select,
    write_csv,
)
from cci_uploader.stewardship.removal import Action, Outcome, remove_local_copies
from cci_uploader.ui.dialogs.confirm import Confirm, ask
from cci_uploader.ui.models.history import UPLOAD_ROLE, HistoryModel

if TYPE_CHECKING:
    from cci_uploader import omero as om
    from cci_uploader.config import Config
    from cci_uploader.ui.workers.tasks import ServerTasks

ALL = "All"
NAME_CAP = 360  # widest a column grows on its own
ChooseSavePath = Callable[[QWidget], Path | None]


def choose_csv_path(parent: QWidget) -> Path | None:
    """Ask where to save the CSV file."""
    name, _ = QFileDialog.getSaveFileName(
        parent, "Export upload history", "upload-history.csv", "CSV files (*.csv)"
    )
    return Path(name) if name else None


def _date_filter(label: str) -> tuple[QCheckBox, QDateEdit]:
    check = QCheckBox(label)
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setEnabled(False)
    check.toggled.connect(edit.setEnabled)
    return check, edit


class HistoryWindow(QDialog):
    """Lists the uploads recorded on this computer.

    Parameters
    ----------
    history : History
        The upload history database.
    config : Config
        The facility config (how local copies are removed).
    connection : callable
        Returns the current OMERO connection, or None when not connected.
    tasks : ServerTasks
        The window's queue of server calls; removal runs there.
    """

    def __init__(
        self,
        *,
        history: History,
        config: Config,
        connection: Callable[[], om.Connection | None],
        tasks: ServerTasks,
        choose_save_path: ChooseSavePath = choose_csv_path,
        confirm: Confirm = ask,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Upload history")
        self.resize(1000, 520)
        self._history, self._config, self._connection = history, config, connection
        self._tasks, self._choose_save_path, self._confirm = tasks, choose_save_path, confirm
        self._all: list[Upload] = []

        self.from_check, self.from_edit = _date_filter("From")
        self.to_check, self.to_edit = _date_filter("to")
        self.status_combo = QComboBox()
        self.status_combo.addItems([ALL, *STATUS_FILTERS])
        filters = QHBoxLayout()
        for widget in (self.from_check, self.from_edit, self.to_check, self.to_edit):
            filters.addWidget(widget)
        filters.addSpacing(16)
        filters.addWidget(QLabel("Status"))
        filters.addWidget(self.status_combo)
        filters.addStretch(1)

        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Long names lose their middle, not their end (where the extension is); hover shows all.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)

        self.count_label = QLabel()
        self.export_button = QPushButton("Export CSV…")
        self.remove_button = QPushButton("Remove local copies…")
        self.remove_button.setToolTip(
            "Removes the files on this computer whose upload OMERO verifiably holds "
            "(same SHA-1). Changed files, and files no longer on OMERO, are kept."
        )
        close = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label, 1)
        for button in (self.export_button, self.remove_button, close):
            buttons.addWidget(button)

        self.results = QPlainTextEdit()
        self.results.setReadOnly(True)
        self.results.setMaximumHeight(140)
        self.results.setPlaceholderText("What Remove local copies did, file by file, shows here.")

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.results)

        for check in (self.from_check, self.to_check):
            check.toggled.connect(self._on_filter_changed)
        for edit in (self.from_edit, self.to_edit):
            edit.dateChanged.connect(self._on_filter_changed)
        self.status_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        close.clicked.connect(self.close)
        self.reload()

    # -- data -------------------------------------------------------------

    def reload(self) -> None:
        """Read the history again and apply the filters."""
        try:
            self._all = self._history.uploads()
        except HistoryError as exc:
            self._all = []
            self.results.appendPlainText(str(exc))
        self._on_filter_changed()

    def _date(self, check: QCheckBox, edit: QDateEdit) -> dt.date | None:
        if not check.isChecked():
            return None
        day = edit.date()
        return dt.date(day.year(), day.month(), day.day())

    def _on_filter_changed(self) -> None:
        status = self.status_combo.currentText()
        shown = select(
            self._all,
            since=self._date(self.from_check, self.from_edit),
            until=self._date(self.to_check, self.to_edit),
            status=None if status == ALL else status,
        )
        self.model.set_uploads(shown)
        self._fit_columns()
        self.count_label.setText(f"{len(shown)} of {len(self._all)} uploads shown")
        self.export_button.setEnabled(bool(shown))

    def _fit_columns(self) -> None:
        """Each column as wide as its text, up to a cap; longer text is elided in the middle."""
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            width = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
            header.resizeSection(column, min(width + 12, NAME_CAP))

    def selected_uploads(self) -> list[Upload]:
        """The selected rows' uploads, or every upload shown when none is selected."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        uploads = [self.model.index(r, 0).data(UPLOAD_ROLE) for r in rows]
        return uploads or self.model.uploads()

    # -- export -----------------------------------------------------------

    def _on_export_clicked(self) -> None:
        path = self._choose_save_path(self)
        if path is None:
            return
        if path.suffix.lower() != ".csv":
            path = path.with_suffix(".csv")
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                write_csv(self.model.uploads(), out)
        except OSError as exc:
            self.results.appendPlainText(f"The CSV could not be written to {path}: {exc.strerror}")
            return
        self.results.appendPlainText(f"Exported {self.model.rowCount()} uploads to {path}.")

    # -- remove local copies ------------------------------------------------

    def _on_remove_clicked(self) -> None:
        conn = self._connection()
        if conn is None:
            self.results.appendPlainText(
                "Connect to OMERO first: each file is checked against OMERO before it goes."
            )
            return
        uploads = [u for u in self.selected_uploads() if u.removed is None]
        if not uploads:
            self.results.appendPlainText("Nothing to remove: those local copies are gone already.")
            return
        files = [s.path for u in uploads for s in u.sources]
        where = (
            "to the recycle bin" if self._config.delete_mode == "recycle" else "deleted for good"
        )
        listing = "\n".join(f"- {p}" for p in files[:20])
        more = f"\n… and {len(files) - 20} more" if len(files) > 20 else ""
        text = (
            f"Check {len(files)} file(s) against OMERO and remove those OMERO holds "
            f"verifiably ({where})?\n\n{listing}{more}\n\n"
            "A file that changed since upload, or whose images are no longer on OMERO, is "
            "kept. Companion files go with their main file or not at all."
        )
        if not self._confirm(self, "Remove local copies", text, "Remove verified files"):
            return
        self.remove_button.setEnabled(False)
        self._tasks.generate(
            functools.partial(remove_local_copies, mode=self._config.delete_mode),
            conn,
            self._history,
            uploads,
            on_yield=self._on_outcome,
            on_done=self._on_remove_done,
            on_error=self._on_remove_failed,
        )

    def _on_outcome(self, outcome: Outcome) -> None:
        names = ", ".join(p.name for p in outcome.paths)
        self.results.appendPlainText(f"{outcome.action.value}: {names}: {outcome.reason}")
        if outcome.action is Action.KEPT:
            self.results.appendPlainText("")

    def _on_remove_done(self, _: object = None) -> None:
        self.remove_button.setEnabled(True)
        self.reload()

    def _on_remove_failed(self, exc: BaseException) -> None:
        self.results.appendPlainText(f"Stopped: {exc}")
        self._on_remove_done()


def show_history_window(
    parent: QWidget,
    *,
    config: Config,
    connection: Callable[[], om.Connection | None],
    tasks: ServerTasks,
    history: History | None = None,
) -> HistoryWindow:
    """Open (non-modal) the History window over ``parent`` and return it."""
    window = HistoryWindow(
        history=history or History(),
        config=config,
        connection=connection,
        tasks=tasks,
        parent=parent,
    )
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.show()
    return window
