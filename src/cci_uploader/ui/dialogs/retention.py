"""The 4-week reminder: the user's old images on OMERO, to open or delete.

Shown after connecting when OMERO holds images of this user older than the
facility's limit (``[retention] days``, 28 by default).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.omero.retention import DeleteResult, OldImage, delete_filesets, old_images
from cci_uploader.progress import human_bytes
from cci_uploader.stewardship.reminder import (
    describe_deletion,
    filesets_by_group,
    group_images,
    total_size,
    web_link,
    whole_filesets,
)
from cci_uploader.ui.dialogs.confirm import Confirm, ask

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from cci_uploader import omero as om
    from cci_uploader.config import Config
    from cci_uploader.ui.workers.tasks import ServerTasks

log = logging.getLogger(__name__)

IMAGE_ROLE = Qt.ItemDataRole.UserRole + 1
HEADERS = ("Group / Project / Dataset, image", "Images", "Size", "Imported")


def build_model(images: Sequence[OldImage], parent: QWidget | None = None) -> QStandardItemModel:
    """A checkable tree: one row per Dataset (with counts and size), its images below."""
    model = QStandardItemModel(parent)
    model.setHorizontalHeaderLabels(list(HEADERS))
    for group in group_images(images):
        top = QStandardItem(f"{group.group} / {group.project} / {group.dataset}")
        top.setCheckable(True)
        top.setUserTristate(False)
        top.setEditable(False)
        for image in group.images:
            item = QStandardItem(image.name)
            item.setCheckable(True)
            item.setEditable(False)
            item.setData(image, IMAGE_ROLE)
            top.appendRow(
                [
                    item,
                    QStandardItem(""),
                    QStandardItem(human_bytes(image.fileset_bytes)),
                    QStandardItem(f"{image.imported.astimezone():%Y-%m-%d}"),
                ]
            )
        model.appendRow(
            [
                top,
                QStandardItem(str(group.count)),
                QStandardItem(human_bytes(group.size)),
                QStandardItem(f"since {group.oldest.astimezone():%Y-%m-%d}"),
            ]
        )
    return model


class RetentionDialog(QDialog):
    """Old images grouped by Project/Dataset, with Open in OMERO.web and Delete selected.

    Parameters
    ----------
    images : sequence of OldImage
        What :func:`cci_uploader.omero.retention.old_images` found.
    conn : Connection
        The connection the deletion uses.
    config : Config
        The facility config (limit in days, OMERO.web address).
    tasks : ServerTasks
        The window's queue of server calls; the deletion runs there.
    open_url : callable
        Opens a URL in the browser.
    confirm : callable
        Asks for the explicit confirmation; returns True to go ahead.
    """

    def __init__(
        self,
        images: Sequence[OldImage],
        *,
        conn: om.Connection,
        config: Config,
        tasks: ServerTasks,
        open_url: Callable[[str], None],
        confirm: Confirm = ask,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Data older than the 4-week limit")
        self.resize(820, 460)
        self._conn, self._config, self._tasks = conn, config, tasks
        self._open_url, self._confirm = open_url, confirm
        self.images = list(images)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.open_button = QPushButton("Open in OMERO.web")
        self.delete_button = QPushButton("Delete selected from OMERO…")
        later = QPushButton("Remind me next time")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(later)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

        self.open_button.clicked.connect(self._on_open_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        later.clicked.connect(self.reject)
        self._show(self.images)

    def _show(self, images: Sequence[OldImage]) -> None:
        self.images = list(images)
        self.model = build_model(self.images, self)
        self.model.itemChanged.connect(self._on_item_changed)
        self.tree.setModel(self.model)
        self.tree.expandAll()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.intro.setText(
            f"{len(self.images)} of your images on OMERO were imported more than "
            f"{self._config.retention_days} days ago ({human_bytes(total_size(self.images))}). "
            "The facility keeps data on OMERO for at most 4 weeks: keep a copy elsewhere, "
            "then delete them here or in OMERO.web."
        )
        self.delete_button.setEnabled(bool(self.images))
        self.open_button.setEnabled(bool(self.images))

    def _on_item_changed(self, item: QStandardItem) -> None:
        # A Dataset row and its images tick together, both ways.
        state = item.checkState()
        if item.hasChildren() and state != Qt.CheckState.PartiallyChecked:
            for row in range(item.rowCount()):
                child = item.child(row, 0)
                if child.checkState() != state:
                    child.setCheckState(state)
        parent = item.parent()
        if parent is not None and item.column() == 0:
            states = {parent.child(r, 0).checkState() for r in range(parent.rowCount())}
            summary = states.pop() if len(states) == 1 else Qt.CheckState.PartiallyChecked
            if parent.checkState() != summary:
                parent.setCheckState(summary)

    def checked_images(self) -> list[OldImage]:
        """Images whose box is ticked (ticking a Dataset ticks all of its images)."""
        chosen = []
        for row in range(self.model.rowCount()):
            top = self.model.item(row, 0)
            for child in range(top.rowCount()):
                item = top.child(child, 0)
                if item.checkState() == Qt.CheckState.Checked:
                    chosen.append(item.data(IMAGE_ROLE))
        return chosen

    def _current_images(self) -> list[OldImage]:
        index = self.tree.currentIndex().siblingAtColumn(0)
        if not index.isValid():
            return []
        image = index.data(IMAGE_ROLE)
        if image is not None:
            return [image]
        item = self.model.itemFromIndex(index)
        return [item.child(r, 0).data(IMAGE_ROLE) for r in range(item.rowCount())]

    def _on_open_clicked(self) -> None:
        images = self.checked_images() or self._current_images() or self.images
        self._open_url(web_link(self._config.web_url, images))

    def _on_delete_clicked(self) -> None:
        selected = self.checked_images()
        if not selected:
            self.status_label.setText("Tick the images or Datasets to delete first.")
            return
        doomed = whole_filesets(selected, self.images)
        extra = len(doomed) - len(selected)
        note = (
            f"\n\n{extra} more image(s) go too: OMERO deletes whole filesets, and they share "
            "a fileset with what you ticked."
            if extra
            else ""
        )
        text = describe_deletion(doomed) + note + "\n\nThis cannot be undone."
        if not self._confirm(self, "Delete from OMERO", text, f"Delete {len(doomed)} image(s)"):
            self.status_label.setText("Nothing was deleted.")
            return
        self.delete_button.setEnabled(False)
        self.status_label.setText("Deleting from OMERO…")
        self._tasks.call(
            delete_filesets,
            self._conn,
            filesets_by_group(doomed),
            on_done=self._on_deleted,
            on_error=self._on_delete_failed,
        )

    def _on_deleted(self, result: DeleteResult) -> None:
        gone = set(result.fileset_ids)
        self._show([i for i in self.images if i.fileset_id not in gone])
        self.status_label.setText(
            f"Deleted {len(result.fileset_ids)} fileset(s) with {len(result.image_ids)} "
            "image(s) from OMERO." + (f" {result.note}" if result.note else "")
        )

    def _on_delete_failed(self, exc: BaseException) -> None:
        self.delete_button.setEnabled(True)
        self.status_label.setText(f"Nothing more was deleted: {exc}")


def remind_if_old_images(
    parent: QWidget,
    *,
    conn: om.Connection,
    config: Config,
    tasks: ServerTasks,
    open_url: Callable[[str], None],
    on_shown: Callable[[RetentionDialog], None] | None = None,
) -> None:
    """Ask OMERO (in ``tasks``) for old images; show the reminder if there are any.

    Call this once after a successful connect.  Errors are logged and shown
    nowhere: the reminder must never block an upload.
    """

    def found(images: list[OldImage]) -> None:
        if not images:
            return
        dialog = RetentionDialog(
            images, conn=conn, config=config, tasks=tasks, open_url=open_url, parent=parent
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        if on_shown is not None:
            on_shown(dialog)

    def failed(exc: BaseException) -> None:
        log.warning("the 4-week check failed: %s", exc)

    tasks.call(old_images, conn, config.retention_days, on_done=found, on_error=failed)
